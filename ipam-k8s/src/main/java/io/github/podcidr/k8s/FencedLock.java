package io.github.podcidr.k8s;

import io.kubernetes.client.extended.leaderelection.LeaderElectionRecord;
import io.kubernetes.client.extended.leaderelection.Lock;
import io.kubernetes.client.openapi.ApiException;
import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * A lease lock that remembers when this replica last wrote the lease as its holder, and so tells whether writes are
 * still safe: until {@code renewDeadline} after the start of the last successful renewal. The elector gives up
 * after that long without renewing, and a standby takes over only {@code leaseDuration} (longer) after the last
 * renewal it saw, so a write allowed here cannot overlap the next leader's writes (clocks aside, as in client-go).
 *
 * <p>It also works around kubernetes-client/java#4913: the client's elector measures a lease's expiry from the
 * moment it first sees the record, so a replica that starts after the holder died waits a whole lease duration
 * even when the lease expired long ago. A record whose renewal is older than twice the lease duration (its own or
 * ours, whichever is longer; the margin absorbs clock skew between replicas) is reported as free, so the elector
 * takes it at once. The take-over is still an optimistic update of the Lease read, so two replicas cannot both win.
 *
 * <p>A Lease released by client-go (the Go podcidr-controller on SIGTERM, kube-controller-manager, any Go elector)
 * names the holder {@code ""}; client-java counts only {@code null} as free and would wait a whole lease duration of
 * its own before taking it. Both are reported as free here.
 */
final class FencedLock implements Lock, WriteFence {
    private final Lock delegate;
    private final long validNanos;
    private final LongSupplier nanoTime;
    private final long leaseMillis;
    private final LongSupplier wallMillis;
    /** System.nanoTime() when the last successful renewal as holder started; 0 when not holding. */
    private volatile long renewedAt;
    private volatile boolean holding;

    FencedLock(Lock delegate, Duration leaseDuration, Duration renewDeadline, LongSupplier nanoTime,
               LongSupplier wallMillis) {
        this.delegate = delegate;
        this.validNanos = renewDeadline.toNanos();
        this.nanoTime = nanoTime;
        this.leaseMillis = leaseDuration.toMillis();
        this.wallMillis = wallMillis;
    }

    @Override
    public LeaderElectionRecord get() throws ApiException {
        LeaderElectionRecord r = delegate.get();
        if (r == null || r.getHolderIdentity() == null) {
            return r;
        }
        if (r.getHolderIdentity().isEmpty()) {
            // Released by client-go, which writes "" where client-java writes null: free now (see the class comment).
            return free(r);
        }
        if (r.getRenewTime() == null || identity().equals(r.getHolderIdentity())) {
            return r;
        }
        long lease = Math.max(leaseMillis, r.getLeaseDurationSeconds() * 1000L);
        if (wallMillis.getAsLong() - r.getRenewTime().getTime() <= 2 * lease) {
            return r;
        }
        // Long expired: report it as free (see the class comment).
        return free(r);
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

    @Override
    public String identity() {
        return delegate.identity();
    }

    @Override
    public String describe() {
        return delegate.describe();
    }
}
