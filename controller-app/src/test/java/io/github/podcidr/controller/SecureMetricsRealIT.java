package io.github.podcidr.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.podcidr.apiserver.real.RealControlPlane;
import io.prometheus.client.CollectorRegistry;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The secured metrics address against kube-apiserver 1.20 (issue 28, item 3): the controller runs as a
 * ServiceAccount with the chart's rules (create on tokenreviews and subjectaccessreviews among them) and
 * {@code --metrics-secure}; /metrics over TLS answers 401 without a token, 403 to a ServiceAccount that is not bound
 * to the chart's metrics-reader ClusterRole, 200 with Prometheus text to one that is (and /status, /status.json);
 * /healthz on the probe port answers plain HTTP without a token.
 */
class SecureMetricsRealIT {
    private static final String NAMESPACE = "kube-system";
    private static final String CONTROLLER = "podcidr-controller";
    private static final String PROMETHEUS = "prometheus";
    private static final String NOBODY = "nobody";

    @TempDir
    Path dir;

    @Test
    void noTokenIs401ATokenWithoutTheRole403WithIt200() throws Exception {
        try (RealControlPlane cp = RealControlPlane.builder().serviceAccount(NAMESPACE, CONTROLLER)
                .serviceAccount("monitoring", PROMETHEUS).serviceAccount("default", NOBODY).start()) {
            HttpClient admin = HttpClient.newBuilder().sslContext(cp.sslContext())
                    .version(HttpClient.Version.HTTP_1_1).build();
            // the chart's ClusterRole (templates/clusterrole.yaml) and its metrics-reader
            post(cp, admin, "/apis/rbac.authorization.k8s.io/v1/clusterroles", """
                    {"metadata":{"name":"podcidr-controller"},"rules":[
                     {"apiGroups":[""],"resources":["nodes"],"verbs":["get","list","watch","patch"]},
                     {"apiGroups":[""],"resources":["events"],"verbs":["create","patch"]},
                     {"apiGroups":["events.k8s.io"],"resources":["events"],"verbs":["create","patch"]},
                     {"apiGroups":["coordination.k8s.io"],"resources":["leases"],"verbs":["get","create","update"]},
                     {"apiGroups":["authentication.k8s.io"],"resources":["tokenreviews"],"verbs":["create"]},
                     {"apiGroups":["authorization.k8s.io"],"resources":["subjectaccessreviews"],
                      "verbs":["create"]}]}""");
            post(cp, admin, "/apis/rbac.authorization.k8s.io/v1/clusterroles", """
                    {"metadata":{"name":"podcidr-controller-metrics-reader"},"rules":[
                     {"nonResourceURLs":["/metrics","/status","/status.json"],"verbs":["get"]}]}""");
            bind(cp, admin, "podcidr-controller", NAMESPACE, CONTROLLER);
            bind(cp, admin, "podcidr-controller-metrics-reader", "monitoring", PROMETHEUS);
            Path kubeconfig = cp.writeKubeconfig(dir.resolve("sa.kubeconfig"),
                    cp.serviceAccountToken(NAMESPACE, CONTROLLER));

            ControllerFlags.Result r = ControllerFlags.parse(new String[] {"--kubeconfig=" + kubeconfig,
                "--cluster-cidr=10.244.0.0/16", "--metrics-secure=true", "--metrics-bind-address=127.0.0.1:0",
                "--health-probe-bind-address=127.0.0.1:0"}, Map.of("POD_NAME", "secure-0",
                "POD_NAMESPACE", NAMESPACE));
            assertTrue(r.ok(), () -> r.errors().toString());
            try (ControllerApp app = ControllerApp.start(r.flags(), KubeClients.of(kubeconfig.toString(), 50, 100,
                    false), new CollectorRegistry(), () -> { })) {
                ControllerAppTest.await(() -> app.runner().isReady(), "the controller leads and is ready");
                HttpClient https = SecureMetricsTest.trustingAnything();

                HttpResponse<String> none = SecureMetricsTest.get(https, "https", app.metricsAddress(), "/metrics",
                        null);
                assertEquals(401, none.statusCode(), none::body);

                HttpResponse<String> nobody = SecureMetricsTest.get(https, "https", app.metricsAddress(),
                        "/metrics", cp.serviceAccountToken("default", NOBODY));
                assertEquals(403, nobody.statusCode(), nobody::body);
                assertTrue(nobody.body().contains("system:serviceaccount:default:nobody"), nobody::body);

                String reader = cp.serviceAccountToken("monitoring", PROMETHEUS);
                HttpResponse<String> metrics = SecureMetricsTest.get(https, "https", app.metricsAddress(),
                        "/metrics", reader);
                assertEquals(200, metrics.statusCode(), metrics::body);
                assertTrue(metrics.body().contains("# TYPE podcidr_leader gauge"), metrics::body);
                assertTrue(metrics.headers().firstValue("Content-Type").orElse("").startsWith("text/plain;"
                        + " version=0.0.4"));
                SSLSession tls = metrics.sslSession().orElseThrow();
                String subject = ((X509Certificate) tls.getPeerCertificates()[0]).getSubjectX500Principal()
                        .getName();
                assertEquals("CN=podcidr-controller", subject, "the self-signed certificate");
                for (String page : new String[] {"/status", "/status.json"}) {
                    HttpResponse<String> p = SecureMetricsTest.get(https, "https", app.metricsAddress(), page,
                            reader);
                    assertEquals(200, p.statusCode(), page + ": " + p.body());
                }

                HttpResponse<String> healthz = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
                        "http://127.0.0.1:" + app.probeAddress().getPort() + "/healthz"))
                        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
                assertEquals(200, healthz.statusCode(), healthz::body);
                System.out.printf("SecureMetricsRealIT: no token %d, %s %d, %s %d (%d bytes of metrics),"
                        + " /healthz plain %d, TLS %s%n", none.statusCode(), NOBODY, nobody.statusCode(), PROMETHEUS,
                        metrics.statusCode(), metrics.body().length(), healthz.statusCode(), tls.getProtocol());

                // Issue 26 item 1 on the real tier: 16 clients stalled mid-request on each port starve neither the
                // probes nor the scrape (HttpEndpointsStallTest does the same, and the 1,000 slow clients, on the sim)
                List<Socket> stalled = new ArrayList<>();
                try {
                    for (int i = 0; i < 16; i++) {
                        stalled.add(HttpEndpointsStallTest.stall(app.probeAddress()));
                        stalled.add(HttpEndpointsStallTest.stall(app.metricsAddress()));
                    }
                    Thread.sleep(200); // the server has read the half lines
                    HttpClient plain = HttpClient.newHttpClient();
                    for (String[] probe : new String[][] {{"http", "/healthz"}, {"http", "/readyz"},
                            {"https", "/metrics"}}) {
                        boolean scrape = probe[0].equals("https");
                        long t0 = System.nanoTime();
                        HttpResponse<String> a = SecureMetricsTest.get(scrape ? https : plain, probe[0],
                                scrape ? app.metricsAddress() : app.probeAddress(), probe[1], scrape ? reader : null);
                        long millis = (System.nanoTime() - t0) / 1_000_000;
                        System.out.printf("SecureMetricsRealIT: %s answered %d in %d ms beside 16 stalled"
                                + " connections per port%n", probe[1], a.statusCode(), millis);
                        assertEquals(200, a.statusCode(), probe[1] + ": " + a.body());
                        assertTrue(millis < HttpEndpointsStallTest.ANSWER_WITHIN_MILLIS, probe[1] + " took " + millis
                                + " ms");
                    }
                } finally {
                    for (Socket s : stalled) {
                        s.close();
                    }
                }
            }
        }
    }

    private static void bind(RealControlPlane cp, HttpClient admin, String role, String namespace, String sa)
            throws Exception {
        post(cp, admin, "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", """
                {"metadata":{"name":"%s-%s"},
                 "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"%s"},
                 "subjects":[{"kind":"ServiceAccount","namespace":"%s","name":"%s"}]}"""
                .formatted(role, sa, role, namespace, sa));
    }

    private static void post(RealControlPlane cp, HttpClient http, String path, String body) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(cp.baseUrl() + path))
                .header("Authorization", "Bearer " + cp.adminToken()).header("Content-Type", "application/json")
                .timeout(Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(201, r.statusCode(), r.body());
    }
}
