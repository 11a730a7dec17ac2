package io.github.podcidr.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.podcidr.ipam.Cidr;
import io.github.podcidr.k8s.TaintRule;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ControllerFlagsTest {
    private static final String UUID_FORM = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
    private static final Map<String, String> ENV = Map.of("POD_NAME", "podcidr-0", "POD_NAMESPACE", "infra");

    private static ControllerFlags.Result parse(String... args) {
        return ControllerFlags.parse(args, ENV);
    }

    @Test
    void defaultsAreTheGoControllers() {
        ControllerFlags.Result r = parse("--cluster-cidr=10.244.0.0/16");
        assertTrue(r.ok(), () -> r.errors().toString());
        ControllerFlags f = r.flags();
        assertEquals(List.of(Cidr.parse("10.244.0.0/16")), f.settings().clusterCidrs());
        assertEquals(24, f.settings().nodeMaskIpv4());
        assertEquals(64, f.settings().nodeMaskIpv6());
        assertTrue(f.election().enabled());
        assertEquals(Duration.ofSeconds(15), f.election().leaseDuration());
        assertEquals(Duration.ofSeconds(10), f.election().renewDeadline());
        assertEquals(Duration.ofSeconds(2), f.election().retryPeriod());
        assertEquals("infra", f.election().namespace(), "POD_NAMESPACE");
        assertEquals("podcidr-controller", f.election().leaseName());
        assertTrue(f.election().identity().matches("podcidr-0_" + UUID_FORM), "POD_NAME_<uuid>: "
                + f.election().identity());
        assertNotEquals(f.election().identity(), parse("--cluster-cidr=10.244.0.0/16").flags().election().identity(),
                "a restarted container is another holder");
        assertEquals(50, f.kubeApiQps());
        assertEquals(100, f.kubeApiBurst());
        assertEquals(new BindAddress("", 8080), f.metricsAddress());
        assertEquals(new BindAddress("", 8081), f.healthProbeAddress());
        assertEquals(LogFormat.TEXT, f.logFormat());
        assertEquals("info", f.logLevel());
        assertFalse(f.settings().dryRun());
        assertNull(f.kubeconfig());
        assertEquals(32, f.settings().workers());
        assertEquals(Duration.ofSeconds(25), f.shutdownGracePeriod(), "the chart's 30 s grace less a margin");
        assertFalse(f.metricsSecure(), "plain HTTP unless asked: the chart asks, and grants the reviews it needs");
        assertNull(f.metricsCertDir());
    }

    @Test
    void secureMetricsTakeACertificateDirectory(@TempDir Path dir)
            throws IOException {
        Files.writeString(dir.resolve("tls.crt"), "x");
        Files.writeString(dir.resolve("tls.key"), "x");
        ControllerFlags.Result r = parse("--cluster-cidr=10.244.0.0/16", "--metrics-secure",
                "--metrics-cert-dir=" + dir);
        assertTrue(r.ok(), () -> r.errors().toString());
        assertTrue(r.flags().metricsSecure());
        assertEquals(dir, r.flags().metricsCertDir());
        assertTrue(parse("--cluster-cidr=10.244.0.0/16", "--metrics-secure=true", "--metrics-bind-address=0",
                "--health-probe-bind-address=0").ok(), "nothing to secure when both are off");
    }

    @Test
    void namespaceDefaultsToKubeSystemOutsideAPod() {
        ControllerFlags.Result r = ControllerFlags.parse(new String[] {"--cluster-cidr=10.244.0.0/16"}, Map.of());
        assertEquals("kube-system", r.flags().election().namespace());
        assertTrue(r.flags().election().identity().matches(".+_" + UUID_FORM), r.flags().election().identity());
    }

    @Test
    void goStyleFormsAndEveryFlag() {
        ControllerFlags.Result r = parse("-cluster-cidr", "10.244.0.0/16,10.245.0.0/16,fd00:10:244::/56",
                "--node-cidr-mask-size", "25", "--node-cidr-mask-size-ipv6=80", "--reserved-cidrs=10.244.255.0/24",
                "--node-selector=[{\"key\":\"kubernetes.io/os\",\"operator\":\"In\",\"values\":[\"linux\"]}]",
                "--remove-taints=tke.cloud.tencent.com/eni-ip-unavailable", "--remove-taints=a=b:NoExecute",
                "--leader-elect=false", "--leader-elect-lease-duration=1m30s", "--leader-elect-renew-deadline=1m",
                "--leader-elect-retry-period=500ms", "--leader-elect-namespace=kube-system",
                "--leader-elect-lease-name=pcc.lease", "--workers=8", "--kube-api-qps=-1", "--kube-api-burst=7",
                "--metrics-bind-address=127.0.0.1:9090", "--health-probe-bind-address=0", "--log-format=json",
                "--log-level=DEBUG", "--dry-run", "--shutdown-grace-period=1m50s");
        assertTrue(r.ok(), () -> r.errors().toString());
        ControllerFlags f = r.flags();
        assertEquals(3, f.settings().clusterCidrs().size());
        assertEquals(25, f.settings().nodeMaskIpv4(), "the Go flag sets IPv4 in dual-stack");
        assertEquals(80, f.settings().nodeMaskIpv6());
        assertEquals(List.of(Cidr.parse("10.244.255.0/24")), f.settings().reservedCidrs());
        assertEquals(1, f.settings().nodeSelector().requirements().size());
        assertEquals(List.of(TaintRule.parse("tke.cloud.tencent.com/eni-ip-unavailable"),
                TaintRule.parse("a=b:NoExecute")), f.settings().removeTaints(), "a repeated list flag appends");
        assertFalse(f.election().enabled());
        assertEquals(Duration.ofSeconds(90), f.election().leaseDuration());
        assertEquals(Duration.ofMillis(500), f.election().retryPeriod());
        assertEquals("pcc.lease", f.election().leaseName());
        assertEquals(8, f.settings().workers());
        assertEquals(ControllerFlags.UNLIMITED_QPS, f.kubeApiQps());
        assertEquals(7, f.kubeApiBurst());
        assertEquals(new BindAddress("127.0.0.1", 9090), f.metricsAddress());
        assertNull(f.healthProbeAddress(), "0 switches the endpoint off");
        assertEquals(LogFormat.JSON, f.logFormat());
        assertEquals("debug", f.logLevel());
        assertTrue(f.settings().dryRun());
        assertEquals(Duration.ofSeconds(110), f.shutdownGracePeriod());
    }

    @Test
    void genericMaskAppliesToAnIpv6OnlyCluster() {
        ControllerFlags f = parse("--cluster-cidr=fd00::/48", "--node-cidr-mask-size=72").flags();
        assertEquals(72, f.settings().nodeMaskIpv6());
    }

    static Stream<Arguments> errors() {
        return Stream.of(
                Arguments.of("missing cluster CIDR", List.of(), "--cluster-cidr: is required",
                        "e.g. --cluster-cidr=10.244.0.0/16"),
                Arguments.of("host bits", List.of("--cluster-cidr=10.244.0.1/16"), "--cluster-cidr=10.244.0.1/16:",
                        "the network is 10.244.0.0/16"),
                Arguments.of("not a CIDR", List.of("--cluster-cidr=10.244.0.0"), "--cluster-cidr=10.244.0.0:",
                        "10.244.0.0"),
                Arguments.of("overlapping ranges", List.of("--cluster-cidr=10.244.0.0/16,10.244.128.0/17"),
                        "has overlapping ranges 10.244.0.0/16 and 10.244.128.0/17", "give disjoint ranges"),
                Arguments.of("families interleaved", List.of("--cluster-cidr=10.244.0.0/16,fd00::/48,10.245.0.0/16"),
                        "mixes the families", "--cluster-cidr=10.244.0.0/16,10.245.0.0/16,fd00::/48"),
                Arguments.of("mask shorter than the cluster", List.of("--cluster-cidr=10.244.0.0/16",
                        "--node-cidr-mask-size=12"), "--node-cidr-mask-size=12: must not be shorter than the prefix"
                        + " of cluster range 10.244.0.0/16", "e.g. --node-cidr-mask-size=24"),
                Arguments.of("default mask shorter", List.of("--cluster-cidr=10.244.0.0/25"),
                        "--node-cidr-mask-size=24: (the default) must not be shorter", "10.244.0.0/25"),
                Arguments.of("mask out of range", List.of("--cluster-cidr=10.244.0.0/16",
                        "--node-cidr-mask-size-ipv4=33"), "--node-cidr-mask-size-ipv4=33: is outside 1..32",
                        "e.g. --node-cidr-mask-size-ipv4=24"),
                Arguments.of("IPv6 mask", List.of("--cluster-cidr=10.244.0.0/16,fd00::/80"),
                        "--node-cidr-mask-size-ipv6=64: (the default) must not be shorter than the prefix of"
                                + " cluster range fd00::/80", "e.g. --node-cidr-mask-size-ipv6="),
                Arguments.of("too many subnets", List.of("--cluster-cidr=fd00::/32", "--node-cidr-mask-size-ipv6=96"),
                        "cuts fd00::/32 into 2^64 subnets", "e.g. --node-cidr-mask-size-ipv6=48"),
                Arguments.of("contradictory masks", List.of("--cluster-cidr=10.244.0.0/16",
                        "--node-cidr-mask-size=24", "--node-cidr-mask-size-ipv4=26"),
                        "--node-cidr-mask-size=24: contradicts --node-cidr-mask-size-ipv4=26", "give one of them"),
                Arguments.of("reserved covers a pool", List.of("--cluster-cidr=10.244.0.0/16",
                        "--reserved-cidrs=10.0.0.0/8"), "--reserved-cidrs=10.0.0.0/8: leaves no subnet of cluster"
                        + " range 10.244.0.0/16", "10.0.0.0/8 covers all of it"),
                Arguments.of("bad reserved", List.of("--cluster-cidr=10.244.0.0/16", "--reserved-cidrs=10.96.0.0/33"),
                        "--reserved-cidrs=10.96.0.0/33:", "e.g. --reserved-cidrs=10.96.0.0/12"),
                Arguments.of("bad selector", List.of("--cluster-cidr=10.244.0.0/16", "--node-selector={\"key\":1}"),
                        "--node-selector={\"key\":1}:", "kubernetes.io/os"),
                Arguments.of("bad taint rule", List.of("--cluster-cidr=10.244.0.0/16", "--remove-taints=a:NoWay"),
                        "--remove-taints=a:NoWay: ", "key=value:Effect"),
                Arguments.of("lease shorter than renew", List.of("--cluster-cidr=10.244.0.0/16",
                        "--leader-elect-lease-duration=5s"), "--leader-elect-lease-duration=5s: must be longer than"
                        + " --leader-elect-renew-deadline=10s", "e.g. --leader-elect-lease-duration=15s"),
                Arguments.of("renew shorter than retry", List.of("--cluster-cidr=10.244.0.0/16",
                        "--leader-elect-retry-period=10s"), "--leader-elect-renew-deadline=10s: must be longer than"
                        + " --leader-elect-retry-period=10s", "lease duration > renew deadline > retry period"),
                Arguments.of("retry zero", List.of("--cluster-cidr=10.244.0.0/16", "--leader-elect-retry-period=0"),
                        "--leader-elect-retry-period=0s: must be positive", "--leader-elect-retry-period=2s"),
                Arguments.of("duration without unit", List.of("--cluster-cidr=10.244.0.0/16",
                        "--leader-elect-lease-duration=15"), "--leader-elect-lease-duration=15: has no unit",
                        "15s"),
                Arguments.of("bad bool", List.of("--cluster-cidr=10.244.0.0/16", "--leader-elect=maybe"),
                        "--leader-elect=maybe: is not a boolean", "--leader-elect=false"),
                Arguments.of("qps zero", List.of("--cluster-cidr=10.244.0.0/16", "--kube-api-qps=0"),
                        "--kube-api-qps=0: must be positive, or -1", "--kube-api-qps=50"),
                Arguments.of("qps not a number", List.of("--cluster-cidr=10.244.0.0/16", "--kube-api-qps=fast"),
                        "--kube-api-qps=fast: is not a number", "--kube-api-qps=50"),
                Arguments.of("burst zero", List.of("--cluster-cidr=10.244.0.0/16", "--kube-api-burst=0"),
                        "--kube-api-burst=0: must be at least 1", "--kube-api-burst=100"),
                Arguments.of("workers zero", List.of("--cluster-cidr=10.244.0.0/16", "--workers=0"),
                        "--workers=0: must be within 1..256", "--workers=4"),
                Arguments.of("workers not a number", List.of("--cluster-cidr=10.244.0.0/16", "--workers=four"),
                        "--workers=four: is not a whole number", "--workers=4"),
                Arguments.of("bad bind address", List.of("--cluster-cidr=10.244.0.0/16",
                        "--metrics-bind-address=8080"), "--metrics-bind-address=8080: has no port", ":8080"),
                Arguments.of("bad port", List.of("--cluster-cidr=10.244.0.0/16",
                        "--health-probe-bind-address=:70000"), "has port 70000 outside 0..65535", ":8080"),
                Arguments.of("metrics-secure not a boolean", List.of("--cluster-cidr=10.244.0.0/16",
                        "--metrics-secure=yes-please"), "--metrics-secure=yes-please: is not a boolean",
                        "--metrics-secure=false"),
                Arguments.of("secure metrics on the probes' port", List.of("--cluster-cidr=10.244.0.0/16",
                        "--metrics-secure=true", "--metrics-bind-address=:9000",
                        "--health-probe-bind-address=:9000"), "--metrics-secure=true: needs a metrics port apart"
                        + " from the probes'", "--metrics-bind-address=:10290 --health-probe-bind-address=:10291"),
                Arguments.of("cert dir without secure", List.of("--cluster-cidr=10.244.0.0/16",
                        "--metrics-cert-dir=/etc/ssl"), "--metrics-cert-dir=/etc/ssl: is used only with"
                        + " --metrics-secure=true", "--metrics-secure=true --metrics-cert-dir="),
                Arguments.of("cert dir without the files", List.of("--cluster-cidr=10.244.0.0/16",
                        "--metrics-secure=true", "--metrics-cert-dir=/nonexistent/cert"),
                        "--metrics-cert-dir=/nonexistent/cert: has no readable tls.crt", "tls.crt and tls.key (PEM)"),
                Arguments.of("grace too short", List.of("--cluster-cidr=10.244.0.0/16",
                        "--shutdown-grace-period=500ms"), "--shutdown-grace-period=500ms: must be at least 1s",
                        "--shutdown-grace-period=25s"),
                Arguments.of("log format", List.of("--cluster-cidr=10.244.0.0/16", "--log-format=xml"),
                        "--log-format=xml: is not a log format", "--log-format=json"),
                Arguments.of("log level", List.of("--cluster-cidr=10.244.0.0/16", "--log-level=verbose"),
                        "--log-level=verbose: is not a log level", "--log-level=debug"),
                Arguments.of("bad namespace", List.of("--cluster-cidr=10.244.0.0/16",
                        "--leader-elect-namespace=Kube_System"), "--leader-elect-namespace=Kube_System:",
                        "--leader-elect-namespace=kube-system"),
                Arguments.of("bad lease name", List.of("--cluster-cidr=10.244.0.0/16",
                        "--leader-elect-lease-name=Lease!"), "--leader-elect-lease-name=Lease!:",
                        "--leader-elect-lease-name=podcidr-controller"),
                Arguments.of("missing kubeconfig file", List.of("--cluster-cidr=10.244.0.0/16",
                        "--kubeconfig=/nonexistent/kubeconfig"), "--kubeconfig=/nonexistent/kubeconfig: is not a"
                        + " readable file", "--kubeconfig=$HOME/.kube/config"),
                Arguments.of("unknown flag with suggestion", List.of("--cluster-cidr=10.244.0.0/16",
                        "--cluster-cdir=10.0.0.0/8"), "--cluster-cdir=10.0.0.0/8: unknown flag",
                        "did you mean --cluster-cidr?"),
                Arguments.of("unknown flag, no suggestion", List.of("--cluster-cidr=10.244.0.0/16", "--zzz"),
                        "--zzz: unknown flag", "(see --help)"),
                Arguments.of("positional argument", List.of("--cluster-cidr=10.244.0.0/16", "run"),
                        "argument 2=run: is not a flag", "--name=value"),
                Arguments.of("value missing at the end", List.of("--cluster-cidr=10.244.0.0/16", "--workers"),
                        "--workers: needs a value", "--workers=32"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("errors")
    void eachErrorNamesFlagValueAndExample(String name, List<String> args, String text, String example) {
        ControllerFlags.Result r = parse(args.toArray(String[]::new));
        assertFalse(r.ok());
        String all = r.errors().toString();
        assertTrue(all.contains(text), () -> "expected \"" + text + "\" in " + all);
        assertTrue(all.contains(example), () -> "expected \"" + example + "\" in " + all);
        assertEquals(1, r.errors().size(), () -> "one mistake, one error: " + all);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("errors")
    void eachErrorExitsWithCode2BeforeTouchingTheCluster(String name, List<String> args, String text,
                                                          String example) {
        Output o = Main_run(args.toArray(String[]::new));
        assertEquals(2, o.code);
        assertTrue(o.err.contains(text), o.err);
        assertTrue(o.err.contains("nothing was started"), o.err);
        assertEquals("", o.out);
    }

    @Test
    void everyErrorIsReportedAtOnce() {
        Output o = Main_run(new String[] {"--cluster-cidr=10.244.0.1/16,fd00::/129", "--workers=0",
                "--kube-api-qps=0", "--leader-elect-lease-duration=1s", "--log-format=xml", "--remove-taints=:x",
                "--metrics-bind-address=nope", "--lease-name=x"});
        assertEquals(2, o.code);
        assertTrue(o.err.contains("9 configuration errors"), o.err); // two bad CIDRs in one flag
        for (String flag : List.of("--cluster-cidr=10.244.0.1/16,fd00::/129", "--workers=0", "--kube-api-qps=0",
                "--leader-elect-lease-duration=1s", "--log-format=xml", "--remove-taints=:x",
                "--metrics-bind-address=nope", "--lease-name=x: unknown flag; did you mean --leader-elect-lease-name?")) {
            assertTrue(o.err.contains(flag), () -> flag + " missing in\n" + o.err);
        }
    }

    @Test
    void noKubeconfigOutsideAPodIsAConfigError() {
        // this test process is not in a pod: KUBERNETES_SERVICE_HOST is unset
        org.junit.jupiter.api.Assumptions.assumeFalse(KubeClients.inCluster());
        Output o = Main_run(new String[] {"--cluster-cidr=10.244.0.0/16"});
        assertEquals(2, o.code);
        assertTrue(o.err.contains("--kubeconfig: not given, and this process is not in a pod"), o.err);
    }

    @Test
    void helpPrintsTheFlagsTable() {
        Output o = Main_run(new String[] {"--help"});
        assertEquals(0, o.code);
        for (FlagSet.Flag f : ControllerFlags.flagSet().flags()) {
            assertTrue(o.out.contains("--" + f.name() + " "), () -> f.name() + " missing in help");
        }
        assertTrue(o.out.contains("--kube-api-qps float") && o.out.contains("-1: no client-side limit"), o.out);
        assertTrue(o.out.contains("(default 15s)"), o.out);
    }

    @Test
    void versionPrintsTheBuildsVersion() {
        Output o = Main_run(new String[] {"--version"});
        assertEquals(0, o.code, o.err);
        assertEquals("podcidr-controller 0.1.0-SNAPSHOT\n", o.out, "the project version the build wrote");
    }

    record Output(int code, String out, String err) {
    }

    static Output Main_run(String[] args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Output(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }
}
