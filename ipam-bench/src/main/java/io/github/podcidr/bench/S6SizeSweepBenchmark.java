package io.github.podcidr.bench;

import io.github.podcidr.ipam.Cidr;
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
 * S6 size sweep, time: allocation while filling pools of 2^16, 2^20 and 2^24 subnets (10.0.0.0/8 cut into /24, /28
 * and /32). Score: ns per allocation, averaged over whole fills: one invocation is one allocate, and when the pool is
 * full the next invocation starts a fresh empty pool (that pool's construction is inside the timing, amortised over
 * the fill: under 1 ns per allocation). The IPv6 2^32 pool is {@link S6LargePoolBenchmark}; memory is
 * {@link S6MemoryBenchmark}.
 *
 * <p>Run: {@code java -jar ipam-bench/target/benchmarks.jar S6SizeSweepBenchmark}
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
@State(Scope.Thread)
public class S6SizeSweepBenchmark {
    /** The implementation: ours, boolean-array (Go podcidr-controller) or bit-scan (Kubernetes CIDRSet). */
    @Param({Implementations.OURS, Implementations.BOOLEAN_ARRAY, Implementations.BIT_SCAN})
    public String impl;

    /** The pool: 2^16, 2^20 or 2^24 subnets. */
    @Param({"10.0.0.0/8>24", "10.0.0.0/8>28", "10.0.0.0/8>32"})
    public String pool;

    private PoolSpec spec;
    private SubnetAllocator allocator;
    private long left;

    @Setup(Level.Trial)
    public void emptyPool() {
        spec = PoolSpec.parse(pool);
        allocator = Implementations.create(impl, spec);
        left = allocator.capacity();
    }

    @Benchmark
    public Cidr allocateWhileFilling() {
        if (left == 0) {
            allocator = Implementations.create(impl, spec);
            left = allocator.capacity();
        }
        left--;
        return allocator.allocate();
    }
}
