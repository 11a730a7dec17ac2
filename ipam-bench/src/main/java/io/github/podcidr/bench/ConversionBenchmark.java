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
 * Not a scenario: what the baselines pay to turn an index into a {@link Cidr} and back through ipam-core's public
 * API ({@link SubnetCodec}), so that a reader can tell search time from result-building time in their figures.
 *
 * <p>Run: {@code java -jar ipam-bench/target/benchmarks.jar ConversionBenchmark -prof gc}
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
@State(Scope.Thread)
public class ConversionBenchmark {
    /** The pool whose subnets are converted. */
    @Param({"10.0.0.0/8>24", "fd00::/48>64"})
    public String pool;

    private SubnetCodec codec;
    private Cidr[] subnets;
    private String[] texts;
    private int next;

    @Setup(Level.Trial)
    public void subnets() {
        PoolSpec spec = PoolSpec.parse(pool);
        codec = new SubnetCodec(spec.cluster(), spec.nodePrefixLength());
        subnets = new Cidr[(int) Math.min(codec.capacity(), 1 << 16)];
        texts = new String[subnets.length];
        for (int i = 0; i < subnets.length; i++) {
            subnets[i] = codec.toCidr(i);
            texts[i] = subnets[i].toString(); // cached by Cidr, as in S3
        }
    }

    /** Index to {@code Cidr}: format the text, {@code Cidr.parse} it (every baseline allocate). */
    @Benchmark
    public Cidr indexToCidr() {
        return codec.toCidr(next++ & (subnets.length - 1));
    }

    /** {@code Cidr.parse} alone, the part of {@link #indexToCidr()} that is ipam-core's (and of S4 and S9). */
    @Benchmark
    public Cidr parse() {
        return Cidr.parse(texts[next++ & (texts.length - 1)]);
    }

    /** {@code Cidr} (text cached) to index (every baseline release). */
    @Benchmark
    public long cidrToIndex() {
        return codec.toIndex(subnets[next++ & (subnets.length - 1)]);
    }
}
