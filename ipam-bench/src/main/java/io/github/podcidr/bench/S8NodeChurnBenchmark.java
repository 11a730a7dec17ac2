package io.github.podcidr.bench;

import io.github.podcidr.ipam.Cidr;
import java.util.List;
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
 * S8 node churn: a dual-stack cluster of 130,000 nodes (IPv4 10.0.0.0/8 → /25, 131,072 subnets, 99.2% used; IPv6
 * fd00::/40 → /64, 2^24 subnets); release a random node by name, then assign it again. Score: ns per release +
 * assign pair. Ours is {@code NodeIpam}; the baselines are {@link BaselineNodeCidrs} over two baseline pools.
 *
 * <p>Run: {@code java -jar ipam-bench/target/benchmarks.jar S8NodeChurnBenchmark -prof gc}
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
@State(Scope.Thread)
public class S8NodeChurnBenchmark {
    /** Length of the victim sequence, a power of two (2^20). */
    private static final int VICTIMS = 1 << 20;

    /** The implementation: ours, boolean-array (Go podcidr-controller) or bit-scan (Kubernetes CIDRSet). */
    @Param({Implementations.OURS, Implementations.BOOLEAN_ARRAY, Implementations.BIT_SCAN})
    public String impl;

    /** Number of nodes. */
    @Param("130000")
    public int nodes;

    /** The IPv4 pool (primary family). */
    @Param("10.0.0.0/8>25")
    public String ipv4Pool;

    /** The IPv6 pool. */
    @Param("fd00::/40>64")
    public String ipv6Pool;

    private NodeCidrs layer;
    private String[] names;
    private int[] victims;
    private int next;

    @Setup(Level.Trial)
    public void cluster() {
        layer = NodeCidrs.create(impl, PoolSpec.parse(ipv4Pool), PoolSpec.parse(ipv6Pool));
        names = new String[nodes];
        for (int i = 0; i < nodes; i++) {
            names[i] = String.format("node-%06d", i);
            layer.assign(names[i]);
        }
        SplittableRandom random = new SplittableRandom(S3ChurnBenchmark.SEED);
        victims = new int[VICTIMS];
        for (int i = 0; i < VICTIMS; i++) {
            victims[i] = random.nextInt(nodes);
        }
    }

    @Benchmark
    public List<Cidr> releaseThenAssign() {
        String node = names[victims[next++ & (VICTIMS - 1)]];
        layer.release(node);
        return layer.assign(node);
    }
}
