package io.github.podcidr.apiserver.real;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * A real Kubernetes control plane for tests, in the manner of controller-runtime's envtest: Debian's etcd and a
 * kube-apiserver 1.20.2 built by {@code scripts/control-plane/install.sh}, started as child processes on free
 * loopback ports, with token authentication, RBAC authorisation and an audit log.
 *
 * <pre>{@code
 * try (RealControlPlane cp = RealControlPlane.builder()
 *         .serviceAccount("kube-system", "podcidr-controller").start()) {
 *     ApiClient admin = Config.fromConfig(new StringReader(cp.adminKubeconfig()));
 *     ApiClient controller = Config.fromConfig(new StringReader(cp.kubeconfig(
 *             cp.serviceAccountToken("kube-system", "podcidr-controller"))));
 *     ...
 *     long forbidden = cp.auditEvents().stream().filter(e -> e.code() == 403).count();
 * }
 * }</pre>
 *
 * <p>Where the binaries are: {@link #binDirectory()}, from the system property {@value #BIN_PROPERTY} or the
 * environment variable {@value #BIN_ENV}. Tests of the real tier are named {@code *RealIT} and run only when it is
 * set (Maven profile {@code real-control-plane}).
 *
 * <p>Identities: {@value #ADMIN_USER} (group {@code system:masters}) with {@link #adminToken()}, and every service
 * account named on the builder, authenticated as {@code system:serviceaccount:<ns>:<name>} in the groups
 * {@code system:serviceaccounts} and {@code system:serviceaccounts:<ns>}, as a projected token would be. Nothing is
 * granted to a service account: apply the RBAC under test.
 *
 * <p>Not started unless the builder asks for them: kube-controller-manager with the controllers named by
 * {@link Builder#controllerManager} and kube-scheduler ({@link Builder#scheduler}), both as {@value #ADMIN_USER},
 * without leader election. Never started: kubelets. Namespaces other than the built-in ones must be created; nodes
 * are plain API objects; without the {@code serviceaccount-token} controller no ServiceAccount token is ever minted.
 *
 * <pre>{@code
 * // pods of a Deployment created and placed on nodes, which no kubelet runs
 * RealControlPlane.builder().controllerManager("deployment", "replicaset", "serviceaccount-token").scheduler().start();
 * }</pre>
 */
public final class RealControlPlane implements AutoCloseable {
    /** System property naming the directory with {@code kube-apiserver} and {@code etcd}. */
    public static final String BIN_PROPERTY = "control-plane.bin";
    /** Environment variable naming the same directory, used when the property is not set. */
    public static final String BIN_ENV = "PODCIDR_CONTROL_PLANE_BIN";
    /** The user name of {@link #adminToken()}. */
    public static final String ADMIN_USER = "podcidr-test-admin";
    /** The service cluster IP range given to kube-apiserver. */
    public static final String SERVICE_CLUSTER_IP_RANGE = "10.96.0.0/16";

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration START_TIMEOUT = Duration.ofSeconds(90);

    private final Path work;
    /** Where this API server keeps its certificates, logs and audit log: {@link #work}, or a folder in it. */
    private final Path home;
    private final Path bin;
    private final List<String> extraFlags;
    /** etcd's client URL, {@code http://127.0.0.1:<port>}. */
    private final String etcdUrl;
    /** etcd, or null for a second API server on another's etcd (which that other owns). */
    private final Process etcd;
    private final Process apiserver;
    /** kube-controller-manager, or null when the builder named no controller (always null on a second server). */
    private final Process controllerManager;
    /** kube-scheduler, or null when the builder did not ask for it (always null on a second server). */
    private final Process scheduler;
    private final int port;
    private final String adminToken;
    private final Map<String, String> serviceAccountTokens;
    private final String caPem;
    private final SSLContext sslContext;

    private RealControlPlane(Path work, Path home, Path bin, List<String> extraFlags, String etcdUrl, Process etcd,
            Process apiserver, Process controllerManager, Process scheduler, int port, String adminToken,
            Map<String, String> serviceAccountTokens, String caPem, SSLContext sslContext) {
        this.work = work;
        this.home = home;
        this.bin = bin;
        this.extraFlags = List.copyOf(extraFlags);
        this.etcdUrl = etcdUrl;
        this.etcd = etcd;
        this.apiserver = apiserver;
        this.controllerManager = controllerManager;
        this.scheduler = scheduler;
        this.port = port;
        this.adminToken = adminToken;
        this.serviceAccountTokens = serviceAccountTokens;
        this.caPem = caPem;
        this.sslContext = sslContext;
    }

    /**
     * The directory holding {@code kube-apiserver} and {@code etcd}, when the real tier is configured.
     *
     * @return the directory, or empty when neither {@value #BIN_PROPERTY} nor {@value #BIN_ENV} is set
     */
    public static Optional<Path> binDirectory() {
        String dir = System.getProperty(BIN_PROPERTY);
        if (dir == null || dir.isBlank()) {
            dir = System.getenv(BIN_ENV);
        }
        return dir == null || dir.isBlank() ? Optional.empty() : Optional.of(Path.of(dir));
    }

    /**
     * Whether the real tier can run here.
     *
     * @return true when {@link #binDirectory()} names a directory with an executable kube-apiserver
     */
    public static boolean available() {
        return binDirectory().map(d -> Files.isExecutable(d.resolve("kube-apiserver"))).orElse(false);
    }

    /**
     * A builder for a control plane.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /** Options of {@link RealControlPlane}. */
    public static final class Builder {
        private Path bin;
        private final List<String> serviceAccounts = new ArrayList<>();
        private final List<String> extraApiserverFlags = new ArrayList<>();
        private final List<String> controllers = new ArrayList<>();
        private boolean scheduler;

        private Builder() {
        }

        /**
         * The binaries' directory, instead of {@link #binDirectory()}.
         *
         * @param dir the directory with kube-apiserver and etcd
         * @return this builder
         */
        public Builder binDirectory(Path dir) {
            this.bin = dir;
            return this;
        }

        /**
         * Adds a service account identity with a bearer token (see {@link #serviceAccountToken}).
         *
         * @param namespace the service account's namespace
         * @param name the service account's name
         * @return this builder
         */
        public Builder serviceAccount(String namespace, String name) {
            serviceAccounts.add(namespace + "/" + name);
            return this;
        }

        /**
         * Adds a kube-apiserver flag, e.g. {@code --max-requests-inflight=800}.
         *
         * @param flag the flag with its value
         * @return this builder
         */
        public Builder apiserverFlag(String flag) {
            extraApiserverFlags.add(flag);
            return this;
        }

        /**
         * Also starts kube-controller-manager (from the same directory) with only these controllers
         * ({@code --controllers}), e.g. {@code deployment}, {@code replicaset} and {@code serviceaccount-token} (which
         * mints the ServiceAccount token Secrets that kube-apiserver 1.20's admission requires of every pod). It
         * runs as {@value #ADMIN_USER}, signs tokens with the API server's service account key, and has no leader
         * election; no other controller runs (no node lifecycle controller: nothing taints or evicts on its own).
         *
         * @param names the controllers' names as kube-controller-manager's {@code --controllers} takes them
         * @return this builder
         * @throws IllegalArgumentException when no name is given, or a name is {@code *} or starts with {@code -}
         *         (which would start every default controller)
         */
        public Builder controllerManager(String... names) {
            if (names.length == 0) {
                throw new IllegalArgumentException("controllerManager needs at least one controller name, e.g. "
                        + "controllerManager(\"deployment\", \"replicaset\", \"serviceaccount-token\")");
            }
            for (String n : names) {
                if (n == null || n.isBlank() || n.equals("*") || n.startsWith("-") || n.contains(",")) {
                    throw new IllegalArgumentException("controller name \"" + n + "\": expected one controller "
                            + "enabled by name, e.g. \"replicaset\"; \"*\" and \"-name\" would start the defaults");
                }
                controllers.add(n);
            }
            return this;
        }

        /**
         * Also starts kube-scheduler (from the same directory) with its default profile, as {@value #ADMIN_USER},
         * without leader election: it binds the pods of this API server to its nodes, which no kubelet runs.
         *
         * @return this builder
         */
        public Builder scheduler() {
            this.scheduler = true;
            return this;
        }

        /**
         * Starts etcd and kube-apiserver and waits until {@code /readyz} answers 200 (about 6 s), then the
         * kube-controller-manager and kube-scheduler asked for, each until its {@code /healthz} answers 200.
         *
         * @return the running control plane
         * @throws IllegalStateException when no binaries are configured, one asked for is missing, or a process
         *         does not become ready; the message holds the end of its log
         */
        public RealControlPlane start() {
            Path dir = bin != null ? bin : RealControlPlane.binDirectory().orElseThrow(() -> new IllegalStateException(
                    "no control plane binaries: set -D" + BIN_PROPERTY + "=<dir> or " + BIN_ENV
                            + "; scripts/control-plane/install.sh builds them and prints the directory"));
            for (int attempt = 1; ; attempt++) {
                try {
                    return launch(dir, serviceAccounts, extraApiserverFlags, controllers, scheduler);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                } catch (IllegalStateException e) {
                    // A free port found by binding 0 can be taken by another process before etcd or kube-apiserver
                    // binds it (the ephemeral range is shared with outgoing connections): try new ports.
                    if (attempt == 3 || e.getMessage() == null || !e.getMessage().contains("address already in use")) {
                        throw e;
                    }
                }
            }
        }
    }

    private static RealControlPlane launch(Path bin, List<String> serviceAccounts, List<String> extraFlags,
            List<String> controllers, boolean withScheduler) throws IOException {
        List<String> asked = new ArrayList<>();
        if (!controllers.isEmpty()) {
            asked.add("kube-controller-manager");
        }
        if (withScheduler) {
            asked.add("kube-scheduler");
        }
        for (String binary : asked) {
            if (!Files.isExecutable(bin.resolve(binary))) {
                throw new IllegalStateException("no executable " + binary + " in " + bin + ": binaries built before "
                        + "scripts/control-plane/install.sh built " + binary + "; run the script again and pass the "
                        + "directory it prints, e.g. -D" + BIN_PROPERTY + "=\"$(scripts/control-plane/install.sh)\"");
            }
        }
        Path shm = Path.of("/dev/shm");
        Path work = Files.isDirectory(shm) && Files.isWritable(shm)
                ? Files.createTempDirectory(shm, "podcidr-cp-") : Files.createTempDirectory("podcidr-cp-");
        Process etcd = null;
        Process apiserver = null;
        Process controllerManager = null;
        Process scheduler = null;
        try {
            String adminToken = randomToken();
            Map<String, String> saTokens = new LinkedHashMap<>();
            StringBuilder tokens = new StringBuilder();
            tokens.append(adminToken).append(',').append(ADMIN_USER).append(",admin-uid,\"system:masters\"\n");
            for (String sa : serviceAccounts) {
                String ns = sa.substring(0, sa.indexOf('/'));
                String name = sa.substring(sa.indexOf('/') + 1);
                String token = randomToken();
                saTokens.put(sa, token);
                tokens.append(token).append(",system:serviceaccount:").append(ns).append(':').append(name)
                        .append(",sa-").append(ns).append('-').append(name)
                        .append(",\"system:serviceaccounts,system:serviceaccounts:").append(ns).append("\"\n");
            }
            Files.writeString(work.resolve("tokens.csv"), tokens);
            writeServiceAccountKey(work.resolve("sa.key"));
            Files.writeString(work.resolve("audit-policy.yaml"), """
                    apiVersion: audit.k8s.io/v1
                    kind: Policy
                    omitStages: ["RequestReceived"]
                    rules:
                      - level: Metadata
                    """);

            int etcdClient = freePort();
            int etcdPeer = freePort();
            Path etcdData = work.resolve("etcd");
            etcd = new ProcessBuilder(bin.resolve("etcd").toString(),
                    "--data-dir=" + etcdData,
                    "--listen-client-urls=http://127.0.0.1:" + etcdClient,
                    "--advertise-client-urls=http://127.0.0.1:" + etcdClient,
                    "--listen-peer-urls=http://127.0.0.1:" + etcdPeer,
                    "--initial-advertise-peer-urls=http://127.0.0.1:" + etcdPeer,
                    "--initial-cluster=default=http://127.0.0.1:" + etcdPeer,
                    "--quota-backend-bytes=" + (4L << 30),
                    "--logger=zap", "--log-level=warn")
                    .redirectErrorStream(true).redirectOutput(work.resolve("etcd.log").toFile()).start();
            waitFor(etcd, work.resolve("etcd.log"), "etcd", () -> httpOk(
                    HttpClient.newHttpClient(), "http://127.0.0.1:" + etcdClient + "/health", null));

            String etcdUrl = "http://127.0.0.1:" + etcdClient;
            Started api = startApiServer(bin, work, work, etcdUrl, extraFlags, adminToken);
            apiserver = api.process();
            if (!controllers.isEmpty() || withScheduler) {
                Files.writeString(work.resolve("admin.kubeconfig"),
                        kubeconfig("https://127.0.0.1:" + api.port(), api.caPem(), adminToken));
            }
            if (!controllers.isEmpty()) {
                int healthPort = freePort();
                controllerManager = startComponent(work, "kube-controller-manager", healthPort, List.of(
                        bin.resolve("kube-controller-manager").toString(),
                        "--kubeconfig=" + work.resolve("admin.kubeconfig"),
                        "--controllers=" + String.join(",", controllers),
                        "--service-account-private-key-file=" + work.resolve("sa.key"),
                        "--use-service-account-credentials=false",
                        "--leader-elect=false",
                        "--secure-port=0", "--address=127.0.0.1", "--port=" + healthPort,
                        "--v=1"));
            }
            if (withScheduler) {
                int healthPort = freePort();
                scheduler = startComponent(work, "kube-scheduler", healthPort, List.of(
                        bin.resolve("kube-scheduler").toString(),
                        "--kubeconfig=" + work.resolve("admin.kubeconfig"),
                        "--leader-elect=false",
                        "--secure-port=0", "--address=127.0.0.1", "--port=" + healthPort,
                        "--v=1"));
            }
            RealControlPlane cp = new RealControlPlane(work, work, bin, extraFlags, etcdUrl, etcd, apiserver,
                    controllerManager, scheduler, api.port(), adminToken, saTokens, api.caPem(), api.ssl());
            Runtime.getRuntime().addShutdownHook(new Thread(cp::close, "real-control-plane-stop"));
            return cp;
        } catch (RuntimeException | IOException e) {
            for (Process p : new Process[] {scheduler, controllerManager, apiserver}) {
                if (p != null) {
                    p.destroyForcibly();
                }
            }
            if (etcd != null) {
                etcd.destroyForcibly();
            }
            deleteTree(work);
            throw e;
        }
    }

    private record Started(Process process, int port, String caPem, SSLContext ssl) {
    }

    /**
     * Starts kube-controller-manager or kube-scheduler with its log in {@code <name>.log} and waits until its plain
     * HTTP {@code /healthz} on 127.0.0.1 answers 200.
     */
    private static Process startComponent(Path work, String name, int healthPort, List<String> cmd)
            throws IOException {
        Path log = work.resolve(name + ".log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            HttpClient http = HttpClient.newHttpClient();
            waitFor(p, log, name, () -> httpOk(http, "http://127.0.0.1:" + healthPort + "/healthz", null));
            return p;
        } catch (RuntimeException | IOException e) {
            p.destroyForcibly();
            throw e;
        }
    }

    /** Starts kube-apiserver with its certificates and logs in {@code home}, the tokens and key of {@code work}. */
    private static Started startApiServer(Path bin, Path work, Path home, String etcdServers, List<String> extraFlags,
            String adminToken) throws IOException {
        int port = freePort();
        List<String> cmd = new ArrayList<>(List.of(bin.resolve("kube-apiserver").toString(),
                "--etcd-servers=" + etcdServers,
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                "--secure-port=" + port,
                "--insecure-port=0",
                "--cert-dir=" + home.resolve("certs"),
                "--token-auth-file=" + work.resolve("tokens.csv"),
                "--authorization-mode=RBAC",
                "--service-account-key-file=" + work.resolve("sa.key"),
                "--service-account-signing-key-file=" + work.resolve("sa.key"),
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                "--service-cluster-ip-range=" + SERVICE_CLUSTER_IP_RANGE,
                "--audit-policy-file=" + work.resolve("audit-policy.yaml"),
                "--audit-log-path=" + home.resolve("audit.log"),
                "--audit-log-mode=blocking",
                "--allow-privileged=true",
                "--v=1"));
        cmd.addAll(extraFlags);
        Process apiserver = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(home.resolve("kube-apiserver.log").toFile()).start();
        try {
            Path certFile = home.resolve("certs").resolve("apiserver.crt");
            waitFor(apiserver, home.resolve("kube-apiserver.log"), "kube-apiserver", () -> Files.exists(certFile));
            String caPem = Files.readString(certFile);
            SSLContext ssl = sslContextTrusting(caPem);
            HttpClient http = HttpClient.newBuilder().sslContext(ssl).version(HttpClient.Version.HTTP_1_1).build();
            String base = "https://127.0.0.1:" + port;
            waitFor(apiserver, home.resolve("kube-apiserver.log"), "kube-apiserver",
                    () -> httpOk(http, base + "/readyz", adminToken)
                            && httpOk(http, base + "/api/v1/namespaces/default", adminToken));
            return new Started(apiserver, port, caPem, ssl);
        } catch (RuntimeException | IOException e) {
            apiserver.destroyForcibly();
            throw e;
        }
    }

    /** etcd's client URL, {@code http://127.0.0.1:<port>}, e.g. to put a proxy in front of it for a second server. */
    public String etcdUrl() {
        return etcdUrl;
    }

    /**
     * Starts a second kube-apiserver on this control plane's etcd, as a cluster with two API servers behind a load
     * balancer has: same tokens and service account key, its own serving certificate, logs and audit log. Closing it
     * stops that server only; closing this control plane does not stop it.
     *
     * @param etcdServers the etcd URL it uses, {@link #etcdUrl()} or a proxy in front of it
     * @return the second server
     */
    public RealControlPlane secondApiServer(String etcdServers) {
        try {
            Path home = Files.createTempDirectory(work, "apiserver-");
            Started api = startApiServer(bin, work, home, etcdServers, extraFlags, adminToken);
            return new RealControlPlane(work, home, bin, extraFlags, etcdUrl, null, api.process(), null, null,
                    api.port(), adminToken, serviceAccountTokens, api.caPem(), api.ssl());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Runs a control plane until SIGTERM or Ctrl-C, for trying the controller by hand:
     * {@code java -cp apiserver-sim/target/apiserver-sim.jar io.github.podcidr.apiserver.real.RealControlPlane
     * --kubeconfig-out /tmp/real.kubeconfig [--bin DIR]}. Writes an admin kubeconfig and prints one line once ready.
     * Exit code 2 on a bad flag, 1 when the control plane does not start.
     *
     * @param args the flags
     */
    public static void main(String[] args) {
        Path out = null;
        Path bin = null;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            boolean hasValue = i + 1 < args.length;
            if (a.equals("--kubeconfig-out") && hasValue) {
                out = Path.of(args[++i]);
            } else if (a.equals("--bin") && hasValue) {
                bin = Path.of(args[++i]);
            } else {
                System.err.println("real-control-plane: unknown flag or missing value: " + a
                        + "; expected --kubeconfig-out FILE [--bin DIR], e.g. --kubeconfig-out /tmp/real.kubeconfig"
                        + " --bin \"$(scripts/control-plane/install.sh)\"");
                System.exit(2);
            }
        }
        if (out == null) {
            System.err.println("real-control-plane: --kubeconfig-out FILE is required, e.g. --kubeconfig-out "
                    + "/tmp/real.kubeconfig");
            System.exit(2);
        }
        Builder b = builder();
        if (bin != null) {
            b.binDirectory(bin);
        }
        try {
            long started = System.nanoTime();
            RealControlPlane cp = b.start();
            cp.writeKubeconfig(out, cp.adminToken());
            System.out.printf("kube-apiserver 1.20.2 ready at %s after %.1f s; admin kubeconfig: %s%n",
                    cp.baseUrl(), (System.nanoTime() - started) / 1e9, out);
            while (cp.isRunning()) {
                Thread.sleep(500);
            }
            System.err.println("real-control-plane: a process exited:\n" + cp.apiserverLog());
            System.exit(1);
        } catch (IllegalStateException e) {
            System.err.println("real-control-plane: " + e.getMessage());
            System.exit(1);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The API server's URL, {@code https://127.0.0.1:<port>}. */
    public String baseUrl() {
        return "https://127.0.0.1:" + port;
    }

    /** The secure port of kube-apiserver on 127.0.0.1. */
    public int port() {
        return port;
    }

    /** The bearer token of {@value #ADMIN_USER}, a member of {@code system:masters}. */
    public String adminToken() {
        return adminToken;
    }

    /**
     * The bearer token of a service account named on the builder.
     *
     * @param namespace its namespace
     * @param name its name
     * @return the token
     * @throws IllegalArgumentException when the builder did not name it
     */
    public String serviceAccountToken(String namespace, String name) {
        String token = serviceAccountTokens.get(namespace + "/" + name);
        if (token == null) {
            throw new IllegalArgumentException("service account " + namespace + "/" + name
                    + " was not named on the builder; known: " + serviceAccountTokens.keySet());
        }
        return token;
    }

    /** The PEM certificates that the API server's serving certificate chains to. */
    public String caPem() {
        return caPem;
    }

    /** A TLS context that trusts the API server (for raw HTTP clients). */
    public SSLContext sslContext() {
        return sslContext;
    }

    /**
     * A kubeconfig that authenticates with a bearer token and verifies the server's certificate.
     *
     * @param token the bearer token
     * @return the kubeconfig text
     */
    public String kubeconfig(String token) {
        return kubeconfig(baseUrl(), caPem, token);
    }

    private static String kubeconfig(String server, String caPem, String token) {
        String ca = Base64.getEncoder().encodeToString(caPem.getBytes(StandardCharsets.US_ASCII));
        return """
                apiVersion: v1
                kind: Config
                clusters:
                - name: real
                  cluster:
                    server: %s
                    certificate-authority-data: %s
                users:
                - name: user
                  user:
                    token: %s
                contexts:
                - name: real
                  context:
                    cluster: real
                    user: user
                current-context: real
                """.formatted(server, ca, token);
    }

    /** A kubeconfig for {@value #ADMIN_USER}. */
    public String adminKubeconfig() {
        return kubeconfig(adminToken);
    }

    /**
     * Writes a kubeconfig to a file (for child processes such as the controller's jar).
     *
     * @param file where to write
     * @param token the bearer token
     * @return the file
     */
    public Path writeKubeconfig(Path file, String token) {
        try {
            Files.writeString(file, kubeconfig(token));
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** One request as the audit log recorded it at stage ResponseComplete (or Panic). */
    public record AuditEvent(String user, String verb, String resource, String subresource, String namespace,
            String name, int code, String userAgent, String requestUri) {
    }

    /**
     * Every completed request so far, from the audit log (the server writes it before it answers).
     *
     * @return the requests in the order the server completed them
     */
    public List<AuditEvent> auditEvents() {
        List<AuditEvent> out = new ArrayList<>();
        Path log = home.resolve("audit.log");
        if (!Files.exists(log)) {
            return out;
        }
        try (Stream<String> lines = Files.lines(log)) {
            lines.forEach(line -> {
                try {
                    JsonNode e = JSON.readTree(line);
                    String stage = e.path("stage").asText();
                    if (!"ResponseComplete".equals(stage) && !"Panic".equals(stage)) {
                        return;
                    }
                    JsonNode ref = e.path("objectRef");
                    out.add(new AuditEvent(e.path("user").path("username").asText(), e.path("verb").asText(),
                            ref.path("resource").asText(""), ref.path("subresource").asText(""),
                            ref.path("namespace").asText(""), ref.path("name").asText(""),
                            e.path("responseStatus").path("code").asInt(0), e.path("userAgent").asText(""),
                            e.path("requestURI").asText("")));
                } catch (IOException ignored) {
                    // a line being written right now; the next read sees it whole
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    /** The kube-apiserver log so far (for diagnosing a failed test). */
    public String apiserverLog() {
        return tail(home.resolve("kube-apiserver.log"), 200);
    }

    /**
     * The kube-controller-manager log so far (for diagnosing a failed test).
     *
     * @return its last 200 lines, or a note that it was not started
     */
    public String controllerManagerLog() {
        return controllerManager == null ? "(kube-controller-manager not started)"
                : tail(work.resolve("kube-controller-manager.log"), 200);
    }

    /**
     * The kube-scheduler log so far (for diagnosing a failed test).
     *
     * @return its last 200 lines, or a note that it was not started
     */
    public String schedulerLog() {
        return scheduler == null ? "(kube-scheduler not started)" : tail(work.resolve("kube-scheduler.log"), 200);
    }

    /** Whether kube-apiserver, etcd and the kube-controller-manager and kube-scheduler started are still running. */
    public boolean isRunning() {
        return apiserver.isAlive() && (etcd == null || etcd.isAlive())
                && (controllerManager == null || controllerManager.isAlive())
                && (scheduler == null || scheduler.isAlive());
    }

    /** Stops kube-scheduler, kube-controller-manager, kube-apiserver and etcd and deletes their data; idempotent. */
    @Override
    public synchronized void close() {
        if (scheduler != null) {
            stop(scheduler);
        }
        if (controllerManager != null) {
            stop(controllerManager);
        }
        stop(apiserver);
        if (etcd != null) {
            stop(etcd);
            deleteTree(work);
        }
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // already gone
        }
    }

    private static void stop(Process p) {
        if (!p.isAlive()) {
            return;
        }
        p.destroy();
        try {
            if (!p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    private interface Check {
        boolean ok() throws IOException;
    }

    private static void waitFor(Process p, Path log, String what, Check check) throws IOException {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                throw new IllegalStateException(what + " exited with code " + p.exitValue() + " while starting:\n"
                        + tail(log, 40));
            }
            try {
                if (check.ok()) {
                    return;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for " + what, e);
            }
        }
        p.destroyForcibly();
        throw new IllegalStateException(what + " not ready after " + START_TIMEOUT.toSeconds() + " s:\n"
                + tail(log, 40));
    }

    private static boolean httpOk(HttpClient http, String url, String token) throws IOException {
        HttpRequest.Builder req = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(2));
        if (token != null) {
            req.header("Authorization", "Bearer " + token);
        }
        try {
            return http.send(req.build(), HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }

    private static String tail(Path log, int lines) {
        try {
            List<String> all = Files.readAllLines(log);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static String randomToken() {
        byte[] b = new byte[24];
        new SecureRandom().nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    /** An RSA key in PKCS#8 PEM: kube-apiserver signs and verifies service account tokens with it. */
    private static void writeServiceAccountKey(Path file) throws IOException {
        try {
            KeyPairGenerator gen = KeyPairGenerator.getInstance("RSA");
            gen.initialize(2048);
            KeyPair kp = gen.generateKeyPair();
            String pem = "-----BEGIN PRIVATE KEY-----\n"
                    + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                            .encodeToString(kp.getPrivate().getEncoded())
                    + "\n-----END PRIVATE KEY-----\n";
            Files.writeString(file, pem);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot generate an RSA key", e);
        }
    }

    /**
     * A TLS context that trusts the given PEM certificates, e.g. a kubeconfig's {@code certificate-authority-data}
     * (for raw HTTP clients of another cluster than this one).
     *
     * @param pem one or more PEM certificates
     * @return the context
     * @throws IllegalStateException when the certificates cannot be read
     */
    public static SSLContext sslContextTrusting(String pem) {
        try {
            KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
            ks.load(null, null);
            int i = 0;
            for (Certificate c : CertificateFactory.getInstance("X.509")
                    .generateCertificates(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)))) {
                ks.setCertificateEntry("ca-" + i++, c);
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(ks);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            return ctx;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot read the API server's certificate", e);
        }
    }
}
