package io.github.podcidr.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class PlanCommandTest {
    private static ControllerFlagsTest.Output plan(String... args) {
        String[] all = new String[args.length + 1];
        all[0] = "plan";
        System.arraycopy(args, 0, all, 1, args.length);
        return ControllerFlagsTest.Main_run(all);
    }

    @Test
    void theReadmeExampleWorks() {
        ControllerFlagsTest.Output o = plan("--cluster-cidr", "10.244.0.0/16", "--node-cidr-mask-size", "24",
                "--reserved-cidrs", "10.96.0.0/12,172.16.0.0/16", "--nodes", "200");
        assertEquals(0, o.code(), o.out() + o.err());
        String out = o.out();
        assertTrue(out.matches("(?s).*10\\.244\\.0\\.0/16 +IPv4 +/24 +256 +0 +256 +254 +65,024.*"), out);
        assertTrue(out.contains("10.96.0.0/12             no overlap with the cluster ranges"), out);
        assertTrue(out.contains("IPv4: 256 usable subnets: fits, 56 left (22% headroom)"), out);
        assertTrue(out.contains("OK: this plan works."), out);
    }

    @Test
    void aMaskEqualToTheClusterPrefixIsOneSubnetAsInKubeControllerManager() {
        ControllerFlagsTest.Output o = plan("--cluster-cidr=10.244.0.0/24", "--node-cidr-mask-size=24", "--nodes=1");
        assertEquals(0, o.code(), o.out() + o.err());
        assertTrue(o.out().contains("IPv4: 1 usable subnets: fits"), o.out());
    }

    @Test
    void littleHeadroomIsSaid() {
        ControllerFlagsTest.Output o = plan("--cluster-cidr=10.244.0.0/16", "--nodes=250");
        assertEquals(0, o.code());
        assertTrue(o.out().contains("fits, 6 left (2% headroom) - little room to grow"), o.out());
    }

    @Test
    void tooManyNodesIsUnsafe() {
        ControllerFlagsTest.Output o = plan("--cluster-cidr=10.244.0.0/16", "--nodes=300");
        assertEquals(1, o.code());
        assertTrue(o.out().contains("IPv4: 256 usable subnets: does NOT fit (44 short)"), o.out());
        assertTrue(o.out().contains("UNSAFE: this plan does not work"), o.out());
    }

    @Test
    void reservedRangeInsideAPoolIsExcludedAndNoted() {
        ControllerFlagsTest.Output o = plan("--cluster-cidr=10.244.0.0/16", "--reserved-cidrs=10.244.128.0/20");
        assertEquals(0, o.code(), o.out());
        assertTrue(o.out().contains("inside 10.244.0.0/16: 16 node subnets never handed out"), o.out());
        assertTrue(o.out().matches("(?s).*10\\.244\\.0\\.0/16 +IPv4 +/24 +256 +16 +240 .*"), o.out());
        assertTrue(o.out().contains("Note: 10.244.128.0/20 lies inside 10.244.0.0/16"), o.out());
    }

    @Test
    void reservedRangeCoveringAPoolIsUnsafe() {
        ControllerFlagsTest.Output o = plan("--cluster-cidr=10.244.0.0/16,fd00::/48", "--reserved-cidrs=10.0.0.0/8");
        assertEquals(1, o.code(), o.out());
        assertTrue(o.out().contains("10.0.0.0/8               covers all of 10.244.0.0/16 (UNSAFE)"), o.out());
        assertTrue(o.out().contains("Choose a cluster range outside 10.0.0.0/8"), o.out());
        assertTrue(o.out().matches("(?s).*fd00::/48 +IPv6 +/64 +65,536 +0 +65,536 +2\\^64 +~2\\^80.*"), o.out());
    }

    @Test
    void badFlagsExit2() {
        ControllerFlagsTest.Output o = plan("--cluster-cidr=10.244.0.0/16", "--node-cidr-mask-size=8", "--nodes=-3");
        assertEquals(2, o.code());
        assertTrue(o.err().contains("plan: 2 configuration errors"), o.err());
        assertTrue(o.err().contains("--node-cidr-mask-size=8: must not be shorter than the prefix"), o.err());
        assertTrue(o.err().contains("--nodes=-3: must be 0 or more"), o.err());
    }
}
