package io.github.podcidr.bench;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * S5 IPv6 fill: fd00::/48 cut into /64 (65,536 subnets); allocate every subnet of an empty pool. Score: ns per
 * allocation (one invocation fills the pool; a fresh empty pool is made before each invocation, not timed).
 *
 * <p>Run: {@code java -jar ipam-bench/target/benchmarks.jar S5Ipv6FillBenchmark -prof gc}
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
@State(Scope.Thread)
public class S5Ipv6FillBenchmark {
    /** Allocations per invocation: the capacity of the pool below. */
    static final int SUBNETS = 65_536;

    /** The implementation: ours, boolean-array (Go podcidr-controller) or bit-scan (Kubernetes CIDRSet). */
    @Param({Implementations.OURS, Implementations.BOOLEAN_ARRAY, Implementations.BIT_SCAN})
    public String impl;

    /** The pool: fd00::/48 cut into /64. */
    @Param("fd00::/48>64")
    public String pool;

    private PoolSpec spec;
    private SubnetAllocator allocator;

    @Setup(Level.Trial)
    public void parsePool() {
        spec = PoolSpec.parse(pool);
    }

    @Setup(Level.Invocation)
    public void emptyPool() {
        allocator = Implementations.create(impl, spec);
    }

    @Benchmark
    @OperationsPerInvocation(SUBNETS)
    public void fill(Blackhole bh) {
        for (long i = allocator.capacity(); i > 0; i--) {
            bh.consume(allocator.allocate());
        }
    }
}
