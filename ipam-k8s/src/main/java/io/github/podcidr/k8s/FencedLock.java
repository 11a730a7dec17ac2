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
 */
final class FencedLock implements Lock, WriteFence {
    private final Lock delegate;
    private final long validNanos;
    private final LongSupplier nanoTime;
    /** System.nanoTime() when the last successful renewal as holder started; 0 when not holding. */
    private volatile long renewedAt;
    private volatile boolean holding;

    FencedLock(Lock delegate, Duration renewDeadline, LongSupplier nanoTime) {
        this.delegate = delegate;
        this.validNanos = renewDeadline.toNanos();
        this.nanoTime = nanoTime;
    }

    @Override
    public LeaderElectionRecord get() throws ApiException {
        return delegate.get();
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
