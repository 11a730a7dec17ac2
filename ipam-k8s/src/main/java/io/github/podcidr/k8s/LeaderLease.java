package io.github.podcidr.k8s;

import java.time.Instant;

/**
 * The leader election Lease as this replica last read or wrote it: who holds it and since when. A standby reads the
 * Lease every retry period, the leader writes it at every renewal, so this is at most one retry period old.
 *
 * @param holder the holder's identity, or empty when nobody holds it (released)
 * @param acquired when the holder took the Lease (its {@code acquireTime}), or null if not recorded
 * @param renewed when the holder last renewed it (its {@code renewTime}, the holder's clock), or null
 * @param leaseDurationSeconds how long a standby waits after the last renewal before taking over
 * @param transitions how many times the Lease changed hands
 * @param seenAt when this replica last read or wrote the Lease (its own clock)
 */
public record LeaderLease(String holder, Instant acquired, Instant renewed, int leaseDurationSeconds,
                          int transitions, Instant seenAt) {
    /**
     * Tells whether somebody holds the Lease.
     *
     * @return false when the holder is empty (released or never taken)
     */
    public boolean held() {
        return !holder.isEmpty();
    }
}
