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
 * S6 size sweep, time, the largest pool: fd00::/32 cut into /64 (2^32 subnets); allocate the first 1,000,000 from
 * empty, then start again with a fresh pool. Score: ns per allocation. Ours only: neither baseline can represent
 * 2^32 subnets (a Java array or {@link java.util.BitSet} stops below 2^31 entries; the Go boolean array would need
 * 4 GiB, and Kubernetes refuses IPv6 ranges of more than 2^16 subnets).
 *
 * <p>Run: {@code java -jar ipam-bench/target/benchmarks.jar S6LargePoolBenchmark}
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
@State(Scope.Thread)
public class S6LargePoolBenchmark {
    /** The pool: 2^32 subnets. */
    @Param("fd00::/32>64")
    public String pool;

    /** Allocations from empty before starting again. */
    @Param("1000000")
    public long allocations;

    private PoolSpec spec;
    private SubnetAllocator allocator;
    private long left;

    @Setup(Level.Trial)
    public void emptyPool() {
        spec = PoolSpec.parse(pool);
        allocator = Implementations.create(Implementations.OURS, spec);
        left = allocations;
    }

    @Benchmark
    public Cidr allocateWhileFilling() {
        if (left == 0) {
            allocator = Implementations.create(Implementations.OURS, spec);
            left = allocations;
        }
        left--;
        return allocator.allocate();
    }
}
