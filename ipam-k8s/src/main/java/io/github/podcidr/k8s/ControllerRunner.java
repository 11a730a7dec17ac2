package io.github.podcidr.k8s;

import io.kubernetes.client.openapi.ApiClient;
import java.io.IOException;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the controller only while this replica leads: campaigns for a Lease with a {@link LeaseElector} (client-go's
 * rules), starts a fresh {@link PodCidrController} (informer, restore, workers) when it wins, and stops writing at
 * once when it loses. The elector campaigns once, so a lost lease ends the term for good: {@code onLeadershipLost}
 * is called and the process should exit non-zero, to be restarted and campaign anew. {@link #close(Duration)} is the
 * graceful path: the fence closes for good, the workers stop, every node write already sent is answered or passes
 * its deadline, and only then is the Lease released, so that a standby takes over in about one retry period. A
 * write the client gave up on at its deadline may still be stored by the server later (kube-apiserver 1.20 does):
 * its intent stays unsettled in the {@link IntentJournal}, which the standby inherits.
 *
 * <p>Readiness: a leader is ready once restored; a standby is ready at once, so that rolling updates proceed.
 */
public final class ControllerRunner implements AutoCloseable {
    /**
     * How long {@link #close()} may take: the chart's {@code terminationGracePeriodSeconds} (30 s) less a margin, as
     * the controller's {@code --shutdown-grace-period} default.
     */
    public static final Duration DEFAULT_STOP_LIMIT = Duration.ofSeconds(25);
    private static final Logger LOG = LoggerFactory.getLogger(ControllerRunner.class);
    /** How long the workers get to finish the node they are on before they are interrupted. */
    private static final Duration WORKER_GRACE = Duration.ofSeconds(5);

    private final ApiClientFactory clients;
    private final ControllerSettings settings;
    private final LeaderElectionSettings election;
    private final ControllerMetrics metrics;
    private final Runnable onLeadershipLost;
    private final AtomicBoolean closing = new AtomicBoolean();
    private final AtomicBoolean leading = new AtomicBoolean();
    private final AtomicBoolean lost = new AtomicBoolean();
    /** System.nanoTime() when this term started. */
    private volatile long leadingSince;
    private volatile PodCidrController controller;
    private volatile boolean electionFailed;
    private volatile LeaseElector elector;
    private Thread electionThread;

    /**
     * Creates a runner; nothing runs until {@link #start()}.
     *
     * @param clients makes API clients for the cluster
     * @param settings the controller's settings
     * @param election the leader election settings ({@code enabled=false} runs the controller at once)
     * @param metrics where counters go
     * @param onLeadershipLost called once if the lease is lost other than by {@link #close()}, or the leading path
     *     fails (the node cache does not sync within {@link ControllerSettings#cacheSyncTimeout()}, or any other
     *     error): the process should exit non-zero
     */
    public ControllerRunner(ApiClientFactory clients, ControllerSettings settings, LeaderElectionSettings election,
                            ControllerMetrics metrics, Runnable onLeadershipLost) {
        this.clients = Objects.requireNonNull(clients, "clients");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.election = Objects.requireNonNull(election, "election");
        this.metrics = Objects.requireNonNull(metrics, "metrics");
        this.onLeadershipLost = Objects.requireNonNull(onLeadershipLost, "onLeadershipLost");
    }

    /**
     * Starts campaigning in the background, or, without election (or in dry-run, which must never hold the lease
     * of the real controller), starts the controller right away.
     *
     * @throws IOException if an API client cannot be made
     */
    public void start() throws IOException {
        if (!election.enabled() || settings.dryRun()) {
            leadingSince = System.nanoTime();
            leading.set(true);
            electionThread = new Thread(() -> lead(WriteFence.OPEN), "podcidr-controller");
            electionThread.setDaemon(true);
            electionThread.start();
            return;
        }
        LeaseElector e = new LeaseElector(new LeaseStore(election.namespace(), election.leaseName(),
                leaseClient(clients, election)), election, System::nanoTime);
        elector = e;
        electionThread = new Thread(() -> e.run(this::startLeading, this::stoppedLeading), "podcidr-leader-election");
        electionThread.setDaemon(true);
        electionThread.start();
        LOG.atInfo().setMessage("campaigning").addKeyValue("lease", election.namespace() + "/" + election.leaseName())
                .addKeyValue("identity", election.identity()).log();
    }

    /**
     * The elector's own client: outside the rate limit shared with node writes and events, and with connect, read and
     * write timeouts of half the renew deadline (controller-runtime's choice), so that one unanswered request leaves
     * time for another try before the leader gives up. No whole-call timeout while campaigning: a fresh JVM's first
     * request (TLS handshake, class loading) took longer than that on a busy 2-core machine; a renewal gets what is
     * left of its round's renew deadline as its whole-call limit.
     */
    static ApiClient leaseClient(ApiClientFactory clients, LeaderElectionSettings election) throws IOException {
        ApiClient client = clients.createForElection();
        Duration half = election.renewDeadline().dividedBy(2);
        client.setHttpClient(client.getHttpClient().newBuilder().connectTimeout(half).readTimeout(half)
                .writeTimeout(half).build());
        return client;
    }

    /** The elector won: the term's work runs on its own thread, so that renewals go on while the cache fills. */
    private void startLeading() {
        Thread t = new Thread(() -> lead(elector), "podcidr-controller");
        t.setDaemon(true);
        t.start();
    }

    private void lead(WriteFence fence) {
        if (closing.get()) {
            return;
        }
        leadingSince = System.nanoTime();
        leading.set(true);
        LOG.atInfo().setMessage("became leader").addKeyValue("identity", election.identity()).log();
        PodCidrController c = new PodCidrController(clients, settings, metrics, fence, journalOf(election));
        controller = c;
        try {
            c.start();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Throwable e) { // anything else ends the term: a leader that cannot work must not keep the Lease
            fail(e);
        }
    }

    /**
     * Ends the term after a failure of the leading path: logs the cause, stops writing and calls
     * {@code onLeadershipLost} (the process exits 1, and its graceful stop releases the Lease so that another replica
     * takes over in about one retry period).
     */
    private void fail(Throwable cause) {
        electionFailed = true;
        if (elector != null) {
            elector.stop();
        }
        if (closing.get()) {
            return;
        }
        LOG.atError().setMessage("leader failed; giving up the term").addKeyValue("identity", election.identity())
                .addKeyValue("cause", cause.toString()).setCause(cause).log();
        if (lost.compareAndSet(false, true)) {
            onLeadershipLost.run();
        }
    }

    private void stoppedLeading() {
        leading.set(false);
        PodCidrController c = controller;
        if (c != null) {
            c.stop(Duration.ofSeconds(5));
        }
        if (!closing.get() && lost.compareAndSet(false, true)) {
            LOG.atError().setMessage("lost the lease; stopped writing, exiting so that a new term can start")
                    .addKeyValue("identity", election.identity()).log();
            onLeadershipLost.run();
        }
    }

    /**
     * Tells whether this replica leads (always true without election).
     *
     * @return true while leading
     */
    public boolean isLeader() {
        return leading.get();
    }

    /**
     * Ready: a leader that has restored and runs, or a standby.
     *
     * @return true if the replica can take traffic in a rollout
     */
    public boolean isReady() {
        if (!leading.get()) {
            return !electionFailed && !closing.get();
        }
        PodCidrController c = controller;
        return c != null && c.isReady();
    }

    /**
     * Healthy: the election thread lives; when leading and started, so do the workers; and a leader that is not
     * ready has been leading for less than the cache sync timeout.
     *
     * @return false if the process should be restarted
     */
    public boolean isHealthy() {
        if (electionFailed || electionThread == null || !electionThread.isAlive() && election.enabled()
                && !settings.dryRun()) {
            return false;
        }
        PodCidrController c = controller;
        if (leading.get() && (c == null || !c.isReady())) {
            return System.nanoTime() - leadingSince < settings.cacheSyncTimeout().toNanos();
        }
        return c == null || !c.isReady() || c.isHealthy();
    }

    /**
     * Returns the controller of the current term.
     *
     * @return the controller, or null when not leading
     */
    public PodCidrController controller() {
        return leading.get() ? controller : null;
    }

    /**
     * Returns the leader election Lease as this replica last read or wrote it (a standby reads it every retry
     * period): who leads and since when.
     *
     * @return the Lease; empty without leader election (or in dry-run) and before the first answer of the API
     */
    public java.util.Optional<LeaderLease> lease() {
        LeaseElector e = elector;
        return e == null ? java.util.Optional.empty() : java.util.Optional.ofNullable(e.lastSeen());
    }

    /**
     * Graceful stop within {@link #DEFAULT_STOP_LIMIT}: see {@link #close(Duration)}.
     */
    @Override
    public void close() {
        close(DEFAULT_STOP_LIMIT);
    }

    /**
     * Graceful stop: the write fence closes for good (nothing more is sent, no later renewal re-opens it), the
     * workers stop (up to 5 s, then they are interrupted), every node write already sent is answered or passes its
     * deadline, and only then is the Lease released. If writes may still land when {@code limit} is nearly spent,
     * the Lease is not released: a standby then takes it a lease duration after the last renewal, when no write of
     * this replica can land any more (its deadlines end before that).
     *
     * @param limit how long the whole stop may take; the process halts soon after (the pod's grace period less a
     *     margin)
     */
    public void close(Duration limit) {
        if (!closing.compareAndSet(false, true)) {
            return;
        }
        long until = System.nanoTime() + limit.toNanos();
        LeaseElector e = elector;
        if (e != null) {
            e.stop();
        }
        PodCidrController c = controller;
        if (c != null) {
            c.stop(min(WORKER_GRACE, left(until).dividedBy(2)));
        }
        if (e != null) {
            Duration requestLimit = election.renewDeadline().dividedBy(2);
            long drainUntil = until - Math.min(requestLimit.toNanos() * 2, limit.toNanos() / 2);
            boolean drained = false;
            try {
                drained = e.inFlight().awaitDrained(drainUntil);
                electionThread.join(Math.max(1, left(until).toMillis()));
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
            }
            if (!drained) {
                LOG.atWarn().setMessage("node writes may still land; not releasing the lease (a standby takes it"
                        + " after a lease duration)").addKeyValue("identity", election.identity())
                        .addKeyValue("in_flight", e.inFlight().pending()).log();
            } else if (!electionThread.isAlive()) {
                boolean released = e.release(min(requestLimit, left(until)));
                LOG.atInfo().setMessage(released ? "released the lease" : "lease not held; nothing to release")
                        .addKeyValue("identity", election.identity()).log();
            }
        }
        leading.set(false);
        LOG.atInfo().setMessage("stopped").addKeyValue("identity", election.identity()).log();
    }

    /**
     * The intent journal's Lease: beside the election's, named after it, so that replicas of one controller share
     * it and two controllers with their own leases do not.
     *
     * @param election the leader election settings
     * @return the journal's location
     */
    static IntentJournal.Location journalOf(LeaderElectionSettings election) {
        return new IntentJournal.Location(election.namespace(), election.leaseName() + "-intents");
    }

    private static Duration left(long untilNanos) {
        long left = untilNanos - System.nanoTime();
        return Duration.ofNanos(Math.max(1_000_000, left));
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }
}
