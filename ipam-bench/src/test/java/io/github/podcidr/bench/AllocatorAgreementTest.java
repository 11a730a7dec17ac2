package io.github.podcidr.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.podcidr.ipam.Cidr;
import io.github.podcidr.ipam.ExistingNode;
import io.github.podcidr.ipam.PoolExhaustedException;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeSet;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The baselines and ours return the same {@link Cidr} results on small pools wherever their policies agree, so that
 * the benchmarks compare equal work. IPv4 and IPv6 pools side by side.
 */
class AllocatorAgreementTest {
    private static final String[] IMPLS = {
        Implementations.OURS, Implementations.BOOLEAN_ARRAY, Implementations.BIT_SCAN
    };

    private static List<SubnetAllocator> all(String pool) {
        List<SubnetAllocator> list = new ArrayList<>();
        for (String impl : IMPLS) {
            list.add(Implementations.create(impl, PoolSpec.parse(pool)));
        }
        return list;
    }

    private static void assertExhausted(SubnetAllocator a) {
        RuntimeException e = assertThrows(RuntimeException.class, a::allocate);
        assertTrue(e instanceof PoolExhaustedException || e instanceof BaselineExhaustedException, e.toString());
    }

    @ParameterizedTest(name = "fill {0}")
    @ValueSource(strings = {"10.0.0.0/24>28", "10.0.0.0/8>16", "fd00::/60>64", "fd00::/120>128", "fd00::/56>66"})
    void fillFromEmptyGivesTheSameSubnetsInAddressOrderThenFails(String pool) {
        List<SubnetAllocator> allocators = all(pool);
        SubnetCodec codec = new SubnetCodec(PoolSpec.parse(pool).cluster(), PoolSpec.parse(pool).nodePrefixLength());
        Cidr previous = null;
        for (long i = 0; i < codec.capacity(); i++) {
            Cidr ours = allocators.get(0).allocate();
            assertEquals(codec.toCidr(i), ours, "subnet " + i);
            assertEquals(i, codec.toIndex(ours));
            assertEquals(ours.toString(), codec.toCidr(i).toString());
            for (SubnetAllocator baseline : allocators.subList(1, allocators.size())) {
                assertEquals(ours, baseline.allocate(), baseline.getClass().getSimpleName() + " subnet " + i);
            }
            assertTrue(previous == null || previous.compareTo(ours) < 0);
            previous = ours;
        }
        allocators.forEach(AllocatorAgreementTest::assertExhausted);
    }

    @ParameterizedTest(name = "churn {0}")
    @ValueSource(strings = {"10.0.0.0/22>28", "fd00::/58>64"})
    void churnOnAFullPoolAndTheWorstCaseGiveTheSameSubnets(String pool) {
        List<SubnetAllocator> allocators = all(pool);
        List<Cidr> subnets = new ArrayList<>();
        for (SubnetAllocator a : allocators) {
            subnets.clear();
            for (long i = a.capacity(); i > 0; i--) {
                subnets.add(a.allocate());
            }
        }
        SplittableRandom random = new SplittableRandom(S3ChurnBenchmark.SEED);
        for (int step = 0; step < 2_000; step++) {
            Cidr victim = subnets.get(random.nextInt(subnets.size()));
            for (SubnetAllocator a : allocators) {
                assertTrue(a.release(victim));
                assertFalse(a.release(victim), "release is idempotent");
                assertEquals(victim, a.allocate(), "S3: the one free subnet");
            }
        }
        Cidr last = subnets.get(subnets.size() - 1);
        for (SubnetAllocator a : allocators) {
            a.release(last);
        }
        // S7: the cursor position differs after the churn; any allocate must still find the one free subnet
        for (int step = 0; step < 3; step++) {
            for (SubnetAllocator a : allocators) {
                assertEquals(last, a.allocate());
                a.release(last);
            }
        }
    }

    @ParameterizedTest(name = "restore {0}")
    @ValueSource(strings = {"10.0.0.0/22>28", "fd00::/58>64"})
    void occupyFromTextsThenFillGivesTheSameSubnets(String pool) {
        PoolSpec spec = PoolSpec.parse(pool);
        SubnetCodec codec = new SubnetCodec(spec.cluster(), spec.nodePrefixLength());
        SplittableRandom random = new SplittableRandom(7);
        List<String> texts = new ArrayList<>();
        for (long i = 0; i < codec.capacity(); i++) {
            if (random.nextInt(3) == 0) {
                texts.add(codec.toCidr(i).toString());
            }
        }
        List<SubnetAllocator> allocators = all(pool);
        for (SubnetAllocator a : allocators) {
            for (String t : texts) {
                assertTrue(a.occupy(t), t);
                assertFalse(a.occupy(Cidr.parse(t)), "occupy is idempotent: " + t);
            }
        }
        for (long i = texts.size(); i < codec.capacity(); i++) {
            Cidr ours = allocators.get(0).allocate();
            assertFalse(texts.contains(ours.toString()));
            for (SubnetAllocator baseline : allocators.subList(1, allocators.size())) {
                assertEquals(ours, baseline.allocate());
            }
        }
        allocators.forEach(AllocatorAgreementTest::assertExhausted);
    }

