package io.github.podcidr.k8s;

import io.kubernetes.client.openapi.ApiException;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One replica's campaign for a Lease, with client-go's rules ({@code tools/leaderelection}), and the write fence of
 * the one term it may win. {@code docs/reliability.md} sets the rules beside client-go's, line by line:
 * <ul>
 *   <li><b>Acquire</b>: every {@code retryPeriod} (jittered by up to 1.2 times, as client-go's
 *       {@code JitterUntil}) read the Lease; take it (an update carrying the resourceVersion read, so two replicas
 *       cannot both win) when it names nobody, or when its record has not changed for a lease duration.</li>
 *   <li><b>Expiry</b> is judged on this replica's monotonic clock from when it last saw the record change, never from
 *       the {@code renewTime} another replica wrote with its own wall clock.</li>
 *   <li><b>Renew</b>: right after winning, then every {@code retryPeriod}; a round that has not succeeded within
 *       {@code renewDeadline} ends the term. Seeing another holder (or none) while leading ends it at once.</li>
 *   <li><b>Fence</b>: writes are allowed until {@code renewDeadline} after the start of the last successful renewal
 *       (a standby takes over only {@code leaseDuration}, longer, after it saw that renewal).</li>
 *   <li><b>A stop stays stopped</b>: once {@link #stop()} is called or the term ends, the fence is closed for good
 *       and no renewal, even one already on the wire, re-opens it. A replica campaigns once; a new term takes a new
 *       process (the runner exits non-zero after a loss).</li>
 *   <li><b>Release</b> ({@link #release}) is the caller's step, once the writes of the term have drained
 *       ({@link #inFlight()}): the record is rewritten naming nobody, as client-go's {@code ReleaseOnCancel}.</li>
 * </ul>
 * Lease writes change only the election record of the Lease as read ({@link LeaseStore}).
 */
final class LeaseElector implements WriteFence {
    private static final Logger LOG = LoggerFactory.getLogger(LeaseElector.class);
    /** client-go's JitterFactor: a campaign try waits {@code retryPeriod * (1 + 1.2 * random)}. */
    static final double JITTER = 1.2;

    private final LeaseStore store;
    private final String identity;
    private final long leaseNanos;
    private final long renewNanos;
    private final long retryNanos;
    private final int leaseSeconds;
    private final LongSupplier nanoTime;
    private final InFlightWrites inFlight;
    private final CountDownLatch stopSignal = new CountDownLatch(1);

    /** The Lease as last read or written; written by the election thread only. */
    private volatile LeaseStore.Lease observed;
    /** System.nanoTime() when {@link #observed}'s record was first seen as it is. */
    private volatile long observedAt;
    /** Wall-clock time of the last read or write, for status pages. */
    private volatile Instant observedWall;
    /** The holder last reported in the log. */
    private String reportedLeader;
    /** System.nanoTime() at the start of the last successful renewal (or acquisition). */
    private volatile long renewedAt;
    /** True while this replica holds the Lease by its last write and has not stopped. */
    private volatile boolean holding;
    /** Set once: by {@link #stop()}, or when the term ends; never cleared. */
    private volatile boolean stopped;
    /** Whether this replica won its term; written by the election thread only. */
    private volatile boolean won;

    LeaseElector(LeaseStore store, LeaderElectionSettings settings, LongSupplier nanoTime) {
        this.store = store;
        this.identity = settings.identity();
        this.leaseNanos = settings.leaseDuration().toNanos();
        this.renewNanos = settings.renewDeadline().toNanos();
        this.retryNanos = settings.retryPeriod().toNanos();
        this.leaseSeconds = (int) settings.leaseDuration().toSeconds();
        this.nanoTime = nanoTime;
        this.inFlight = new InFlightWrites(nanoTime);
    }

    /**
     * Campaigns until this replica wins or {@link #stop()} is called, then renews until the term ends. Blocks.
     *
     * @param onStartedLeading called once on winning (must return quickly: start the work on another thread)
     * @param onStoppedLeading called once when a won term ends, by a loss or by {@link #stop()}
     */
    void run(Runnable onStartedLeading, Runnable onStoppedLeading) {
        try {
            if (!acquire()) {
                return;
            }
            won = true;
            LOG.atInfo().setMessage("acquired the lease").addKeyValue("lease", store.describe())
                    .addKeyValue("identity", identity).log();
            onStartedLeading.run();
            renew();
        } catch (RuntimeException e) {
            LOG.atError().setMessage("leader election failed").addKeyValue("lease", store.describe())
                    .setCause(e).log();
        } finally {
            stopped = true;
            holding = false;
            if (won) {
                onStoppedLeading.run();
            }
        }
    }

    private boolean acquire() {
        while (!stopped) {
            if (tryAcquireOrRenew(Duration.ZERO)) {
                return !stopped; // a stop during the winning write: the caller releases what it won
            }
            pause((long) (retryNanos * (1 + JITTER * ThreadLocalRandom.current().nextDouble())));
        }
        return false;
    }

    private void renew() {
        while (!stopped) {
            long roundStart = nanoTime.getAsLong();
            boolean renewed = false;
            while (!stopped) {
                long left = renewNanos - (nanoTime.getAsLong() - roundStart);
                if (left <= 0) {
                    break;
                }
                if (tryAcquireOrRenew(Duration.ofNanos(left))) {
                    renewed = true;
                    break;
                }
                pause(Math.min(retryNanos, renewNanos - (nanoTime.getAsLong() - roundStart)));
            }
            if (stopped) {
                return;
            }
            if (!renewed) {
                LOG.atError().setMessage("could not renew the lease within the renew deadline; the term ends")
                        .addKeyValue("lease", store.describe()).addKeyValue("identity", identity)
                        .addKeyValue("renew_deadline_ms", renewNanos / 1_000_000).log();
                return;
            }
            pause(retryNanos);
        }
    }

    /**
     * One try: read the Lease, then create it, take it or renew it as the rules allow.
     *
     * @param timeout each request's whole limit, or zero for none (while campaigning)
     * @return true if this replica holds the Lease by the write just made
     */
    boolean tryAcquireOrRenew(Duration timeout) {
        try {
            LeaseStore.Lease read = store.get(timeout);
            Instant now = Instant.now();
            if (read == null) {
                LeaseStore.Lease fresh = new LeaseStore.Lease(new com.google.gson.JsonObject())
                        .with(spec -> LeaseStore.record(spec, identity, leaseSeconds, now, now, 0));
                long sent = nanoTime.getAsLong();
                return held(store.create(fresh.spec(), timeout), sent);
            }
            see(read);
            boolean mine = identity.equals(read.holder());
            if (!mine) {
                holding = false; // someone else (or nobody) is named: not one more write from here
                if (won) {
                    LOG.atError().setMessage("the lease names another holder; the term ends")
                            .addKeyValue("lease", store.describe()).addKeyValue("holder", read.holder()).log();
                    stopped = true;
                    return false;
                }
                if (!read.holder().isEmpty() && !expired(read)) {
                    return false;
                }
            }
            Instant acquired = mine && read.acquireTime() != null ? read.acquireTime() : now;
            int transitions = mine ? read.transitions() : read.transitions() + 1;
            LeaseStore.Lease next = read.with(spec -> LeaseStore.record(spec, identity, leaseSeconds, acquired, now,
                    transitions));
            long sent = nanoTime.getAsLong();
            return held(store.update(next, timeout), sent);
        } catch (ApiException e) {
            LOG.atDebug().setMessage("lease request failed").addKeyValue("lease", store.describe())
                    .addKeyValue("code", e.getCode()).addKeyValue("error", e.getMessage()).log();
            return false;
        }
    }

    /** Takes note of a write that named this replica (null: refused); the fence re-opens only if not stopped. */
    private boolean held(LeaseStore.Lease written, long sent) {
        if (written == null) {
            return false;
        }
        see(written);
        if (!identity.equals(written.holder())) {
            return false;
        }
        renewedAt = sent;
        holding = !stopped; // a renewal answered after a stop must not re-open the fence
        return true;
    }

    private void see(LeaseStore.Lease lease) {
        long now = nanoTime.getAsLong();
        if (!lease.sameRecord(observed)) {
            observedAt = now;
        }
        observed = lease;
        observedWall = Instant.now();
        String holder = lease.holder();
        if (!holder.equals(reportedLeader)) {
            reportedLeader = holder;
            LOG.atInfo().setMessage("leader is").addKeyValue("lease", store.describe())
                    .addKeyValue("identity", holder.isEmpty() ? "(none)" : holder).log();
        }
    }

    /** Whether another holder's record has stood unchanged for a lease duration on this replica's clock. */
    private boolean expired(LeaseStore.Lease lease) {
        long limit = Math.max(leaseNanos, TimeUnit.SECONDS.toNanos(Math.max(0, lease.leaseDurationSeconds())));
        return nanoTime.getAsLong() - observedAt >= limit;
    }

    private void pause(long nanos) {
        if (nanos <= 0) {
            return;
        }
        try {
            stopSignal.await(nanos, TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stop();
        }
    }

    /** Closes the fence for good and ends the campaign or the term after the request under way. */
    void stop() {
        stopped = true;
        holding = false;
        stopSignal.countDown();
    }

    /**
     * Gives the Lease up if this replica still holds it, as client-go's {@code release()}: the record names nobody
     * ({@code holderIdentity: ""}, lease duration 1 s, transitions kept), so that a standby takes it at its next try.
     * Call it only after {@link #stop()}, once the election thread has returned and the writes have drained.
     *
     * @param timeout each request's limit
     * @return true if released
     */
    boolean release(Duration timeout) {
        LeaseStore.Lease last = observed;
        if (!stopped || last == null || !identity.equals(last.holder())) {
            return false;
        }
        try {
            LeaseStore.Lease read = store.get(timeout);
            if (read == null || !identity.equals(read.holder())) {
                return false;
            }
            Instant now = Instant.now();
            LeaseStore.Lease written = store.update(read.with(spec -> LeaseStore.record(spec, "", 1, now, now,
                    read.transitions())), timeout);
            if (written != null) {
                observed = written;
                observedWall = Instant.now();
                return true;
            }
            return false;
        } catch (ApiException e) {
            LOG.atWarn().setMessage("could not release the lease; a standby takes it after a lease duration")
                    .addKeyValue("lease", store.describe()).addKeyValue("code", e.getCode()).log();
            return false;
        }
    }

    @Override
    public boolean mayWrite() {
        return holding && !stopped && nanoTime.getAsLong() - renewedAt < renewNanos;
    }

    /** Until {@code renewDeadline} after the start of the last successful renewal; zero once closed. */
    @Override
    public Duration remaining() {
        if (!holding || stopped) {
            return Duration.ZERO;
        }
        long left = renewNanos - (nanoTime.getAsLong() - renewedAt);
        return left > 0 ? Duration.ofNanos(left) : Duration.ZERO;
    }

    @Override
    public InFlightWrites inFlight() {
        return inFlight;
    }

    /** This replica's identity. */
    String identity() {
        return identity;
    }

    /** The Lease as last read or written, or null before the first answer; for status pages. */
    LeaderLease lastSeen() {
        LeaseStore.Lease l = observed;
        if (l == null) {
            return null;
        }
        return new LeaderLease(l.holder(), l.acquireTime(), l.renewTime(), l.leaseDurationSeconds(),
                l.transitions(), observedWall);
    }
}
