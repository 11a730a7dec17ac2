package io.github.podcidr.apiserver.real;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.models.V1Node;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.VersionInfo;
import io.kubernetes.client.openapi.apis.VersionApi;
import io.kubernetes.client.util.Config;
import java.io.StringReader;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The launcher itself: kube-apiserver 1.20.2 on etcd answers the official client over verified TLS, the admin
 * token is a cluster admin, a service account has no rights until RBAC grants them, and the audit log records
 * who was refused.
 */
class RealControlPlaneRealIT {
    private static RealControlPlane cp;

    @BeforeAll
    static void start() {
        cp = RealControlPlane.builder().serviceAccount("kube-system", "podcidr-controller").start();
    }

    @AfterAll
    static void stop() {
        if (cp != null) {
            cp.close();
        }
    }

    @Test
    void servesKubernetes120OverVerifiedTls() throws Exception {
        ApiClient admin = Config.fromConfig(new StringReader(cp.adminKubeconfig()));
        VersionInfo v = new VersionApi(admin).getCode().execute();
        assertEquals("v1.20.2", v.getGitVersion());
        CoreV1Api core = new CoreV1Api(admin);
        V1Node created = core.createNode(new V1Node().metadata(new V1ObjectMeta().name("smoke-1"))).execute();
        assertEquals("smoke-1", created.getMetadata().getName());
        assertTrue(core.listNode().execute().getItems().stream()
                .anyMatch(n -> n.getMetadata().getName().equals("smoke-1")));
        core.deleteNode("smoke-1").execute();
    }

    @Test
    void serviceAccountWithoutRbacIsForbiddenAndAudited() throws Exception {
        ApiClient sa = Config.fromConfig(new StringReader(
                cp.kubeconfig(cp.serviceAccountToken("kube-system", "podcidr-controller"))));
        ApiException e = assertThrows(ApiException.class, () -> new CoreV1Api(sa).listNode().execute());
        assertEquals(403, e.getCode());
        List<RealControlPlane.AuditEvent> refused = cp.auditEvents().stream()
                .filter(a -> a.code() == 403 && a.resource().equals("nodes")).toList();
        assertEquals(1, refused.size(), refused.toString());
        assertEquals("system:serviceaccount:kube-system:podcidr-controller", refused.get(0).user());
        assertEquals("list", refused.get(0).verb());
    }

    @Test
    void stopsAndCleansUp() {
        RealControlPlane other = RealControlPlane.builder().start();
        assertTrue(other.isRunning());
        other.close();
        assertFalse(other.isRunning());
        other.close();
    }
}
