package io.github.podcidr.bench;

import io.github.podcidr.ipam.Cidr;
import io.github.podcidr.ipam.PoolExhaustedException;
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
 * S2 exhausted: a failed allocation on a full 10.0.0.0/8 → /24 pool, which must fail fast. Score: ns per failed
 * call. Two ways to fail, each for every implementation:
 * <ul>
 *   <li>{@code allocateOnFullPool}: {@code allocate()} throws, caught here (ours: a reused stackless
 *       {@link PoolExhaustedException}; the baselines: a preallocated stackless sentinel);</li>
 *   <li>{@code tryAllocateOnFullPool}: the non-throwing form, {@link SubnetAllocator#tryAllocate()} (ours:
 *       {@code SubnetPool.tryAllocate()} returning {@code Optional.empty()}; the baselines: null where the Go
 *       originals return their error value).</li>
 * </ul>
 *
 * <p>Run: {@code java -jar ipam-bench/target/benchmarks.jar S2ExhaustedBenchmark -f 1 -wi 3 -i 5 -prof gc}
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
@State(Scope.Thread)
public class S2ExhaustedBenchmark {
    /** The implementation: ours, boolean-array (Go podcidr-controller) or bit-scan (Kubernetes CIDRSet). */
    @Param({Implementations.OURS, Implementations.BOOLEAN_ARRAY, Implementations.BIT_SCAN})
    public String impl;

    /** The pool: 10.0.0.0/8 cut into /24. */
    @Param("10.0.0.0/8>24")
    public String pool;

    private SubnetAllocator allocator;

    @Setup(Level.Trial)
    public void fullPool() {
        allocator = Implementations.create(impl, PoolSpec.parse(pool));
        for (long i = allocator.capacity(); i > 0; i--) {
            allocator.allocate();
        }
    }

    @Benchmark
    public RuntimeException allocateOnFullPool() {
        try {
            allocator.allocate();
        } catch (PoolExhaustedException | BaselineExhaustedException e) {
            return e;
        }
        throw new IllegalStateException("allocate succeeded on a full pool");
    }

    @Benchmark
    public Cidr tryAllocateOnFullPool() {
        Cidr c = allocator.tryAllocate();
        if (c != null) {
            throw new IllegalStateException("tryAllocate succeeded on a full pool: " + c);
        }
        return c;
    }
}
