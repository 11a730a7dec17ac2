package io.github.podcidr.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.podcidr.apiserver.real.RealControlPlane;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.util.ClientBuilder;
import io.kubernetes.client.util.KubeConfig;
import java.io.StringReader;
import okhttp3.ConnectionPool;
import okhttp3.OkHttpClient;
import okhttp3.Protocol;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * kube-apiserver 1.20 (Go's TLS server) takes ChaCha20-Poly1305 when the controller's client offers it first, and
 * AES-GCM when it offers the JDK's order; HTTP/2 is negotiated either way.
 */
class TlsCipherOrderRealIT {
    private static RealControlPlane cp;

    @BeforeAll
    static void start() {
        cp = RealControlPlane.builder().start();
    }

    @AfterAll
    static void stop() {
        if (cp != null) {
            cp.close();
        }
    }

    @Test
    void theServerTakesTheFirstOfferedCipher() throws Exception {
        OkHttpClient jdkOrder = client();
        Response plain = get(jdkOrder);
        assertTrue(plain.handshake().cipherSuite().javaName().contains("AES"),
                "JDK order: " + plain.handshake().cipherSuite());
        // a derived client shares its pool: a pool of its own, so the AES connection is not reused
        Response chacha = get(TlsCipherOrder.preferChacha(client().newBuilder().connectionPool(new ConnectionPool())
                .build()));
        assertEquals("TLS_CHACHA20_POLY1305_SHA256", chacha.handshake().cipherSuite().javaName());
        assertEquals("TLSv1.3", chacha.handshake().tlsVersion().javaName());
        assertEquals(Protocol.HTTP_2, chacha.protocol());
        assertEquals(Protocol.HTTP_2, plain.protocol());
    }

    private static OkHttpClient client() throws Exception {
        ApiClient api = ClientBuilder.kubeconfig(KubeConfig.loadKubeConfig(new StringReader(cp.adminKubeconfig())))
                .build();
        return api.getHttpClient();
    }

    private static Response get(OkHttpClient http) throws Exception {
        try (Response r = http.newCall(new Request.Builder().url(cp.baseUrl() + "/version").build()).execute()) {
            assertEquals(200, r.code(), r.body().string());
            return r;
        }
    }
}
