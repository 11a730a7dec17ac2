package io.github.podcidr.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.prometheus.client.CollectorRegistry;
import io.prometheus.client.Counter;
import java.io.IOException;
import java.io.Writer;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The metrics address with --metrics-secure: HTTPS, 401/403/200 from the reviews, the decisions' cache, the probes
 * open. The reviews go over HTTP to a small local server that answers TokenReviews and SubjectAccessReviews as
 * kube-apiserver does (the simulator serves neither); {@code SecureMetricsRealIT} asks the real one.
 */
class SecureMetricsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final BindAddress ANY = new BindAddress("127.0.0.1", 0);
    private static final String READER = "system:serviceaccount:monitoring:prometheus";

    private HttpServer api;
    private final List<String> calls = new ArrayList<>();
    private final AtomicBoolean failing = new AtomicBoolean();
    private final AtomicLong clock = new AtomicLong();
    private final CollectorRegistry registry = new CollectorRegistry();

    @BeforeEach
    void startApi() throws IOException {
        api = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        api.createContext("/apis/authentication.k8s.io/v1/tokenreviews", x -> answer(x, review(x, true)));
        api.createContext("/apis/authorization.k8s.io/v1/subjectaccessreviews", x -> answer(x, review(x, false)));
        api.start();
        Counter.build("podcidr_test_total", "a sample").register(registry).inc();
    }

    @AfterEach
    void stopApi() {
        api.stop(0);
    }

    /** Tokens: "reader" (may get /metrics), "nobody" (may not), anything else is not a token. */
    private synchronized JsonNode review(HttpExchange x, boolean token) throws IOException {
        JsonNode body = JSON.readTree(x.getRequestBody());
        ObjectNode out = ((ObjectNode) body.deepCopy());
        ObjectNode status = out.putObject("status");
        if (token) {
            String t = body.at("/spec/token").asText();
            calls.add("tokenreview " + t);
            if (t.equals("reader") || t.equals("nobody")) {
                status.put("authenticated", true).putObject("user").put("username", t.equals("reader") ? READER
                        : "system:serviceaccount:default:nobody").put("uid", "u-" + t).putArray("groups")
                        .add("system:serviceaccounts").add("system:authenticated");
            } else {
                status.put("authenticated", false).put("error", "invalid bearer token");
            }
        } else {
            String user = body.at("/spec/user").asText();
            String path = body.at("/spec/nonResourceAttributes/path").asText();
            String verb = body.at("/spec/nonResourceAttributes/verb").asText();
            calls.add("subjectaccessreview " + user + " " + verb + " " + path + " "
                    + body.at("/spec/groups").toString());
            boolean allowed = user.equals(READER) && verb.equals("get") && Set.of("/metrics", "/status",
                    "/status.json").contains(path);
            status.put("allowed", allowed);
            if (!allowed) {
                status.put("reason", "no RBAC policy matched");
            }
        }
        return out;
    }

    private void answer(HttpExchange x, JsonNode body) throws IOException {
        byte[] bytes = failing.get() ? ("{\"kind\":\"Status\",\"message\":\"tokenreviews.authentication.k8s.io"
                + " is forbidden\"}").getBytes(StandardCharsets.UTF_8) : JSON.writeValueAsBytes(body);
        x.getResponseHeaders().add("Content-Type", "application/json");
        x.sendResponseHeaders(failing.get() ? 403 : 201, bytes.length);
        x.getResponseBody().write(bytes);
        x.close();
    }

    private EndpointAuth auth() throws IOException {
        String kubeconfig = """
                apiVersion: v1
                kind: Config
                clusters: [{name: c, cluster: {server: "http://127.0.0.1:%d"}}]
                users: [{name: u, user: {}}]
                contexts: [{name: x, context: {cluster: c, user: u}}]
                current-context: x
                """.formatted(api.getAddress().getPort());
        return EndpointAuth.of(KubeClients.ofText(kubeconfig, ControllerFlags.UNLIMITED_QPS, 1), clock::get);
    }

    private synchronized List<String> calls() {
        return List.copyOf(calls);
    }

    @Test
    void noTokenIs401AWrongOne401AToken403WithoutTheRoleAnd200WithIt() throws Exception {
        MetricsTls tls = MetricsTls.of(null);
        EndpointAuth auth = auth();
        try (HttpEndpoints e = HttpEndpoints.start(ANY, ANY, registry, () -> true, () -> true, null,
                new HttpEndpoints.Secure(tls, auth))) {
            HttpClient https = trusting(tls.certificate());
            HttpResponse<String> none = get(https, "https", e.metricsAddress(), "/metrics", null);
            assertEquals(401, none.statusCode(), none::body);
            assertEquals("Bearer", none.headers().firstValue("WWW-Authenticate").orElse(""));
            assertEquals(List.of(), calls(), "no token, no review");

            HttpResponse<String> bad = get(https, "https", e.metricsAddress(), "/metrics", "not-a-token");
            assertEquals(401, bad.statusCode(), bad::body);
            assertTrue(bad.body().contains("invalid bearer token"), bad::body);

            HttpResponse<String> nobody = get(https, "https", e.metricsAddress(), "/metrics", "nobody");
            assertEquals(403, nobody.statusCode(), nobody::body);
            assertTrue(nobody.body().contains("system:serviceaccount:default:nobody"), nobody::body);
            assertTrue(nobody.body().contains("metrics-reader"), nobody::body);

            HttpResponse<String> reader = get(https, "https", e.metricsAddress(), "/metrics", "reader");
            assertEquals(200, reader.statusCode(), reader::body);
            assertTrue(reader.body().contains("podcidr_test_total 1.0"), reader::body);
            assertTrue(calls().contains("subjectaccessreview " + READER + " get /metrics"
                    + " [\"system:serviceaccounts\",\"system:authenticated\"]"), () -> calls().toString());

            // a path that is not served is 404 without asking anybody
            int before = calls().size();
            assertEquals(404, get(https, "https", e.metricsAddress(), "/debug", null).statusCode());
            assertEquals(before, calls().size());

            // plain HTTP is not answered on the secure port; the probes are, without a token
            assertThrows(IOException.class, () -> HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + e.metricsAddress().getPort() + "/metrics"))
                    .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString()));
            HttpResponse<String> probe = get(HttpClient.newHttpClient(), "http", e.probeAddress(), "/healthz",
                    null);
            assertEquals(200, probe.statusCode());
        }
    }

    @Test
    void decisionsAreKeptTenSecondsAndFailuresNot() throws Exception {
        MetricsTls tls = MetricsTls.of(null);
        EndpointAuth auth = auth();
        try (HttpEndpoints e = HttpEndpoints.start(ANY, null, registry, () -> true, () -> true, null,
                new HttpEndpoints.Secure(tls, auth))) {
            HttpClient https = trusting(tls.certificate());
            assertEquals(200, get(https, "https", e.metricsAddress(), "/metrics", "reader").statusCode());
            assertEquals(2, auth.reviews());
            assertEquals(200, get(https, "https", e.metricsAddress(), "/metrics", "reader").statusCode());
            assertEquals(403, get(https, "https", e.metricsAddress(), "/metrics", "nobody").statusCode());
            assertEquals(403, get(https, "https", e.metricsAddress(), "/metrics", "nobody").statusCode());
            assertEquals(4, auth.reviews(), "the second scrape of each token is answered from the cache");

            clock.addAndGet(EndpointAuth.CACHE_TTL.toNanos() + 1);
            failing.set(true);
            HttpResponse<String> failed = get(https, "https", e.metricsAddress(), "/metrics", "reader");
            assertEquals(500, failed.statusCode(), "expired: reviewed again, and the review failed");
            assertTrue(failed.body().contains("create on tokenreviews and subjectaccessreviews"), failed::body);
            failing.set(false);
            assertEquals(200, get(https, "https", e.metricsAddress(), "/metrics", "reader").statusCode(),
                    "a failure is not kept");
        }
    }

    @Test
    void aMountedCertificateIsServed(@TempDir Path dir) throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(2048);
        KeyPair pair = g.generateKeyPair();
        X500Name name = new X500Name("CN=mounted");
        JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name, BigInteger.TEN,
                Date.from(Instant.now().minusSeconds(60)), Date.from(Instant.now().plusSeconds(3600)), name,
                pair.getPublic());
        b.addExtension(Extension.subjectAlternativeName, false,
                new GeneralNames(new GeneralName(GeneralName.iPAddress, "127.0.0.1")));
        X509Certificate cert = new JcaX509CertificateConverter().getCertificate(
                b.build(new JcaContentSignerBuilder("SHA256withRSA").build(pair.getPrivate())));
        try (Writer w = Files.newBufferedWriter(dir.resolve("tls.crt")); JcaPEMWriter pem = new JcaPEMWriter(w)) {
            pem.writeObject(cert);
        }
        try (Writer w = Files.newBufferedWriter(dir.resolve("tls.key")); JcaPEMWriter pem = new JcaPEMWriter(w)) {
            pem.writeObject(pair.getPrivate()); // PKCS#1 "RSA PRIVATE KEY", as openssl and cert-manager write it
        }
        MetricsTls tls = MetricsTls.of(dir);
        assertEquals(cert, tls.certificate());
        try (HttpEndpoints e = HttpEndpoints.start(ANY, null, registry, () -> true, () -> true, null,
                new HttpEndpoints.Secure(tls, auth()))) {
            assertEquals(200, get(trusting(cert), "https", e.metricsAddress(), "/metrics", "reader").statusCode(),
                    "a client that trusts exactly the mounted certificate");
        }
        Files.writeString(dir.resolve("tls.key"), "not a key\n");
        IOException bad = assertThrows(IOException.class, () -> MetricsTls.of(dir));
        assertTrue(bad.getMessage().contains("tls.key holds no unencrypted PEM private key"), bad::getMessage);
    }

    @Test
    void secureMetricsRefuseToShareThePortOfThePlainProbes() {
        BindAddress same = new BindAddress("127.0.0.1", 18291);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HttpEndpoints.start(same,
                same, registry, () -> true, () -> true, null, new HttpEndpoints.Secure(MetricsTls.of(null),
                        auth())));
        assertTrue(e.getMessage().contains("needs its own port"), e::getMessage);
    }

    static HttpClient trusting(X509Certificate cert) throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("metrics", cert);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext ssl = SSLContext.getInstance("TLS");
        ssl.init(null, tmf.getTrustManagers(), null);
        return HttpClient.newBuilder().sslContext(ssl).connectTimeout(Duration.ofSeconds(5)).build();
    }

    /** A client that skips verification, as Prometheus with insecureSkipVerify against a self-signed certificate. */
    static HttpClient trustingAnything() throws Exception {
        SSLContext ssl = SSLContext.getInstance("TLS");
        ssl.init(null, new TrustManager[] {new X509ExtendedTrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) {
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) {
            }

            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
            }

            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        }}, null);
        return HttpClient.newBuilder().sslContext(ssl).connectTimeout(Duration.ofSeconds(5)).build();
    }

    static HttpResponse<String> get(HttpClient client, String scheme, InetSocketAddress address, String path,
                                    String token) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(scheme + "://127.0.0.1:" + address.getPort()
                + path)).timeout(Duration.ofSeconds(10));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }
}
