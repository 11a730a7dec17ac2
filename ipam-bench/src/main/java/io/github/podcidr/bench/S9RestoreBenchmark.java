package io.github.podcidr.bench;

import io.github.podcidr.ipam.ExistingNode;
import java.util.ArrayList;
import java.util.List;
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
 * S9 restore: a new leader adopts the pod CIDRs of 130,000 existing dual-stack nodes (two strings each, IPv4
 * 10.0.0.0/8 → /25 and IPv6 fd00::/40 → /64, nodes in name order as a LIST returns them) into an empty node layer.
 * Score: ms per whole restore (single shot; before each, not timed: a fresh empty layer and a full GC, so that the
 * previous layer's garbage is not collected inside the next restore; the restore's own garbage is).
 *
 * <p>Run: {@code java -jar ipam-bench/target/benchmarks.jar S9RestoreBenchmark -prof gc}
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 10)
@Measurement(iterations = 20)
@Fork(value = 1, jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
@State(Scope.Thread)
public class S9RestoreBenchmark {
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

    private PoolSpec ipv4;
    private PoolSpec ipv6;
    private List<ExistingNode> existing;
    private NodeCidrs layer;

    @Setup(Level.Trial)
    public void existingNodes() {
        ipv4 = PoolSpec.parse(ipv4Pool);
        ipv6 = PoolSpec.parse(ipv6Pool);
        SubnetCodec v4 = new SubnetCodec(ipv4.cluster(), ipv4.nodePrefixLength());
        SubnetCodec v6 = new SubnetCodec(ipv6.cluster(), ipv6.nodePrefixLength());
        existing = new ArrayList<>(nodes);
        for (int i = 0; i < nodes; i++) {
            existing.add(new ExistingNode(String.format("node-%06d", i),
                    List.of(v4.toCidr(i).toString(), v6.toCidr(i).toString())));
        }
    }

    @Setup(Level.Iteration)
    public void emptyLayer() {
        layer = null;
        System.gc();
        layer = NodeCidrs.create(impl, ipv4, ipv6);
    }

    @Benchmark
    public long restore() {
        return layer.restore(existing);
    }
}
