package io.github.podcidr.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The demo end to end, in process: embedded API server, real controller over HTTP, summary and exit code. */
class DemoCommandTest {
    @TempDir
    Path dir;

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

    /** The pools file of docs/configuration.md: the nodes labelled podcidr.example.com/site=idc take /26 subnets of 10.250.0.0/16. */
    static final String README_POOLS = """
            groups:
              - name: idc
                nodeSelector:
                  matchLabels:
                    podcidr.example.com/site: idc
                clusterCIDRs: [10.250.0.0/16]
                nodeCIDRMaskSizeIPv4: 26
                reservedCIDRs: [10.250.255.0/24]
            """;

    @Test
    void twoGroupsFillFromTheirOwnRanges() throws Exception {
        Path pools = dir.resolve("pools.yaml");
        Files.writeString(pools, README_POOLS);
        ControllerFlagsTest.Output o = demo("--nodes=120", "--tainted=30", "--pools-file=" + pools);
        assertEquals(0, o.code(), o.out() + o.err());
        String out = o.out();
        assertTrue(out.contains("cluster 10.244.0.0/16 /24; group idc 10.250.0.0/16 /26, reserved [10.250.255.0/24];"
                + " 30 nodes labelled podcidr.example.com/site=idc"), out);
        // every fourth node is labelled: 30 idc nodes, 90 default ones, of which 4 came with pod CIDRs (one a copy)
        assertTrue(out.contains("group default      90 nodes, 90 with one pod CIDR per family from the group's"
                + " ranges"), out);
        assertTrue(out.contains("pool usage         default 10.244.0.0/16 /24: 89 of 256 subnets used"), out);
        assertTrue(out.contains("group idc          30 nodes, 30 with one pod CIDR per family from the group's"
                + " ranges"), out);
        assertTrue(out.contains("pool usage         idc 10.250.0.0/16 /26: 30 of 1,024 subnets used (2.9%), 990 free,"
                + " 4 reserved"), out);
        assertTrue(out.contains("result             OK: every node of a group has one pod CIDR per family of its"
                + " group, from the group's ranges"), out);
    }

    @Test
    void aFullGroupFailsWhileTheOtherFills() throws Exception {
        Path pools = dir.resolve("pools.yaml");
        Files.writeString(pools, README_POOLS.replace("10.250.0.0/16", "10.250.0.0/24")
                .replace("reservedCIDRs: [10.250.255.0/24]", "reservedCIDRs: []"));
        // 40 nodes, 10 of them idc, whose /24 holds 4 /26 subnets: 6 idc nodes wait, every default node is done
        ControllerFlagsTest.Output o = demo("--nodes=40", "--tainted=0", "--timeout=3s", "--pools-file=" + pools);
        assertEquals(1, o.code(), o.out() + o.err());
        assertTrue(o.out().contains("group default      30 nodes, 30 with one pod CIDR"), o.out());
        assertTrue(o.out().contains("group idc          10 nodes, 4 with one pod CIDR"), o.out());
        assertTrue(o.out().contains("result             FAILED: 6 selected nodes lack pod CIDRs after 3s"), o.out());
    }

    @Test
    void badPoolsFileExits2() throws Exception {
        Path pools = dir.resolve("pools.yaml");
        Files.writeString(pools, README_POOLS.replace("10.250.0.0/16", "10.244.128.0/17"));
        ControllerFlagsTest.Output o = demo("--pools-file=" + pools, "--label-share=site=idc:2");
        assertEquals(2, o.code(), o.out() + o.err());
        assertTrue(o.err().contains("--pools-file=" + pools + ": range 10.244.128.0/17 of group idc (line 2) overlaps"
                + " range 10.244.0.0/16 of the default group"), o.err());
        assertTrue(o.err().contains("--label-share=site=idc:2: has a share that is not a number from 0 to 1"), o.err());
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
