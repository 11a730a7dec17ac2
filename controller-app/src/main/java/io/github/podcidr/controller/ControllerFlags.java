package io.github.podcidr.controller;

import io.github.podcidr.k8s.ControllerRunner;
import io.github.podcidr.k8s.ControllerSettings;
import io.github.podcidr.k8s.InvalidSettingException;
import io.github.podcidr.k8s.LeaderElectionSettings;
import io.github.podcidr.k8s.NodeGroupSettings;
import io.github.podcidr.k8s.NodeSelector;
import io.github.podcidr.k8s.TaintRule;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * The controller's command line, parsed and checked. Reusable wherever the controller's arguments must be
 * understood, e.g. by chart tests on the container args a chart renders.
 *
 * <pre>{@code
 * ControllerFlags.Result r = ControllerFlags.parse(new String[] {"--cluster-cidr=10.244.0.0/16", "--workers=8"});
 * if (r.ok()) {
 *     r.flags().settings().workers();          // 8
 * } else {
 *     r.errors().forEach(System.err::println); // every error at once, each with flag, value, expectation
 * }
 * }</pre>
 *
 * @param kubeconfig path of a kubeconfig file, or null for the in-cluster configuration
 * @param settings what to allocate and how
 * @param election leader election
 * @param kubeApiQps requests per second to the API server; {@link #UNLIMITED_QPS} for no client-side limit
 * @param kubeApiBurst requests allowed at once above the QPS
 * @param metricsAddress where /metrics listens, or null when switched off
 * @param healthProbeAddress where /healthz and /readyz listen, or null when switched off
 * @param logFormat text or json
 * @param logLevel error, warn, info, debug or trace
 * @param shutdownGracePeriod how long a graceful stop may take before the process halts
 * @param metricsSecure whether the metrics address serves HTTPS and checks bearer tokens (TokenReview,
 *     SubjectAccessReview)
 * @param metricsCertDir the directory of tls.crt and tls.key for the metrics address, or null for a self-signed
 *     certificate
 */
public record ControllerFlags(String kubeconfig, ControllerSettings settings, LeaderElectionSettings election,
                              double kubeApiQps, int kubeApiBurst, BindAddress metricsAddress,
                              BindAddress healthProbeAddress, LogFormat logFormat, String logLevel,
                              Duration shutdownGracePeriod, boolean metricsSecure, Path metricsCertDir) {
    /** {@code --kube-api-qps=-1}: no client-side rate limit. */
    public static final double UNLIMITED_QPS = -1;
    static final List<String> LOG_LEVELS = List.of("error", "warn", "info", "debug", "trace");
    private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");
    private static final Pattern DNS_SUBDOMAIN = Pattern.compile(
            "(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");

    /**
     * The outcome of parsing: the flags, or every error, or a request for help.
     *
     * @param flags the flags when there is no error and no help request, else null
     * @param errors every error found, in command-line order then check order
     * @param help true if {@code --help} was given
     */
    public record Result(ControllerFlags flags, List<ConfigError> errors, boolean help) {
        /**
         * Creates a result.
         *
         * @param flags the flags or null
         * @param errors the errors
         * @param help whether help was asked for
         */
        public Result {
            errors = List.copyOf(errors);
        }

        /**
         * Tells whether the flags can be used.
         *
         * @return true if there is no error and help was not asked for
         */
        public boolean ok() {
            return flags != null;
        }
    }

    /**
     * The flags of the controller command, also used for its help table.
     *
     * @return a fresh flag set
     */
    static FlagSet flagSet() {
        FlagSet f = new FlagSet("podcidr-controller");
        f.add("kubeconfig", FlagSet.Kind.STRING, "", "kubeconfig file; empty: the in-cluster service account");
        ClusterRanges.addFlags(f, "");
        f.add(PoolsFile.FLAG, FlagSet.Kind.STRING, "", "YAML file of named node groups, each with its own"
                        + " ranges, masks and node selector; --cluster-cidr, if given, is the default group for nodes"
                        + " no group takes. Read at start: a change takes a restart")
                .add("node-selector", FlagSet.Kind.STRING, "", "JSON matchExpressions of the nodes that get pod"
                        + " CIDRs (with --pools-file: of the default group's nodes); empty: every node")
                .add("remove-taints", FlagSet.Kind.LIST, "", "taints removed once a node has its pod CIDRs: key,"
                        + " key:Effect, key=value or key=value:Effect, comma list")
                .add("leader-elect", FlagSet.Kind.BOOL, "true", "elect a leader on a Lease; only it writes")
                .add("leader-elect-lease-duration", FlagSet.Kind.DURATION, "15s", "how long a standby waits after"
                        + " the last renewal before taking over")
                .add("leader-elect-renew-deadline", FlagSet.Kind.DURATION, "10s", "how long the leader tries to"
                        + " renew before it stops writing")
                .add("leader-elect-retry-period", FlagSet.Kind.DURATION, "2s", "pause between tries to acquire"
                        + " or renew")
                .add("leader-elect-namespace", FlagSet.Kind.STRING, "$POD_NAMESPACE or kube-system",
                        "namespace of the Lease")
                .add("leader-elect-lease-name", FlagSet.Kind.STRING, "podcidr-controller", "name of the Lease")
                .add("workers", FlagSet.Kind.INT, String.valueOf(ControllerSettings.DEFAULT_WORKERS),
                        "reconcile threads")
                .add("kube-api-qps", FlagSet.Kind.FLOAT, "50", "requests per second to the API server (token"
                        + " bucket shared by all clients); -1: no client-side limit")
                .add("kube-api-burst", FlagSet.Kind.INT, "100", "requests allowed at once above the QPS")
                .add("metrics-bind-address", FlagSet.Kind.STRING, ":8080", "where /metrics listens; 0: off")
                .add("metrics-secure", FlagSet.Kind.BOOL, "false", "serve /metrics, /status and /status.json"
                        + " over HTTPS to bearer tokens allowed to get the path (TokenReview and"
                        + " SubjectAccessReview, decisions kept 10s); needs its own port beside the probes, which"
                        + " stay plain HTTP. The chart turns it on")
                .add("metrics-cert-dir", FlagSet.Kind.STRING, "", "directory of tls.crt and tls.key (PEM) for"
                        + " --metrics-secure, read at start; empty: a self-signed certificate made at start")
                .add("health-probe-bind-address", FlagSet.Kind.STRING, ":8081", "where /healthz and /readyz"
                        + " listen; 0: off")
                .add("log-format", FlagSet.Kind.STRING, "text", "text or json (one object per line)")
                .add("log-level", FlagSet.Kind.STRING, "info", "error, warn, info, debug or trace")
                .add("dry-run", FlagSet.Kind.BOOL, "false", "log every write instead of making it (no Lease,"
                        + " no events)")
                .add("cache-sync-timeout", FlagSet.Kind.DURATION, "2m", "how long a new leader may wait for its"
                        + " node cache to fill; past it the process exits 1 so that another replica takes over")
                .add("shutdown-grace-period", FlagSet.Kind.DURATION, "25s", "how long a graceful stop (SIGTERM)"
                        + " may take before the process halts: the pod's terminationGracePeriodSeconds less a margin."
                        + " Within it the node writes sent are answered or pass their deadline, then the Lease is"
                        + " released (not released if writes may still land)");
        return f;
    }

    /**
     * Prints the help table.
     *
     * @param out where to print
     */
    public static void printHelp(PrintStream out) {
        flagSet().printHelp(out, "java -jar podcidr-controller.jar [flags] | demo [flags] | plan [flags] | --version");
        out.println();
        out.println("Commands: without one, run the controller; demo runs it on an embedded cluster; plan checks a");
        out.println("configuration before installing (each takes --help).");
        out.println("Exit codes: 0 stopped by SIGTERM/SIGINT; 1 lost the Lease or failed; 2 bad flags.");
    }

    /**
     * Parses the controller's arguments with the process environment ({@code POD_NAMESPACE}, {@code POD_NAME}).
     *
     * @param args the arguments
     * @return the flags or every error
     */
    public static Result parse(String[] args) {
        return parse(args, System.getenv());
    }

    /**
     * Parses the controller's arguments.
     *
     * @param args the arguments
     * @param env the environment: {@code POD_NAMESPACE} is the default Lease namespace, {@code POD_NAME} (or the
     *     host name) with a random UUID the replica's identity
     * @return the flags or every error
     */
    public static Result parse(String[] args, Map<String, String> env) {
        FlagSet.Values v = flagSet().parse(args);
        if (v.help()) {
            return new Result(null, v.errors(), true);
        }
        boolean pools = v.has(PoolsFile.FLAG) && !v.raw(PoolsFile.FLAG).isBlank();
        ClusterRanges ranges = ClusterRanges.read(v, List.of(), true, !pools);
        List<NodeGroupSettings> groups = pools && ranges != null ? PoolsFile.read(v, ranges) : List.of();
        CommonFlags common = CommonFlags.read(v);

        String kubeconfig = v.string("kubeconfig", "");
        if (!kubeconfig.isEmpty() && !Files.isReadable(Path.of(kubeconfig))) {
            v.error("kubeconfig", kubeconfig, "is not a readable file; give the path of a kubeconfig, e.g."
                    + " --kubeconfig=$HOME/.kube/config, or leave it out inside a cluster");
        }
        boolean elect = v.bool("leader-elect", true);
        Duration lease = v.duration("leader-elect-lease-duration", Duration.ofSeconds(15), "15s");
        Duration renew = v.duration("leader-elect-renew-deadline", Duration.ofSeconds(10), "10s");
        Duration retry = v.duration("leader-elect-retry-period", Duration.ofSeconds(2), "2s");
        checkLeaseDurations(v, lease, renew, retry);
        String namespace = v.string("leader-elect-namespace",
                env.getOrDefault("POD_NAMESPACE", "").isBlank() ? "kube-system" : env.get("POD_NAMESPACE").strip());
        if (!DNS_LABEL.matcher(namespace).matches()) {
            v.error("leader-elect-namespace", namespace, "is not a namespace name (lower-case letters, digits and"
                    + " '-', at most 63); e.g. --leader-elect-namespace=kube-system");
        }
        String leaseName = v.string("leader-elect-lease-name", "podcidr-controller");
        if (!DNS_SUBDOMAIN.matcher(leaseName).matches()) {
            v.error("leader-elect-lease-name", leaseName, "is not a Lease name (lower-case letters, digits, '-' and"
                    + " '.'); e.g. --leader-elect-lease-name=podcidr-controller");
        }

        double qps = v.decimal("kube-api-qps", 50, "50");
        if (qps <= 0 && qps != UNLIMITED_QPS) {
            v.error("kube-api-qps", v.raw("kube-api-qps"), "must be positive, or -1 for no client-side limit;"
                    + " e.g. --kube-api-qps=50");
        }
        int burst = v.integer("kube-api-burst", 100, "100");
        if (burst < 1) {
            v.error("kube-api-burst", v.raw("kube-api-burst"), "must be at least 1; e.g. --kube-api-burst=100");
        }
        BindAddress metrics = address(v, "metrics-bind-address", ":8080");
        BindAddress health = address(v, "health-probe-bind-address", ":8081");
        boolean secure = v.bool("metrics-secure", false);
        Path certDir = certDir(v, secure);
        if (secure && metrics != null && metrics.equals(health) && metrics.port() != 0) {
            v.error("metrics-secure", "true", "needs a metrics port apart from the probes' (both are "
                    + metrics + "): the kubelet probes plain HTTP without a token; e.g."
                    + " --metrics-bind-address=:10290 --health-probe-bind-address=:10291, or --metrics-secure=false");
        }
        Duration cacheSync = v.duration("cache-sync-timeout", ControllerSettings.DEFAULT_CACHE_SYNC_TIMEOUT, "2m");
        if (cacheSync != null && (cacheSync.isNegative() || cacheSync.isZero())) {
            v.error("cache-sync-timeout", GoDuration.format(cacheSync), "must be positive; e.g."
                    + " --cache-sync-timeout=2m");
        }

        Duration grace = v.duration("shutdown-grace-period", ControllerRunner.DEFAULT_STOP_LIMIT, "25s");
        if (grace != null && grace.toMillis() < 1000) {
            v.error("shutdown-grace-period", GoDuration.format(grace), "must be at least 1s; set it to the pod's"
                    + " terminationGracePeriodSeconds less a margin, e.g. --shutdown-grace-period=25s for 30 s");
        }

        if (!v.errors().isEmpty() || ranges == null || common == null || groups == null) {
            return new Result(null, v.errors(), false);
        }
        try {
            ControllerSettings settings = common.settings(ranges, groups, v.bool("dry-run", false))
                    .withCacheSyncTimeout(cacheSync);
            LeaderElectionSettings election = new LeaderElectionSettings(elect, namespace, leaseName,
                    identity(env), lease, renew, retry);
            return new Result(new ControllerFlags(kubeconfig.isEmpty() ? null : kubeconfig, settings, election, qps,
                    burst, metrics, health, common.logFormat(), common.logLevel(), grace, secure, certDir),
                    List.of(), false);
        } catch (InvalidSettingException e) {
            // every rule of the settings is checked above with the flag named; this is a safety net
            v.error("flags", null, e.getMessage());
            return new Result(null, v.errors(), false);
        }
    }

    private static void checkLeaseDurations(FlagSet.Values v, Duration lease, Duration renew, Duration retry) {
        String order = "; expected lease duration > renew deadline > retry period > 0, e.g."
                + " --leader-elect-lease-duration=15s --leader-elect-renew-deadline=10s --leader-elect-retry-period=2s";
        if (lease.toMillis() < 1000) {
            v.error("leader-elect-lease-duration", GoDuration.format(lease), "must be at least 1s (a Lease counts"
                    + " whole seconds)" + order);
        } else if (lease.compareTo(renew) <= 0) {
            v.error("leader-elect-lease-duration", GoDuration.format(lease), "must be longer than"
                    + " --leader-elect-renew-deadline=" + GoDuration.format(renew) + order);
        }
        if (retry.isNegative() || retry.isZero()) {
            v.error("leader-elect-retry-period", GoDuration.format(retry), "must be positive" + order);
        } else if (renew.compareTo(retry) <= 0) {
            v.error("leader-elect-renew-deadline", GoDuration.format(renew), "must be longer than"
                    + " --leader-elect-retry-period=" + GoDuration.format(retry) + order);
        }
    }

    /** The certificate directory of --metrics-secure: null for a self-signed certificate. */
    private static Path certDir(FlagSet.Values v, boolean secure) {
        String text = v.string("metrics-cert-dir", "").strip();
        if (text.isEmpty()) {
            return null;
        }
        if (!secure) {
            v.error("metrics-cert-dir", text, "is used only with --metrics-secure=true, which is off; e.g."
                    + " --metrics-secure=true --metrics-cert-dir=/tmp/metrics-cert, or leave the directory out");
            return null;
        }
        Path dir = Path.of(text);
        for (String file : List.of(MetricsTls.CERT_FILE, MetricsTls.KEY_FILE)) {
            if (!Files.isReadable(dir.resolve(file))) {
                v.error("metrics-cert-dir", text, "has no readable " + file + "; expected a directory holding"
                        + " tls.crt and tls.key (PEM), as a kubernetes.io/tls Secret mounts them, e.g."
                        + " --metrics-cert-dir=/tmp/metrics-cert, or leave it out for a self-signed certificate");
                return null;
            }
        }
        return dir;
    }

    static BindAddress address(FlagSet.Values v, String flag, String dflt) {
        String text = v.string(flag, dflt);
        if (text.equals(BindAddress.DISABLED)) {
            return null;
        }
        try {
            return BindAddress.parse(text);
        } catch (IllegalArgumentException e) {
            v.error(flag, text, e.getMessage());
            return null;
        }
    }

    /**
     * This replica's identity in the Lease: {@code POD_NAME} (else the host name) and a random UUID, as client-go's
     * users make it ({@code <hostname>_<uuid>}), so that a restarted container of the same pod is another holder and
     * waits for the old term to expire instead of silently taking it back.
     */
    static String identity(Map<String, String> env) {
        String pod = env.get("POD_NAME");
        String name;
        if (pod != null && !pod.isBlank()) {
            name = pod.strip();
        } else {
            try {
                name = InetAddress.getLocalHost().getHostName();
            } catch (UnknownHostException e) {
                name = "podcidr-controller";
            }
        }
        return name + "_" + UUID.randomUUID();
    }

    /**
     * The flags every command that runs the controller shares: selection, taints, workers, logging.
     *
     * @param selector the node selector
     * @param taints taint rules
     * @param workers worker threads
     * @param logFormat the log format
     * @param logLevel the log level
     */
    record CommonFlags(NodeSelector selector, List<TaintRule> taints, int workers, LogFormat logFormat,
                       String logLevel) {
        static CommonFlags read(FlagSet.Values v) {
            return read(v, "info");
        }

        static CommonFlags read(FlagSet.Values v, String defaultLevel) {
            int before = v.errors().size();
            NodeSelector selector = NodeSelector.all();
            String sel = v.string("node-selector", "");
            if (!sel.isBlank()) {
                try {
                    selector = NodeSelector.parse(sel);
                } catch (InvalidSettingException e) {
                    v.error("node-selector", sel, e.getMessage());
                }
            }
            List<TaintRule> taints = List.of();
            if (v.has("remove-taints")) {
                try {
                    taints = TaintRule.parseList(v.raw("remove-taints"));
                } catch (InvalidSettingException e) {
                    v.error("remove-taints", v.raw("remove-taints"), e.getMessage());
                }
            }
            int workers = v.integer("workers", ControllerSettings.DEFAULT_WORKERS, "4");
            if (workers < 1 || workers > 256) {
                v.error("workers", v.raw("workers"), "must be within 1..256; e.g. --workers=4");
            }
            LogFormat format = LogFormat.TEXT;
            String f = v.string("log-format", "text");
            try {
                format = LogFormat.valueOf(f.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                v.error("log-format", f, "is not a log format; expected text or json, e.g. --log-format=json");
            }
            String level = v.string("log-level", defaultLevel).toLowerCase(Locale.ROOT);
            if (!LOG_LEVELS.contains(level)) {
                v.error("log-level", v.raw("log-level"), "is not a log level; expected one of "
                        + String.join(", ", LOG_LEVELS) + ", e.g. --log-level=debug");
            }
            return v.errors().size() > before ? null : new CommonFlags(selector, taints, workers, format, level);
        }

        ControllerSettings settings(ClusterRanges ranges, boolean dryRun) {
            return settings(ranges, List.of(), dryRun);
        }

        ControllerSettings settings(ClusterRanges ranges, List<NodeGroupSettings> groups, boolean dryRun) {
            return ControllerSettings.builder()
                    .nodeGroups(groups)
                    .clusterCidrs(ranges.cluster())
                    .nodeMaskIpv4(ranges.maskIpv4())
                    .nodeMaskIpv6(ranges.maskIpv6())
                    .reservedCidrs(ranges.reserved())
                    .nodeSelector(selector)
                    .removeTaints(taints)
                    .workers(workers)
                    .dryRun(dryRun)
                    .build();
        }
    }
}
