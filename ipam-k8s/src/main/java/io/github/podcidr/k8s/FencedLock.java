package io.github.podcidr.k8s;

import io.kubernetes.client.extended.leaderelection.LeaderElectionRecord;
import io.kubernetes.client.extended.leaderelection.Lock;
import io.kubernetes.client.openapi.ApiException;
import java.time.Duration;
import java.util.Date;
import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * A lease lock that remembers when this replica last wrote the lease as its holder, and so tells whether writes are
 * still safe: until {@code renewDeadline} after the start of the last successful renewal. The elector gives up
 * after that long without renewing, and a standby takes over only {@code leaseDuration} (longer) after it last saw
 * the record change, so a write allowed here cannot overlap the next leader's writes.
 *
 * <p>Expiry of another replica's Lease is judged as client-go judges it: on this replica's monotonic clock, from
 * the moment it last saw the record change, never from the {@code renewTime} the holder wrote (another machine's wall
 * clock: a standby whose clock runs ahead would otherwise take a healthy Lease). client-java's elector measures the
 * same span with {@code System.currentTimeMillis()}, which a clock step moves; so while the holder is live by the
 * monotonic measure this lock hands the elector a copy of the record with a fresh {@code renewTime}, which it takes
 * for a renewal, and once the holder has been silent for a lease duration it reports the Lease as free, which the
 * elector takes at once with an optimistic update of the Lease read (two replicas cannot both win). A replica that
 * starts after the holder died therefore waits one lease duration, as a Go replica does.
 *
 * <p>A Lease released by client-go (the Go podcidr-controller on SIGTERM, kube-controller-manager, any Go elector)
 * names the holder {@code ""}; client-java counts only {@code null} as free and would wait a whole lease duration of
 * its own before taking it. Both are reported as free here.
 *
 * <p>Seeing another holder closes this replica's fence at once, whatever its own renewal said.
 */
final class FencedLock implements Lock, WriteFence {
    private final Lock delegate;
    private final long validNanos;
    private final long leaseNanos;
    private final LongSupplier nanoTime;
    /** System.nanoTime() when the last successful renewal as holder started; 0 when not holding. */
    private volatile long renewedAt;
    private volatile boolean holding;
    /** The other holder's record as last read, and System.nanoTime() when it was first read so; guarded by this. */
    private LeaderElectionRecord observed;
    private long observedAt;

    FencedLock(Lock delegate, Duration leaseDuration, Duration renewDeadline, LongSupplier nanoTime) {
        this.delegate = delegate;
        this.validNanos = renewDeadline.toNanos();
        this.leaseNanos = leaseDuration.toNanos();
        this.nanoTime = nanoTime;
    }

    @Override
    public LeaderElectionRecord get() throws ApiException {
        LeaderElectionRecord r = delegate.get();
        if (r == null || r.getHolderIdentity() == null) {
            forget();
            return r;
        }
        if (r.getHolderIdentity().isEmpty()) {
            forget();
            return free(r);
        }
        if (identity().equals(r.getHolderIdentity())) {
            forget();
            return r;
        }
        holding = false; // another replica holds the Lease: no write from here, whatever our renewal said
        return expired(r) ? free(r) : live(r);
    }

    /** Whether another holder's record has stood unchanged for a lease duration on this replica's clock. */
    private synchronized boolean expired(LeaderElectionRecord r) {
        long now = nanoTime.getAsLong();
        if (observed == null || !sameRecord(observed, r)) {
            observed = r;
            observedAt = now;
        }
        long lease = Math.max(leaseNanos, Duration.ofSeconds(Math.max(0, r.getLeaseDurationSeconds())).toNanos());
        return now - observedAt >= lease;
    }

    private synchronized void forget() {
        observed = null;
    }

    private static boolean sameRecord(LeaderElectionRecord a, LeaderElectionRecord b) {
        return Objects.equals(a.getHolderIdentity(), b.getHolderIdentity())
                && Objects.equals(a.getRenewTime(), b.getRenewTime())
                && Objects.equals(a.getAcquireTime(), b.getAcquireTime())
                && a.getLeaseDurationSeconds() == b.getLeaseDurationSeconds()
                && a.getLeaderTransitions() == b.getLeaderTransitions();
    }

    /**
     * A copy the elector reads as just renewed, so that its wall-clock expiry never runs ahead of ours. A Lease
     * written without {@code acquireTime} (by hand, or by another tool) gets one here: client-java's elector takes a
     * record without it at once, as if nobody held it, which would take a live holder's Lease.
     */
    private static LeaderElectionRecord live(LeaderElectionRecord r) {
        Date now = new Date();
        return new LeaderElectionRecord(r.getHolderIdentity(), r.getLeaseDurationSeconds(),
                r.getAcquireTime() == null ? now : r.getAcquireTime(), now, r.getLeaderTransitions());
    }

    /** The record as the elector reads a Lease that names nobody: it takes it with an update at once. */
    private static LeaderElectionRecord free(LeaderElectionRecord r) {
        LeaderElectionRecord free = new LeaderElectionRecord();
        free.setLeaderTransitions(r.getLeaderTransitions());
        free.setLeaseDurationSeconds(r.getLeaseDurationSeconds());
        return free;
    }

    @Override
    public boolean create(LeaderElectionRecord record) {
        long started = nanoTime.getAsLong();
        boolean ok = delegate.create(record);
        observe(ok, record, started);
        return ok;
    }

    @Override
    public boolean update(LeaderElectionRecord record) {
        long started = nanoTime.getAsLong();
        boolean ok = delegate.update(record);
        observe(ok, record, started);
        return ok;
    }

    private void observe(boolean ok, LeaderElectionRecord record, long started) {
        if (!ok) {
            return;
        }
        if (identity().equals(record.getHolderIdentity())) {
            renewedAt = started;
            holding = true;
        } else {
            holding = false; // released (empty holder) or written for someone else
        }
    }

    /** Stops writes at once, e.g. when the elector reports the lease lost or on shutdown. */
    void revoke() {
        holding = false;
    }

    @Override
    public boolean mayWrite() {
        return holding && nanoTime.getAsLong() - renewedAt < validNanos;
    }

    /** Until {@code renewDeadline} after the start of the last successful renewal; zero when not holding. */
    @Override
    public Duration remaining() {
        if (!holding) {
            return Duration.ZERO;
        }
        long left = validNanos - (nanoTime.getAsLong() - renewedAt);
        return left > 0 ? Duration.ofNanos(left) : Duration.ZERO;
    }

    @Override
    public String identity() {
        return delegate.identity();
    }

    @Override
    public String describe() {
        return delegate.describe();
    }
}
