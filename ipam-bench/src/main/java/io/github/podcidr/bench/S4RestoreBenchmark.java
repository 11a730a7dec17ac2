package io.github.podcidr.bench;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
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

/**
 * S4 restore: occupy all 65,536 subnets of an empty 10.0.0.0/8 → /24 pool from their CIDR strings, parsing included
 * ({@code Cidr.parse} for every implementation), in address order and shuffled (seed {@value S3ChurnBenchmark#SEED}).
 * Score: ns per string.
 *
 * <p>Run: {@code java -jar ipam-bench/target/benchmarks.jar S4RestoreBenchmark -prof gc}
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
@State(Scope.Thread)
public class S4RestoreBenchmark {
    /** The implementation: ours, boolean-array (Go podcidr-controller) or bit-scan (Kubernetes CIDRSet). */
    @Param({Implementations.OURS, Implementations.BOOLEAN_ARRAY, Implementations.BIT_SCAN})
    public String impl;

    /** The order of the strings: address order, or shuffled. */
    @Param({"ordered", "shuffled"})
    public String order;

    /** The pool: 10.0.0.0/8 cut into /24. */
    @Param("10.0.0.0/8>24")
    public String pool;

    private PoolSpec spec;
    private String[] texts;
    private SubnetAllocator allocator;

    @Setup(Level.Trial)
    public void texts() {
        spec = PoolSpec.parse(pool);
        SubnetCodec codec = new SubnetCodec(spec.cluster(), spec.nodePrefixLength());
        List<String> all = new ArrayList<>();
        for (long i = 0; i < codec.capacity(); i++) {
            all.add(new String(codec.toCidr(i).toString())); // a fresh String, as read from JSON
        }
        if (order.equals("shuffled")) {
            Collections.shuffle(all, new Random(S3ChurnBenchmark.SEED));
        }
        texts = all.toArray(new String[0]);
    }

    @Setup(Level.Invocation)
    public void emptyPool() {
        allocator = Implementations.create(impl, spec);
    }

    @Benchmark
    @OperationsPerInvocation(S1FillBenchmark.SUBNETS)
    public long occupyAll() {
        long occupied = 0;
        for (String text : texts) {
            if (allocator.occupy(text)) {
                occupied++;
            }
        }
        return occupied;
    }
}
