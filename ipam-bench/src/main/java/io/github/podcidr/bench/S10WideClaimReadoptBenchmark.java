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
 *   <li>{@code readopt}: {@link NodeIpam#adopt(String, List)} of the node, end to end (parse, classify, count what
 *       it holds). The claim is held as one index range per pool, so an unchanged claim changes nothing.</li>
 *   <li>{@code keepStepHashSet} and {@code keepStepListContains}: the step that decided which held subnets stay
 *       while a wide claim was a list of subnets, on the same 65,536 subnets: the hash-set look-up of the first fix,
 *       and the baseline of the code before issue 27 ({@code List.contains} inside {@code removeIf}, about 2 x 10^9
 *       comparisons at this size). Both are that step alone, copied here, since that code is gone.</li>
 *   <li>{@code changeHugeClaim} and {@code readoptHugeClaim} ({@link Huge}): claims of 2^20 and 2^32 subnets, beyond
 *       any list, beside 1,000 plain nodes: the node's value alternates between two claims (one covering the
 *       other), so each operation holds or drops half the pool with bitmap range operations; and the same claim
 *       re-adopted.</li>
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

    /** A claim far beyond a list of subnets: the pool, then the two claims the node alternates between. */
    @State(Scope.Thread)
    public static class Huge {
        /** {@code <pool> <claim a> <claim b>}, b containing a; the pool has 2^20 or 2^32 subnets. */
        @Param({"10.0.0.0/8>28 10.0.0.0/9 0.0.0.0/0", "fd00::/32>64 fd00::/33 ::/0"})
        public String huge;

        private NodeIpam ipam;
        private List<String> a;
        private List<String> b;
        private boolean onB;

        /** Builds the pool, assigns 1,000 plain nodes, and adopts the wide node with claim a. */
        @Setup
        public void hugeClaim() {
            String[] parts = huge.split(" ");
            PoolSpec spec = PoolSpec.parse(parts[0]);
            ipam = NodeIpam.builder().addPool(spec.cluster(), spec.nodePrefixLength()).build();
            for (int i = 0; i < 1000; i++) {
                ipam.assign("plain-" + i);
            }
            a = List.of(parts[1]);
            b = List.of(parts[2]);
            if (ipam.adopt("wide", a).findings(NodeReport.Kind.OVERSIZED).isEmpty()) {
                throw new IllegalStateException(parts[1] + " is not wider than a node subnet of " + parts[0]);
            }
            onB = false;
        }
    }

    @Benchmark
    public NodeReport changeHugeClaim(Huge h) {
        h.onB = !h.onB;
        return h.ipam.adopt("wide", h.onB ? h.b : h.a);
    }

    @Benchmark
    public NodeReport readoptHugeClaim(Huge h) {
        return h.ipam.adopt("wide", h.onB ? h.b : h.a);
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
