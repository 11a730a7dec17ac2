package io.github.podcidr.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.podcidr.ipam.Cidr;
import io.github.podcidr.ipam.IpFamily;
import io.github.podcidr.ipam.NodeGroup;
import io.github.podcidr.ipam.NodeIpam;
import io.github.podcidr.ipam.NodeReport;
import io.github.podcidr.ipam.PoolOccupancy;
import io.github.podcidr.k8s.LeaderLease;
import io.github.podcidr.k8s.NodeProblem;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

/**
 * The renderers on a snapshot made by hand: untrusted text is escaped in HTML and JSON, lists are capped with an
 * "and N more" line, a pool of 2^20 subnets is summed up in 2^16 cells, and the PNG map decodes to the colours the
 * legend gives.
 */
class StatusHtmlTest {
    private static final String EVIL = "<script>alert('x')</script>\"&";

    private static StatusSnapshot snapshot(List<StatusSnapshot.Pool> pools, int waitingTotal) {
        return snapshot(pools, waitingTotal, Map.of());
    }

    private static StatusSnapshot snapshot(List<StatusSnapshot.Pool> pools, int waitingTotal,
                                           Map<String, String> groupOfNode) {
        List<String> waiting = new ArrayList<>();
        for (int i = 0; i < Math.min(waitingTotal, StatusSnapshot.LIST_LIMIT); i++) {
            waiting.add("node-" + i);
        }
        NodeProblem p = new NodeProblem(EVIL, NodeReport.Kind.DUPLICATE, "CIDRConflict",
                Cidr.parse("10.0.0.0/28"), "claims " + EVIL, Instant.parse("2026-12-02T10:00:00Z"));
        return new StatusSnapshot(Instant.parse("2026-12-02T10:01:00Z"), "0.1.0", EVIL,
                StatusSnapshot.Role.LEADER, true, new LeaderLease(EVIL, Instant.parse("2026-12-02T09:00:00Z"),
                Instant.parse("2026-12-02T10:00:59Z"), 15, 3, Instant.parse("2026-12-02T10:01:00Z")), true, pools,
                List.of(new StatusSnapshot.FamilyTotals(IpFamily.IPV4, 1 << 20, 3, 0, (1 << 20) - 3)),
                new StatusSnapshot.Capped<>(waiting, waitingTotal), new StatusSnapshot.Capped<>(List.of(EVIL), 1),
                new StatusSnapshot.Capped<>(List.of(new StatusSnapshot.ProblemNode(EVIL,
                        Set.of(NodeReport.Kind.DUPLICATE), true)), 1), Map.of(NodeReport.Kind.DUPLICATE, 1),
                List.of(p), new WriteRates.Rates(3, 0, 1, 0, 3, 0), 0, 120, groupOfNode, true);
    }

    private static StatusSnapshot.Pool bigPool() {
        NodeIpam ipam = NodeIpam.builder().addPool(Cidr.parse("10.0.0.0/8"), 28).build();
        for (int i = 0; i < 3; i++) {
            ipam.assign("n" + i);
        }
        PoolOccupancy o = ipam.occupancy(StatusSnapshot.GRID_CELLS).get(0);
        BitSet conflicts = new BitSet();
        conflicts.set(5);
        return new StatusSnapshot.Pool(o.stats(), o, conflicts);
    }

