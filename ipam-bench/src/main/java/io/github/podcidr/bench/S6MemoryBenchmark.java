package io.github.podcidr.bench;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * S6 size sweep, memory: the retained heap of a full pool of 2^16, 2^20 and 2^24 subnets (10.0.0.0/8 cut into /24,
 * /28 and /32), measured with JOL (see {@link Footprint}). The figures are the secondary results
 * {@code retainedBytes}, {@code bitsPerSubnet} and {@code bitsPerAllocation}; the primary score is only the time
 * JOL took to walk the pool. The IPv6 2^32 pool is {@link S6LargePoolMemoryBenchmark}.
 *
 * <p>Run: {@code java -jar ipam-bench/target/benchmarks.jar S6MemoryBenchmark}
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 0)
@Measurement(iterations = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
@State(Scope.Thread)
public class S6MemoryBenchmark {
    /** The implementation: ours, boolean-array (Go podcidr-controller) or bit-scan (Kubernetes CIDRSet). */
    @Param({Implementations.OURS, Implementations.BOOLEAN_ARRAY, Implementations.BIT_SCAN})
    public String impl;

    /** The pool: 2^16, 2^20 or 2^24 subnets, filled. */
    @Param({"10.0.0.0/8>24", "10.0.0.0/8>28", "10.0.0.0/8>32"})
    public String pool;

    private SubnetAllocator allocator;

    @Setup(Level.Iteration)
    public void fullPool() {
        allocator = Implementations.create(impl, PoolSpec.parse(pool));
        for (long i = allocator.capacity(); i > 0; i--) {
            allocator.allocate();
        }
    }

    @Benchmark
    public long retainedBytes(Footprint footprint) {
        return footprint.measure(allocator, allocator.capacity());
    }
}
