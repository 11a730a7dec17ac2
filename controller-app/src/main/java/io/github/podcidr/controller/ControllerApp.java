package io.github.podcidr.controller;

import io.github.podcidr.k8s.ApiClientFactory;
import io.github.podcidr.k8s.ControllerRunner;
import io.prometheus.client.CollectorRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running controller: the {@link ControllerRunner} (leader election, then the controller), its metrics and its
 * HTTP endpoints (metrics and the status page, probes). {@link #close()} is the graceful stop: no new work, in-flight writes finish, the Lease is released,
 * then the endpoints close.
 */
final class ControllerApp implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ControllerApp.class);
    /**
     * Logged at start when leader election is off (and the replica writes): every replica then writes as if it led,
     * and two of them hand out the same subnets. The chart refuses {@code replicaCount > 1} without it.
     */
    static final String ELECTION_OFF = "leader election is off: run exactly one replica; two replicas without it"
            + " both write and can give one subnet to two nodes (--leader-elect=true, or the chart's"
            + " leaderElection.enabled, to run more)";

    private final ControllerRunner runner;
    private final PrometheusMetrics metrics;
    private final HttpEndpoints endpoints;
    /** What the runner's graceful stop may take: {@code --shutdown-grace-period} less a margin for the rest. */
    private final java.time.Duration stopLimit;
    private boolean closed;

    private ControllerApp(ControllerRunner runner, PrometheusMetrics metrics, HttpEndpoints endpoints,
                          java.time.Duration grace) {
        this.runner = runner;
        this.metrics = metrics;
        this.endpoints = endpoints;
        java.time.Duration margin = java.time.Duration.ofSeconds(1);
        this.stopLimit = grace.compareTo(margin.multipliedBy(2)) > 0 ? grace.minus(margin) : grace.dividedBy(2);
    }

    /**
     * Starts the endpoints, then the runner (which campaigns in the background).
     *
     * @param flags the checked flags
     * @param clients makes API clients
     * @param registry where metrics go and what /metrics serves
     * @param onLeadershipLost called once if the Lease is lost other than by {@link #close()}
     * @return the running app
     * @throws IOException if an address cannot be bound or a client cannot be made
     */
    static ControllerApp start(ControllerFlags flags, ApiClientFactory clients, CollectorRegistry registry,
                               Runnable onLeadershipLost) throws IOException {
        ControllerRunner[] holder = new ControllerRunner[1];
        PrometheusMetrics metrics = new PrometheusMetrics(registry, () -> holder[0]);
        WriteRates rates = new WriteRates();
        ControllerRunner runner = new ControllerRunner(clients, flags.settings(), flags.election(),
                new TeeMetrics(metrics, rates), onLeadershipLost);
        holder[0] = runner;
        boolean elected = flags.election().enabled() && !flags.settings().dryRun();
        StatusPage status = new StatusPage(() -> StatusSnapshot.capture(runner, flags.election().identity(), elected,
                rates));
        HttpEndpoints endpoints;
        HttpEndpoints.Secure secure = null;
        try {
            if (flags.metricsSecure() && flags.metricsAddress() != null) {
                secure = new HttpEndpoints.Secure(MetricsTls.of(flags.metricsCertDir()), EndpointAuth.of(clients));
            }
            endpoints = HttpEndpoints.start(flags.metricsAddress(), flags.healthProbeAddress(), registry,
                    runner::isHealthy, runner::isReady, status, secure);
        } catch (IOException | RuntimeException e) {
            metrics.close();
            throw e;
        }
        ControllerApp app = new ControllerApp(runner, metrics, endpoints, flags.shutdownGracePeriod());
        if (!flags.election().enabled() && !flags.settings().dryRun()) {
            LOG.atWarn().setMessage(ELECTION_OFF).addKeyValue("identity", flags.election().identity()).log();
        }
        try {
            runner.start();
        } catch (IOException | RuntimeException e) {
            app.close();
            throw e;
        }
        LOG.atInfo().setMessage("started").addKeyValue("version", Version.current())
                .addKeyValue("cluster_cidrs", flags.settings().clusterCidrs())
                .addKeyValue("node_mask_ipv4", flags.settings().nodeMaskIpv4())
                .addKeyValue("node_mask_ipv6", flags.settings().nodeMaskIpv6())
                .addKeyValue("reserved", flags.settings().reservedCidrs())
                .addKeyValue("workers", flags.settings().workers()).addKeyValue("dry_run", flags.settings().dryRun())
                .addKeyValue("leader_elect", flags.election().enabled())
                .addKeyValue("lease", flags.election().namespace() + "/" + flags.election().leaseName())
                .addKeyValue("identity", flags.election().identity())
                .addKeyValue("metrics", endpoints.metricsAddress())
                .addKeyValue("metrics_tls", secure == null ? "off" : secure.tls().source())
                .addKeyValue("probes", endpoints.probeAddress())
                .log();
        return app;
    }

    ControllerRunner runner() {
        return runner;
    }

    InetSocketAddress metricsAddress() {
        return endpoints.metricsAddress();
    }

    InetSocketAddress probeAddress() {
        return endpoints.probeAddress();
    }

    /** Graceful stop; idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            runner.close(stopLimit);
        } finally {
            endpoints.close();
            metrics.close();
        }
    }
}
