package io.github.podcidr.controller;

import io.github.podcidr.k8s.ApiClientFactory;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.util.ClientBuilder;
import io.kubernetes.client.util.KubeConfig;
import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes the controller's API clients: a fresh {@link ApiClient} per call (the controller needs several with
 * different timeouts), from the in-cluster service account or a kubeconfig, each with the shared client-side rate
 * limit (except the leader election's client, which has its own budget), optionally request metrics with bounded
 * labels ({@link ApiRequestMetrics}, in the default registry), ChaCha20 offered first in TLS when the JVM runs
 * C1 only ({@link TlsCipherOrder}), and an HTTP/2 PING every {@link #PING_INTERVAL} on each connection, so that a
 * silently dead connection is found as client-go finds it.
 */
final class KubeClients implements ApiClientFactory {
    private static final Logger LOG = LoggerFactory.getLogger(KubeClients.class);
    /**
     * The HTTP/2 PING period of every API connection. OkHttp pings each HTTP/2 connection at this period and fails
     * the connection when a PING is still unanswered at the next one, so a connection whose packets vanish (no FIN,
     * no RST: an API server replica behind a load balancer gone) is failed 15 to 30 s after the packets stop, with
     * every stream on it, the watch included; the next request opens a new connection. client-go's bound is 45 s
     * (a PING after 30 s without a frame, 15 s to answer it). Cost: one 17-byte frame each way per connection every
     * 15 s. The API server speaks HTTP/2 over TLS (ALPN); an HTTP/1.1 connection (a plain-HTTP server, as in the
     * demo) has no PING and relies on each client's read timeout.
     */
    static final Duration PING_INTERVAL = Duration.ofSeconds(15);
    /** Where a kubeconfig comes from: a file read at each call (so a rotated token is picked up), or text. */
    private final Path kubeconfigFile;
    private final String kubeconfigText;
    private final TokenBucket bucket;
    private final boolean requestMetrics;
    /** Whether TLS offers ChaCha20 before AES-GCM: decided once, from the JVM's compilers. */
    private final boolean chachaFirst;

    private KubeClients(Path kubeconfigFile, String kubeconfigText, TokenBucket bucket, boolean requestMetrics) {
        this.kubeconfigFile = kubeconfigFile;
        this.kubeconfigText = kubeconfigText;
        this.bucket = bucket;
        this.requestMetrics = requestMetrics;
        this.chachaFirst = !TlsCipherOrder.hasC2();
        if (chachaFirst && kubeconfigText == null) {
            LOG.info("TLS offers ChaCha20-Poly1305 before AES-GCM: this JVM compiles with C1 only, without C2's"
                    + " AES-GCM intrinsics");
        }
    }

    /**
     * Clients from a kubeconfig file, or the in-cluster configuration when {@code kubeconfig} is null.
     *
     * @param kubeconfig path or null
     * @param qps requests per second, or {@link ControllerFlags#UNLIMITED_QPS}
     * @param burst bucket size
     * @param requestMetrics whether to count requests ({@link ApiRequestMetrics})
     * @return the factory
     */
    static KubeClients of(String kubeconfig, double qps, int burst, boolean requestMetrics) {
        return new KubeClients(kubeconfig == null ? null : Path.of(kubeconfig), null, bucket(qps, burst),
                requestMetrics);
    }

    /**
     * Clients from kubeconfig text (the demo's embedded API server).
     *
     * @param kubeconfig the kubeconfig
     * @param qps requests per second, or {@link ControllerFlags#UNLIMITED_QPS}
     * @param burst bucket size
     * @return the factory
     */
    static KubeClients ofText(String kubeconfig, double qps, int burst) {
        return new KubeClients(null, kubeconfig, bucket(qps, burst), false);
    }

    private static TokenBucket bucket(double qps, int burst) {
        return qps == ControllerFlags.UNLIMITED_QPS ? null : new TokenBucket(qps, burst);
    }

    /** Tells whether the process runs in a pod (the in-cluster configuration can work). */
    static boolean inCluster() {
        String host = System.getenv("KUBERNETES_SERVICE_HOST");
        return host != null && !host.isBlank();
    }

    @Override
    public ApiClient create() throws IOException {
        return create(bucket);
    }

    /** A client outside the shared rate limit: the Lease's renewals must never queue behind node writes. */
    @Override
    public ApiClient createForElection() throws IOException {
        return create(null);
    }

    private ApiClient create(TokenBucket limit) throws IOException {
        ApiClient client;
        if (kubeconfigText != null) {
            client = fromKubeconfig(new StringReader(kubeconfigText), null);
        } else if (kubeconfigFile != null) {
            try (Reader r = Files.newBufferedReader(kubeconfigFile, StandardCharsets.UTF_8)) {
                client = fromKubeconfig(r, kubeconfigFile.toAbsolutePath().getParent());
            }
        } else {
            client = ClientBuilder.cluster().build();
        }
        // every client the controller makes derives from this one (the watch's and the writes' set their own
        // timeouts on top), so every connection to the API server, watches included, is pinged
        client.setHttpClient(client.getHttpClient().newBuilder().pingInterval(PING_INTERVAL).build());
        if (chachaFirst) {
            client.setHttpClient(TlsCipherOrder.preferChacha(client.getHttpClient()));
        }
        if (limit != null) {
            client.setHttpClient(client.getHttpClient().newBuilder().addInterceptor(limit).build());
        }
        if (requestMetrics) {
            client.setHttpClient(client.getHttpClient().newBuilder().addInterceptor(ApiRequestMetrics.DEFAULT)
                    .build());
        }
        return client;
    }

    private static ApiClient fromKubeconfig(Reader reader, Path dir) throws IOException {
        KubeConfig config = KubeConfig.loadKubeConfig(reader);
        if (dir != null) {
            config.setFile(dir.resolve("kubeconfig").toFile()); // relative certificate paths resolve beside it
        }
        return ClientBuilder.kubeconfig(config).build();
    }
}
