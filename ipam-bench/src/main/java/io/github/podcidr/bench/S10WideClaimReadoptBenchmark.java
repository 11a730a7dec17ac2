package io.github.podcidr.bench;

import io.github.podcidr.ipam.Cidr;
import io.github.podcidr.ipam.NodeIpam;
import io.github.podcidr.ipam.NodeReport;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * S10 wide claim, re-adopted: a node whose pod CIDR is the whole pool ({@code 10.0.0.0/8} in a 10.0.0.0/8 → /24
 * pool) holds all 65,536 subnets; every reconcile of it adopts it again under NodeIpam's lock. Score: ms per
 * operation.
 *
 * <ul>
 *   <li>{@code readopt}: {@link NodeIpam#adopt(String, List)} of the node, end to end (parse, find the overlapped
 *       subnets, keep them).</li>
 *   <li>{@code keepStepHashSet} and {@code keepStepListContains}: the step that decides which held subnets stay, on
 *       the same 65,536 subnets: today's hash-set look-up, and the baseline of the code before issue 27
 *       ({@code List.contains} inside {@code removeIf}, about 2 x 10^9 comparisons at this size). The baseline is
 *       that step alone, copied here, since the old NodeIpam is gone.</li>
 * </ul>
 *
 * <p>Run: {@code java -jar ipam-bench/target/benchmarks.jar S10WideClaimReadoptBenchmark}
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@State(Scope.Thread)
public class S10WideClaimReadoptBenchmark {
    /** The pool, cluster range and node prefix length. */
    @Param("10.0.0.0/8>24")
    public String pool;

    /** The node's pod CIDR: the whole pool by default. */
    @Param("10.0.0.0/8")
    public String claim;

    private NodeIpam ipam;
    private List<String> podCidrs;
    private List<Cidr> held;
    private List<Cidr> keep;

    @Setup
    public void wideNode() {
        PoolSpec spec = PoolSpec.parse(pool);
        ipam = NodeIpam.builder().addPool(spec.cluster(), spec.nodePrefixLength()).build();
        podCidrs = List.of(claim);
        NodeReport first = ipam.adopt("wide", podCidrs);
        if (first.findings().isEmpty()) {
            throw new IllegalStateException("claim " + claim + " is not wider than a node subnet of " + pool);
        }
        SubnetCodec codec = new SubnetCodec(spec.cluster(), spec.nodePrefixLength());
        Cidr range = Cidr.parse(claim);
        held = new ArrayList<>();
        for (long i = 0; i < codec.capacity(); i++) {
            Cidr c = codec.toCidr(i);
            if (range.overlaps(c)) {
                held.add(c);
            }
        }
        keep = List.copyOf(held);
    }

    @Benchmark
    public NodeReport readopt() {
        return ipam.adopt("wide", podCidrs);
    }

    @Benchmark
    public int keepStepHashSet() {
        List<Cidr> current = new ArrayList<>(held);
        Set<Cidr> kept = new HashSet<>(keep);
        current.removeIf(c -> !kept.contains(c));
        return current.size();
    }

    @Benchmark
    public int keepStepListContains() {
        List<Cidr> current = new ArrayList<>(held);
        current.removeIf(c -> !keep.contains(c));
        return current.size();
    }
}