    @Test
    void untrustedTextIsEscapedEverywhere() throws Exception {
        String html = StatusHtml.render(snapshot(List.of(bigPool()), 3));
        assertFalse(html.contains("<script"), "no script element from a node name");
        assertFalse(html.contains("alert('x')"), "quotes escaped too");
        assertTrue(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&quot;&amp;"), html);
        JsonNode json = new ObjectMapper().readTree(StatusJson.write(snapshot(List.of(bigPool()), 3)));
        assertEquals(EVIL, json.at("/latestProblems/0/node").asText(), "JSON carries the text as it is");
        assertEquals(EVIL, json.at("/leader/holder").asText());
    }

    @Test
    void namedGroupsAreSummedUpAndNamed() throws Exception {
        NodeIpam ipam = NodeIpam.builder().addPool(Cidr.parse("10.244.0.0/24"), 28)
                .addGroup(NodeGroup.builder("idc").addPool(Cidr.parse("10.250.0.0/26"), 30)
                        .addPool(Cidr.parse("10.251.0.0/28"), 30).reserve(Cidr.parse("10.250.0.60/30")).build())
                .build();
        for (int i = 0; i < 3; i++) {
            ipam.assign("cloud-" + i);
        }
        for (int i = 0; i < 17; i++) {
            ipam.assign("idc-" + i, "idc"); // 15 of the /26 (one /30 reserved), then 2 of the /28
        }
        List<StatusSnapshot.Pool> pools = new ArrayList<>();
        for (PoolOccupancy o : ipam.occupancy(StatusSnapshot.GRID_CELLS)) {
            pools.add(new StatusSnapshot.Pool(o.stats(), o, new BitSet(),
                    ipam.groupOf(o.stats().cluster()).orElseThrow()));
        }
        StatusSnapshot s = snapshot(pools, 2, Map.of("node-0", "idc", "node-1", "default"));
        assertTrue(s.namedGroups());
        String html = StatusHtml.render(s);
        assertTrue(html.contains("<b id=\"group-default\">default</b>"), html);
        assertTrue(html.contains("<b id=\"group-idc\">idc</b>"), html);
        assertTrue(html.contains("id=\"group-default-ipv4-allocated\">3<"), html);
        assertTrue(html.contains("id=\"group-idc-ipv4-capacity\">20<"), "16 + 4 subnets: " + html);
        assertTrue(html.contains("id=\"group-idc-ipv4-allocated\">17<"), html);
        assertTrue(html.contains("id=\"group-idc-ipv4-reserved\">1<"), html);
        assertTrue(html.contains("id=\"group-idc-ipv4-free\">2<"), html);
        assertTrue(html.contains("(all groups)"), html);
        assertTrue(html.contains("id=\"pool-2-allocated\">2<"), "the idc group's second pool: " + html);
        assertTrue(html.contains("data-group=\"idc\"><img alt=\"allocation map of 10.250.0.0/26 (group idc)"), html);
        assertTrue(html.contains("<figcaption>group <b class=\"group\">idc</b>: <b>10.251.0.0/28</b>"), html);
        assertTrue(html.contains("<li><code>node-0</code> <span class=\"note\">(idc)</span></li>"), html);

        JsonNode json = new ObjectMapper().readTree(StatusJson.write(s));
        assertEquals("default", json.at("/pools/0/group").asText());
        assertEquals("idc", json.at("/pools/1/group").asText());
        assertEquals("idc", json.at("/pools/2/group").asText());
        assertEquals("default", json.at("/groups/0/name").asText());
        assertEquals(3, json.at("/groups/0/families/0/allocated").asInt());
        assertEquals("idc", json.at("/groups/1/name").asText());
        assertEquals("ipv4", json.at("/groups/1/families/0/family").asText());
        assertEquals(20, json.at("/groups/1/families/0/capacity").asInt());
        assertEquals(17, json.at("/groups/1/families/0/allocated").asInt());
        assertEquals(2, json.at("/groups/1/families/0/free").asInt());
        assertEquals("idc", json.at("/waitingForRoom/groupOfNode/node-0").asText());
    }

    @Test
    void withoutNamedGroupsNoGroupIsShown() throws Exception {
        StatusSnapshot s = snapshot(List.of(bigPool()), 1);
        String html = StatusHtml.render(s);
        assertFalse(html.contains("group"), "no group named on the page of the default group alone");
        JsonNode json = new ObjectMapper().readTree(StatusJson.write(s));
        assertTrue(json.at("/groups").isMissingNode(), json.toString());
        assertTrue(json.at("/pools/0/group").isMissingNode(), json.toString());
        assertTrue(json.at("/waitingForRoom/groupOfNode").isMissingNode(), json.toString());
    }

    @Test
    void aFallbackFromProtobufToJsonIsShown() throws Exception {
        StatusSnapshot s = snapshot(List.of(), 0); // taken after the fallback
        assertTrue(StatusHtml.render(s).contains("id=\"protobuf-fallback\""));
        assertTrue(new ObjectMapper().readTree(StatusJson.write(s)).path("protobufFallenBack").asBoolean());
        StatusSnapshot before = new StatusSnapshot(s.takenAt(), s.version(), s.identity(), s.role(),
                s.electionEnabled(), s.lease(), s.ready(), s.pools(), s.families(), s.waiting(), s.failingClosed(),
                s.problemNodes(), s.problemsByKind(), s.latestProblems(), s.rates(), s.queueDepth(),
                s.captureMicros(), s.groupOfNode(), false);
        assertFalse(StatusHtml.render(before).contains("protobuf"));
        assertFalse(new ObjectMapper().readTree(StatusJson.write(before)).path("protobufFallenBack").asBoolean());
    }

    @Test
    void listsAreCappedWithACount() {
        String html = StatusHtml.render(snapshot(List.of(), 130_000));
        assertEquals(StatusSnapshot.LIST_LIMIT, html.split("<li><code>node-", -1).length - 1);
        assertTrue(html.contains("and 129,950 more"), html);
        assertTrue(html.contains("id=\"waiting-count\" class=\"warn\">130000<"));
    }

    @Test
    void aLargePoolIsSummedUpInBlocks() throws Exception {
        StatusSnapshot.Pool p = bigPool();
        assertEquals(StatusSnapshot.GRID_CELLS, p.occupancy().cells());
        assertEquals(16, p.occupancy().subnetsPerCell(), "2^20 subnets in 2^16 cells");
        assertEquals(256, p.columns());
        String html = StatusHtml.render(snapshot(List.of(p), 0));
        assertTrue(html.contains("each square a block of 16 subnets (2<sup>4</sup>)"), html);
        assertTrue(html.length() < 60_000, "the page stays small: " + html.length() + " characters");
        String map = StatusJson.map(p);
        assertEquals('2', map.charAt(0), "3 of 16 in use: 27/16 ninths, rounded up");
        assertEquals('x', map.charAt(5));
        assertEquals('.', map.charAt(6));

        BufferedImage img = ImageIO.read(new ByteArrayInputStream(GridImage.png(p)));
        int px = GridImage.cellPixels(p.columns());
        assertEquals(256 * px, img.getWidth());
        assertEquals(256 * px, img.getHeight());
        assertEquals(GridImage.CONFLICT, img.getRGB(5 * px, 0) & 0xFFFFFF);
        assertEquals(GridImage.CONFLICT, img.getRGB(5 * px + px / 2 + 2, 2) & 0xFFFFFF,
                "a conflict is marked wider than its 2-pixel square");
        assertEquals(GridImage.FREE, img.getRGB(8 * px, 0) & 0xFFFFFF);
        int partly = img.getRGB(0, 0) & 0xFFFFFF;
        assertTrue(partly != GridImage.FREE && partly != GridImage.ALLOCATED, "shaded between free and full");
    }

    @Test
    void oneSquarePerSubnetWithGaps() throws Exception {
        NodeIpam ipam = NodeIpam.builder().addPool(Cidr.parse("10.244.0.0/24"), 28)
                .reserve(Cidr.parse("10.244.0.240/28")).build();
        ipam.assign("a");
        PoolOccupancy o = ipam.occupancy(StatusSnapshot.GRID_CELLS).get(0);
        StatusSnapshot.Pool p = new StatusSnapshot.Pool(o.stats(), o, new BitSet());
        BufferedImage img = ImageIO.read(new ByteArrayInputStream(GridImage.png(p)));
        int px = GridImage.cellPixels(p.columns());
        assertEquals(4 * px, img.getWidth());
        assertEquals(GridImage.ALLOCATED, img.getRGB(0, 0) & 0xFFFFFF);
        assertEquals(0xFFFFFF, img.getRGB(px - 1, 0) & 0xFFFFFF, "a white line between squares");
        assertEquals(GridImage.FREE, img.getRGB(px, 0) & 0xFFFFFF);
        assertEquals(GridImage.RESERVED, img.getRGB(3 * px, 3 * px) & 0xFFFFFF, "the last subnet is reserved");
        assertEquals("a..............r", StatusJson.map(p));
    }
}
