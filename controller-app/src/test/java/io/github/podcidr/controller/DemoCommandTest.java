package io.github.podcidr.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The demo end to end, in process: embedded API server, real controller over HTTP, summary and exit code. */
class DemoCommandTest {
    private static ControllerFlagsTest.Output demo(String... args) {
        String[] all = new String[args.length + 1];
        all[0] = "demo";
        System.arraycopy(args, 0, all, 1, args.length);
        return ControllerFlagsTest.Main_run(all);
    }

    @Test
    void singleStackConvergesAndSummarises() {
        ControllerFlagsTest.Output o = demo("--nodes=120", "--tainted=30");
        assertEquals(0, o.code(), o.out() + o.err());
        String out = o.out();
        assertTrue(out.contains("demo: 120 nodes in an embedded API server"), out);
        assertTrue(out.contains("4 with pod CIDRs already, one of them a duplicate"), out);
        assertTrue(out.contains("nodes              120 (120 selected, 30 tainted, 4 with pod CIDRs at start)"), out);
        // 116 nodes without pod CIDRs: each gets one IPv4 subnet in one write
        assertTrue(out.contains("subnets assigned   IPv4 116 (to 116 nodes)"), out);
        // the loser of the duplicate pair keeps its taint; which one loses depends on the creation second
        assertTrue(out.contains("taints removed     29 of 29") || out.contains("taints removed     30 of 30"), out);
        assertTrue(out.contains("conflicts found    1 node with conflicting pod CIDRs: duplicate 10.244."), out);
        assertTrue(out.contains("and keeps its taints"), "the duplicate fails closed: " + out);
        assertTrue(out.matches("(?s).*API writes         11[67] node patches, 0\\.9[0-9]+ per node.*"), out);
        assertTrue(out.contains("pool usage         10.244.0.0/16 /24: 119 of 256 subnets used"), out);
        assertTrue(out.contains("holder after stop: none (released)"), out);
        assertTrue(out.contains("result             OK: every selected node has one pod CIDR per family"), out);
        assertTrue(out.contains("progress: 120/120 nodes have pod CIDRs"), "plain progress lines off a terminal");
    }

    @Test
    void dualStackGivesOneSubnetPerFamily() {
        ControllerFlagsTest.Output o = demo("--nodes=40", "--dual-stack", "--workers=2");
        assertEquals(0, o.code(), o.out() + o.err());
        assertTrue(o.out().contains("(10 tainted tke.cloud.tencent.com/eni-ip-unavailable"), "a quarter by default");
        assertTrue(o.out().contains("taints removed     9 of 9") || o.out().contains("taints removed     10 of 10"),
                o.out());
        assertTrue(o.out().contains("conflicts found    1 node with conflicting pod CIDRs: duplicate 10.244."), o.out());
        assertTrue(o.out().contains("cluster 10.244.0.0/16 /24, fd00:10:244::/48 /64"), o.out());
        assertTrue(o.out().contains("subnets assigned   IPv4 36, IPv6 36 (to 36 nodes)"), o.out());
        assertTrue(o.out().contains("pool usage         fd00:10:244::/48 /64: 39 of 65,536 subnets used"), o.out());
    }

    @Test
    void picksANodeMaskThatFitsTheNodes() {
        ControllerFlagsTest.Output o = demo("--nodes=300", "--tainted=10", "--timeout=1m");
        assertEquals(0, o.code(), o.out() + o.err());
        assertTrue(o.out().contains("node mask /25 chosen so that 300 nodes fit"), o.out());
        assertTrue(o.out().contains("pool usage         10.244.0.0/16 /25: 299 of 512 subnets used"), o.out());
    }

    @Test
    void failsWhenNodesCannotAllGetSubnets() {
        // 12 nodes, room for 4 (a /22 in /24s), one taken by the preset node whose subnet the duplicate also claims:
        // 3 get one, 7 wait for room; the demo must say so and exit 1, not hang
        ControllerFlagsTest.Output o = demo("--nodes=12", "--tainted=0", "--cluster-cidr=10.244.0.0/22",
                "--node-cidr-mask-size=24", "--timeout=3s");
        assertEquals(1, o.code(), o.out() + o.err());
        assertTrue(o.out().contains("result             FAILED: 7 selected nodes lack pod CIDRs after 3s"), o.out());
    }

    @Test
    void badFlagsExit2() {
        ControllerFlagsTest.Output o = demo("--nodes=0", "--tainted=-1", "--cluster-cidr=10.244.0.0/33", "--nodez=3");
        assertEquals(2, o.code());
        assertTrue(o.err().contains("demo: 4 configuration errors"), o.err());
        assertTrue(o.err().contains("--nodez=3: unknown flag; did you mean --nodes?"), o.err());
        assertTrue(o.err().contains("--nodes=0: must be within 1..200000"), o.err());
    }

    @Test
    void helpExits0() {
        ControllerFlagsTest.Output o = demo("--help");
        assertEquals(0, o.code());
        assertTrue(o.out().contains("--dual-stack bool") && o.out().contains("(default 2000)"), o.out());
    }
}
