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
 * S6 size sweep, memory of the largest pool: fd00::/32 cut into /64 (2^32 subnets) after 130,000 allocations (a
 * 130,000-node cluster) and after 1,000,000, measured with JOL (see {@link Footprint}). Ours only (see
 * {@link S6LargePoolBenchmark}).
 *
 * <p>Run: {@code java -jar ipam-bench/target/benchmarks.jar S6LargePoolMemoryBenchmark}
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 0)
@Measurement(iterations = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
@State(Scope.Thread)
public class S6LargePoolMemoryBenchmark {
    /** The pool: 2^32 subnets. */
    @Param("fd00::/32>64")
    public String pool;

    /** Allocations from empty before measuring. */
    @Param({"130000", "1000000"})
    public long allocations;

    private SubnetAllocator allocator;

    @Setup(Level.Iteration)
    public void partlyFilledPool() {
        allocator = Implementations.create(Implementations.OURS, PoolSpec.parse(pool));
        for (long i = 0; i < allocations; i++) {
            allocator.allocate();
        }
    }

    @Benchmark
    public long retainedBytes(Footprint footprint) {
        return footprint.measure(allocator, allocations);
    }
}
