package io.github.podcidr.controller;

import io.github.podcidr.ipam.Cidr;
import io.github.podcidr.k8s.ControllerMetrics;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * What the controller wrote in the last minute, for the status page: subnets assigned and released, taints removed,
 * failed writes. Fed like the Prometheus counters (the same calls of {@link ControllerMetrics}), counted in one-second
 * buckets of a ring, so a read costs 60 additions whatever the rate.
 */
final class WriteRates implements ControllerMetrics {
    /** The window of {@link #lastMinute()}, in seconds. */
    static final int WINDOW_SECONDS = 60;
    private static final int ASSIGNED = 0;
    private static final int RELEASED = 1;
    private static final int TAINTS = 2;
    private static final int FAILED = 3;

    private final LongSupplier epochSecond;
    /** Per slot (second modulo the window): the second it counts, and its counts; guarded by this. */
    private final long[] second = new long[WINDOW_SECONDS];
    private final long[][] counts = new long[WINDOW_SECONDS][4];
    private final long[] totals = new long[4];

    /** Counts on the system clock. */
    WriteRates() {
        this(() -> System.currentTimeMillis() / 1000);
    }

    WriteRates(LongSupplier epochSecond) {
        this.epochSecond = epochSecond;
        java.util.Arrays.fill(second, Long.MIN_VALUE);
    }

    /**
     * Counts of the last {@link #WINDOW_SECONDS} seconds and since start.
     *
     * @param assignedLastMinute subnets written to nodes
     * @param releasedLastMinute subnets freed because their node went away
     * @param taintsRemovedLastMinute taints removed from nodes
     * @param failedWritesLastMinute node writes that failed
     * @param assignedTotal subnets written since this process started
     * @param failedWritesTotal failed writes since this process started
     */
    record Rates(long assignedLastMinute, long releasedLastMinute, long taintsRemovedLastMinute,
                 long failedWritesLastMinute, long assignedTotal, long failedWritesTotal) {
    }

    private synchronized void add(int what, long n) {
        long now = epochSecond.getAsLong();
        int slot = (int) Math.floorMod(now, (long) WINDOW_SECONDS);
        if (second[slot] != now) {
            second[slot] = now;
            java.util.Arrays.fill(counts[slot], 0);
        }
        counts[slot][what] += n;
        totals[what] += n;
    }

    /**
     * Sums the buckets of the last minute.
     *
     * @return the counts
     */
    synchronized Rates lastMinute() {
        long now = epochSecond.getAsLong();
        long[] sum = new long[4];
        for (int slot = 0; slot < WINDOW_SECONDS; slot++) {
            if (now - second[slot] < WINDOW_SECONDS && second[slot] <= now) {
                for (int k = 0; k < 4; k++) {
                    sum[k] += counts[slot][k];
                }
            }
        }
        return new Rates(sum[ASSIGNED], sum[RELEASED], sum[TAINTS], sum[FAILED], totals[ASSIGNED], totals[FAILED]);
    }

    @Override
    public void assigned(String node, List<Cidr> cidrs) {
        add(ASSIGNED, cidrs.size());
    }

    @Override
    public void released(String node, List<Cidr> cidrs) {
        add(RELEASED, cidrs.size());
    }

    @Override
    public void taintsRemoved(String node, int count) {
        add(TAINTS, count);
    }

    @Override
    public void writeFailed(String reason) {
        add(FAILED, 1);
    }
}
