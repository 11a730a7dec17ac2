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
 * S7 worst case: a 10.0.0.0/8 → /24 pool full except its highest subnet, the cursor at the start; one allocate (which
 * must find that last subnet), then its release so that the state repeats. Score: ns per allocate + release.
 *
 * <p>Every implementation's cursor is at index 0 after the fill (it wraps after the last subnet), and releasing the
 * highest subnet leaves it there (the Go allocator moves its cursor back only to a lower index).
 *
 * <p>Run: {@code java -jar ipam-bench/target/benchmarks.jar S7WorstCaseBenchmark}
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
@State(Scope.Thread)
public class S7WorstCaseBenchmark {
    /** The implementation: ours, boolean-array (Go podcidr-controller) or bit-scan (Kubernetes CIDRSet). */
    @Param({Implementations.OURS, Implementations.BOOLEAN_ARRAY, Implementations.BIT_SCAN})
    public String impl;

    /** The pool: 10.0.0.0/8 cut into /24. */
    @Param("10.0.0.0/8>24")
    public String pool;

    private SubnetAllocator allocator;

    @Setup(Level.Trial)
    public void fullButLast() {
        allocator = Implementations.create(impl, PoolSpec.parse(pool));
        Cidr last = null;
        for (long i = allocator.capacity(); i > 0; i--) {
            last = allocator.allocate();
        }
        allocator.release(last);
    }

    @Benchmark
    public Cidr allocateLastThenRelease() {
        Cidr c = allocator.allocate();
        allocator.release(c);
        return c;
    }
}
