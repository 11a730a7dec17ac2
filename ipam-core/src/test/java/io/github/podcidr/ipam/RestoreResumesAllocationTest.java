package io.github.podcidr.ipam;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A new instance restored from the nodes (a failover) resumes allocation where the previous one stood, so a subnet
 * released just before the restart is not handed out first.
 */
class RestoreResumesAllocationTest {

    private static NodeIpam build() {
        return NodeIpam.builder().addPool(Cidr.parse("10.244.0.0/16"), 24)
                .addPool(Cidr.parse("fd00:10:244::/56"), 64).build();
    }

    /** What the API would list: every node the instance knows, in the order they were created. */
    private static List<ExistingNode> nodesOf(NodeIpam ipam, List<String> createdInOrder) {
        List<ExistingNode> existing = new ArrayList<>();
        for (String n : createdInOrder) {
            ipam.assignmentOf(n).ifPresent(a -> existing.add(new ExistingNode(n,
                    a.cidrs().stream().map(Cidr::toString).toList())));
        }
        return existing;
    }

    @Test
    void theSubnetReleasedJustBeforeARestartIsNotHandedOutFirst() {
        NodeIpam before = build();
        List<String> created = List.of("a", "b", "c");
        created.forEach(before::assign); // 10.244.0-2.0/24, fd00:10:244:0-2::/64
        before.release("b");              // its subnets are free again: stale routes to them may linger

        NodeIpam after = build();
        after.restore(nodesOf(before, created));
        NodeAssignment d = after.assign("d");
        assertEquals(List.of(Cidr.parse("10.244.3.0/24"), Cidr.parse("fd00:10:244:3::/64")), d.cidrs(),
                "the same as the previous instance would give: past c, not b's subnets");
        assertEquals(before.assign("d").cidrs(), d.cidrs());
    }

    @Test
    void allocationResumesPastTheNewestNodeEvenAfterTheCursorWrapped() {
        NodeIpam before = NodeIpam.builder().addPool(Cidr.parse("10.244.0.0/22"), 24).build(); // 4 subnets
        List<String> created = new ArrayList<>(List.of("a", "b", "c", "d"));
        created.forEach(before::assign);  // 0, 1, 2, 3
        before.release("a");
        before.assign("e");               // wraps round to 0
        created.add("e");
        before.release("c");              // 2 is free again

        NodeIpam after = NodeIpam.builder().addPool(Cidr.parse("10.244.0.0/22"), 24).build();
        after.restore(nodesOf(before, created)); // oldest first: b (1), d (3), e (0)
        assertEquals(before.assign("f").cidrs(), after.assign("f").cidrs(), "both hand out 10.244.2.0/24 now");
    }

    @Test
    void aRestoreOfNoNodeLeavesTheCursorAtTheStart() {
        NodeIpam ipam = build();
        ipam.restore(List.of());
        assertEquals(Cidr.parse("10.244.0.0/24"), ipam.assign("a").cidrs().get(0));
    }
}
