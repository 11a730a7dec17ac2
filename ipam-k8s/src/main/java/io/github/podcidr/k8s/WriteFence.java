package io.github.podcidr.k8s;

import java.time.Duration;

/**
 * Whether this replica may write now, and for how long. Only the leader writes (invariant 2); a leader that could
 * not renew its lease in time must stop before a standby can take over, so the check is made right before every
 * write, again once the write has waited for the client-side rate limit, and every write carries the time left as its
 * deadline ({@link #remaining()}). The API server may still store a write after that deadline (it answers 504 and
 * stores it anyway): what such a late write can do is argued in {@code docs/reliability.md}.
 */
@FunctionalInterface
public interface WriteFence {
    /** Always open: for a single replica without leader election. */
    WriteFence OPEN = () -> true;

    /** What {@link #remaining()} answers for a fence without an expiry. */
    Duration UNBOUNDED = Duration.ofNanos(Long.MAX_VALUE);

    /**
     * Tells whether a write may be sent now.
     *
     * @return true while this replica holds a fresh lease
     */
    boolean mayWrite();

    /**
     * Tells how long from now a write may still land: a write sent now gets at most this long to be answered. The
     * default, for fences without an expiry, is {@link #UNBOUNDED} while open and zero when closed.
     *
     * @return the time left, zero (never negative) once closed
     */
    default Duration remaining() {
        return mayWrite() ? UNBOUNDED : Duration.ZERO;
    }

    /**
     * The writes sent under this fence that may still land, so that a graceful stop hands the Lease over only once
     * none can. The default tracks nothing: a fence without a Lease (no election) has nothing to hand over.
     *
     * @return the tracker every node write reports to
     */
    default InFlightWrites inFlight() {
        return InFlightWrites.UNTRACKED;
    }
}
