package io.github.podcidr.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import okhttp3.CipherSuite;
import okhttp3.ConnectionSpec;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.Test;

class TlsCipherOrderTest {
    @Test
    void chachaSuitesMoveToTheFrontAndEachGroupKeepsItsOrder() {
        ConnectionSpec spec = new ConnectionSpec.Builder(ConnectionSpec.MODERN_TLS).cipherSuites(
                CipherSuite.TLS_AES_128_GCM_SHA256, CipherSuite.TLS_AES_256_GCM_SHA384,
                CipherSuite.TLS_CHACHA20_POLY1305_SHA256, CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
                CipherSuite.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
                CipherSuite.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256).build();
        ConnectionSpec ordered = TlsCipherOrder.chachaFirst(spec);
        assertEquals(List.of(CipherSuite.TLS_CHACHA20_POLY1305_SHA256,
                CipherSuite.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
                CipherSuite.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, CipherSuite.TLS_AES_128_GCM_SHA256,
                CipherSuite.TLS_AES_256_GCM_SHA384, CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256),
                ordered.cipherSuites());
        assertEquals(spec.tlsVersions(), ordered.tlsVersions());
        assertEquals(spec.supportsTlsExtensions(), ordered.supportsTlsExtensions());
        assertSame(ConnectionSpec.CLEARTEXT, TlsCipherOrder.chachaFirst(ConnectionSpec.CLEARTEXT));
    }

    @Test
    void theClientKeepsEverythingButTheOrder() {
        OkHttpClient http = new OkHttpClient.Builder().addInterceptor(chain -> chain.proceed(chain.request()))
                .build();
        OkHttpClient chacha = TlsCipherOrder.preferChacha(http);
        assertSame(http.sslSocketFactory(), chacha.sslSocketFactory());
        assertSame(http.x509TrustManager(), chacha.x509TrustManager());
        assertEquals(http.protocols(), chacha.protocols());
        assertEquals(http.interceptors(), chacha.interceptors());
        assertEquals(http.connectionSpecs().size(), chacha.connectionSpecs().size());
        for (int i = 0; i < http.connectionSpecs().size(); i++) {
            ConnectionSpec before = http.connectionSpecs().get(i);
            ConnectionSpec after = chacha.connectionSpecs().get(i);
            assertEquals(before.isTls(), after.isTls());
            assertEquals(before.tlsVersions(), after.tlsVersions());
            if (before.cipherSuites() != null) {
                assertEquals(before.cipherSuites().size(), after.cipherSuites().size());
                assertTrue(after.cipherSuites().containsAll(before.cipherSuites()));
                assertTrue(after.cipherSuites().get(0).javaName().contains("CHACHA20"), after.toString());
            }
        }
    }

    @Test
    void theTestJvmHasC2AndAJvmStoppedAtLevelOneDoesNot() throws Exception {
        assertTrue(TlsCipherOrder.hasC2(), "surefire's JVM runs with its default compilers");
        assertEquals("false", hasC2In("-XX:TieredStopAtLevel=1"));
        assertEquals("true", hasC2In("-XX:TieredStopAtLevel=4"));
        assertEquals("true", hasC2In("-XX:-TieredCompilation"));
    }

    private static String hasC2In(String flag) throws Exception {
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), flag,
                "-cp", System.getProperty("java.class.path"), HasC2.class.getName()).redirectErrorStream(true)
                .start();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        p.getInputStream().transferTo(out);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        return out.toString(StandardCharsets.UTF_8).strip();
    }

    /** Prints {@link TlsCipherOrder#hasC2()} of its JVM. */
    static final class HasC2 {
        public static void main(String[] args) {
            System.out.println(TlsCipherOrder.hasC2());
        }
    }
}