    /**
     * Random allocate/release/occupy against a model: the bit scan baseline has ours' policy exactly (the cursor never
     * goes back) so it must agree on every result; the Go baseline reuses a released lower subnet at once, so it is
     * only checked to hand out free subnets.
     */
    @ParameterizedTest(name = "model {0}")
    @ValueSource(strings = {"10.0.0.0/24>30", "fd00::/122>128"})
    void randomOperationsAgreeWithAModel(String pool) {
        PoolSpec spec = PoolSpec.parse(pool);
        SubnetCodec codec = new SubnetCodec(spec.cluster(), spec.nodePrefixLength());
        SubnetAllocator ours = Implementations.create(Implementations.OURS, spec);
        SubnetAllocator bitScan = Implementations.create(Implementations.BIT_SCAN, spec);
        SubnetAllocator booleanArray = Implementations.create(Implementations.BOOLEAN_ARRAY, spec);
        TreeSet<Cidr> usedBySame = new TreeSet<>();
        TreeSet<Cidr> usedByGo = new TreeSet<>();
        SplittableRandom random = new SplittableRandom(11);
        for (int step = 0; step < 20_000; step++) {
            int action = random.nextInt(10);
            Cidr any = codec.toCidr(random.nextInt((int) codec.capacity()));
            if (action < 5) {
                if (usedBySame.size() == codec.capacity()) {
                    assertExhausted(ours);
                    assertExhausted(bitScan);
                } else {
                    Cidr c = ours.allocate();
                    assertEquals(c, bitScan.allocate(), "step " + step);
                    assertTrue(usedBySame.add(c), "ours handed out a used subnet " + c);
                }
                if (usedByGo.size() == codec.capacity()) {
                    assertExhausted(booleanArray);
                } else {
                    assertTrue(usedByGo.add(booleanArray.allocate()), "boolean-array handed out a used subnet");
                }
            } else if (action < 8) {
                boolean wasUsed = usedBySame.remove(any);
                assertEquals(wasUsed, ours.release(any));
                assertEquals(wasUsed, bitScan.release(any));
                assertEquals(usedByGo.remove(any), booleanArray.release(any));
            } else {
                boolean wasFree = usedBySame.add(any);
                assertEquals(wasFree, ours.occupy(any));
                assertEquals(wasFree, bitScan.occupy(any.toString()));
                assertEquals(usedByGo.add(any), booleanArray.occupy(any));
            }
        }
    }

    @ParameterizedTest(name = "nodes {0}")
    @ValueSource(strings = {Implementations.BOOLEAN_ARRAY, Implementations.BIT_SCAN})
    void theNodeLayersAssignAndRestoreAlike(String impl) {
        PoolSpec v4 = PoolSpec.parse("10.0.0.0/24>28");
        PoolSpec v6 = PoolSpec.parse("fd00::/56>64");
        NodeCidrs ours = NodeCidrs.create(Implementations.OURS, v4, v6);
        NodeCidrs baseline = NodeCidrs.create(impl, v4, v6);
        List<ExistingNode> existing = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            String node = "node-" + i;
            List<Cidr> cidrs = ours.assign(node);
            assertEquals(cidrs, baseline.assign(node), node);
            assertEquals(cidrs, baseline.assign(node), "assign is idempotent");
            existing.add(new ExistingNode(node, List.of(cidrs.get(0).toString(), cidrs.get(1).toString())));
        }
        assertThrows(PoolExhaustedException.class, () -> ours.assign("one-too-many"));
        assertThrows(BaselineExhaustedException.class, () -> baseline.assign("one-too-many"));
        assertTrue(ours.release("node-3"));
        assertTrue(baseline.release("node-3"));
        assertFalse(baseline.release("node-3"));
        List<Cidr> oursNew = ours.assign("node-new");
        List<Cidr> baselineNew = baseline.assign("node-new");
        assertEquals(existing.get(3).podCidrs().get(0), oursNew.get(0).toString(), "the only free IPv4 subnet");
        assertEquals(oursNew.get(0), baselineNew.get(0));
        if (impl.equals(Implementations.BIT_SCAN)) {
            assertEquals(oursNew.get(1), baselineNew.get(1), "same policy: the cursor goes on");
        } else {
            assertEquals(existing.get(3).podCidrs().get(1), baselineNew.get(1).toString(),
                    "the Go policy moves its cursor back to the released subnet");
        }

        existing.add(new ExistingNode("duplicate", List.of(existing.get(0).podCidrs().get(0))));
        existing.add(new ExistingNode("malformed", List.of("10.0.0.1/28")));
        NodeCidrs freshOurs = NodeCidrs.create(Implementations.OURS, v4, v6);
        NodeCidrs freshBaseline = NodeCidrs.create(impl, v4, v6);
        assertEquals(32, freshOurs.restore(existing));
        assertEquals(32, freshBaseline.restore(existing));
        assertEquals(freshOurs.assign("node-0"), freshBaseline.assign("node-0"));
    }
}
