package io.github.podcidr.bench;

import io.github.podcidr.ipam.Cidr;
import java.util.SplittableRandom;
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
 * S3 churn: a full 10.0.0.0/8 → /24 pool; release a random allocated subnet, then allocate (which must find that one
 * free subnet). Score: ns per release + allocate pair. The victims are a fixed pseudo-random sequence (seed
 * {@value #SEED}) of 2^20 indices, the same for every implementation.
 *
 * <p>Run: {@code java -jar ipam-bench/target/benchmarks.jar S3ChurnBenchmark -prof gc}
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
@State(Scope.Thread)
public class S3ChurnBenchmark {
    /** Seed of the victim sequence. */
    static final long SEED = 20_261_126L;
    /** Length of the victim sequence, a power of two (2^20). */
    private static final int VICTIMS = 1 << 20;

    /** The implementation: ours, boolean-array (Go podcidr-controller) or bit-scan (Kubernetes CIDRSet). */
    @Param({Implementations.OURS, Implementations.BOOLEAN_ARRAY, Implementations.BIT_SCAN})
    public String impl;

    /** The pool: 10.0.0.0/8 cut into /24. */
    @Param("10.0.0.0/8>24")
    public String pool;

    private SubnetAllocator allocator;
    /** Every subnet, by index; released by value (equal, not identical, to what allocate returns). */
    private Cidr[] subnets;
    private int[] victims;
    private int next;

    @Setup(Level.Trial)
    public void fullPool() {
        allocator = Implementations.create(impl, PoolSpec.parse(pool));
        subnets = new Cidr[(int) allocator.capacity()];
        for (int i = 0; i < subnets.length; i++) {
            subnets[i] = allocator.allocate();
            subnets[i].toString(); // a controller's Cidr has its text already; Cidr caches it
        }
        SplittableRandom random = new SplittableRandom(SEED);
        victims = new int[VICTIMS];
        for (int i = 0; i < VICTIMS; i++) {
            victims[i] = random.nextInt(subnets.length);
        }
    }

    @Benchmark
    public Cidr releaseThenAllocate() {
        Cidr victim = subnets[victims[next++ & (VICTIMS - 1)]];
        allocator.release(victim);
        return allocator.allocate();
    }
}
