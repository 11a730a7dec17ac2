package io.github.podcidr.bench;

import io.github.podcidr.ipam.Cidr;
import java.util.Random;
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
 * S6 memory, scattered: fd00::/32 cut into /64 (2^32 subnets) after {@code occupies} occupies that are not packed at
 * the start as allocations are, but spread as a restore from other controllers' choices can be: {@code per-block}
 * puts one subnet in each of the first {@code occupies} blocks of 2^16 subnets (65,536 blocks: every block of the
 * pool), {@code random} draws subnets uniformly (fixed seed). Measured with JOL (see {@link Footprint}). Ours only:
 * neither baseline can represent 2^32 subnets.
 *
 * <p>The subnets are built from their text ({@link SubnetCodec}) and occupied through {@code SubnetPool.occupy}, both
 * public API that older ipam-core versions have, so the same benchmark measures an older ipam-core jar put first on
 * the class path (see docs/benchmarks.md).
 *
 * <p>Run: {@code java -jar ipam-bench/target/benchmarks.jar S6ScatteredMemoryBenchmark}
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 0)
@Measurement(iterations = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
@State(Scope.Thread)
public class S6ScatteredMemoryBenchmark {
    /** The pool: 2^32 subnets. */
    @Param("fd00::/32>64")
    public String pool;

    /** How many subnets are occupied. */
    @Param("65536")
    public int occupies;

    /** Where they are: one per 2^16-subnet block, or uniformly at random. */
    @Param({"per-block", "random"})
    public String spread;

    private SubnetAllocator allocator;

    @Setup(Level.Iteration)
    public void scatteredPool() {
        PoolSpec spec = PoolSpec.parse(pool);
        SubnetCodec codec = new SubnetCodec(spec.cluster(), spec.nodePrefixLength());
        allocator = Implementations.create(Implementations.OURS, spec);
        Random random = new Random(20261202);
        long blocks = spec.capacity() >>> 16;
        for (int i = 0; i < occupies; i++) {
            long index = "random".equals(spread)
                    ? (random.nextLong() >>> 1) % spec.capacity()
                    : (i % blocks) << 16 | ((i * 7919L) & 0xFFFF); // a different offset in each block
            Cidr subnet = codec.toCidr(index);
            allocator.occupy(subnet);
        }
    }

    @Benchmark
    public long retainedBytes(Footprint footprint) {
        return footprint.measure(allocator, occupies);
    }
}
