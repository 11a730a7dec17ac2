package io.github.podcidr.bench;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jol.info.GraphLayout;

/**
 * The retained heap of a pool, reported by the S6 memory benchmarks as JMH secondary results ({@code retainedBytes},
 * {@code bitsPerSubnet}, {@code bitsPerAllocation}). Measured with JOL's {@link GraphLayout}: the sum of the shallow
 * sizes of every object reachable from the allocator (its index, its cluster {@code Cidr}, the baselines' codec),
 * which is exactly what the pool keeps alive. Measured once per fork: run with one measurement iteration.
 */
@State(Scope.Thread)
@AuxCounters(AuxCounters.Type.EVENTS)
public class Footprint {
    /** Bytes reachable from the allocator. */
    public long retainedBytes;
    /** retainedBytes * 8 / capacity. */
    public double bitsPerSubnet;
    /** retainedBytes * 8 / subnets allocated. */
    public double bitsPerAllocation;

    /**
     * Measures an allocator and records the figures.
     *
     * @param allocator the pool
     * @param allocated how many subnets it has allocated
     * @return the retained bytes
     */
    long measure(SubnetAllocator allocator, long allocated) {
        retainedBytes = GraphLayout.parseInstance(allocator).totalSize();
        bitsPerSubnet = retainedBytes * 8.0 / allocator.capacity();
        bitsPerAllocation = allocated == 0 ? 0 : retainedBytes * 8.0 / allocated;
        return retainedBytes;
    }
}
