package io.github.podcidr.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import io.github.podcidr.apiserver.ResourceType;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code /status} and {@code /status.json} of a leader and a standby running against apiserver-sim over HTTP
 * ({@link StatusFixture}): the figures agree with what the API server holds, the standby names the leader from the
 * Lease and shows no pools; with a pools file, each group's figures are those of the nodes of that group in the API.
 * (The page as a browser renders it: {@code StatusPageBrowserIT}.)
 */
class StatusPageTest {
    @TempDir
    Path dir;

    @Test
    void leaderAndStandbyPagesAgreeWithTheApi() throws Exception {
        try (StatusFixture f = new StatusFixture(dir); ControllerApp leader = f.start("replica-a")) {
            ControllerAppTest.await(() -> leader.runner().isLeader(), "replica-a leads");
            StatusFixture.awaitConverged(leader);
            JsonNode s = StatusFixture.statusJson(leader);
            StatusFixture.ApiState api = f.apiState();

            assertEquals("replica-a", StatusFixture.pod(s.at("/identity").asText()));
            assertEquals("replica-a", StatusFixture.pod(s.at("/leader/holder").asText()));
            assertTrue(s.at("/leader/acquired").isTextual(), s.toString());
            JsonNode pool = s.at("/pools/0");
            assertEquals(StatusFixture.CLUSTER, pool.at("/cidr").asText());
            assertEquals(StatusFixture.CAPACITY, pool.at("/capacity").asInt());
            assertEquals(api.distinctSubnets(), pool.at("/allocated").asInt(), "allocated = distinct subnets in the API");
            assertEquals(1, pool.at("/reserved").asInt());
            assertEquals(0, pool.at("/free").asInt());
            assertEquals(StatusFixture.CAPACITY, pool.at("/cells").asInt(), "one cell per subnet");
            assertEquals(1, pool.at("/conflictCells").asInt(), "the duplicate's subnet is marked");
            String map = pool.at("/map").asText();
            assertEquals(StatusFixture.CAPACITY, map.length());
            assertEquals('x', map.charAt(1), "10.244.0.16/28 is cell 1: " + map);
            assertEquals('r', map.charAt(15), "10.244.0.240/28 is reserved: " + map);
            assertEquals(14, map.chars().filter(c -> c == 'a').count(), map);
            assertEquals(api.nodesWithout(), s.at("/waitingForRoom/total").asInt(), "waiting = nodes without CIDRs");
            assertEquals(StatusFixture.WAITING, s.at("/waitingForRoom/nodes").size());
            assertEquals(f.duplicateNode, s.at("/failingClosed/nodes/0").asText());
            assertEquals(1, s.at("/problemNodes/byKind/duplicate").asInt());
            assertEquals(f.duplicateNode, s.at("/problemNodes/nodes/0/node").asText());
            assertTrue(s.at("/problemNodes/nodes/0/failingClosed").asBoolean());
            JsonNode latest = s.at("/latestProblems/0");
            assertEquals(f.duplicateNode, latest.at("/node").asText());
            assertEquals("CIDRConflict", latest.at("/reason").asText());
            assertEquals(StatusFixture.PRESET, latest.at("/cidr").asText());
            assertEquals(api.nodesWithCidrs() - 2, s.at("/writesSinceStart/subnetsAssigned").asInt(),
                    "the controller wrote every pod CIDR but the preset one and its copy");
            assertEquals(api.nodesWithCidrs() - 2, s.at("/writesLastMinute/subnetsAssigned").asInt());

            HttpResponse<String> page = ControllerAppTest.get(leader.metricsAddress(), "/status");
            assertEquals(200, page.statusCode());
            assertTrue(page.headers().firstValue("Content-Type").orElse("").startsWith("text/html"));
            String html = page.body();
            assertTrue(html.contains("id=\"pool-0-allocated\">15<"), html);
            assertTrue(html.contains("id=\"waiting-count\" class=\"warn\">2<"), html);
            assertTrue(html.contains("data:image/png;base64,"), "the map is inline");
            assertFalse(html.contains("src=\"http"), "nothing fetched from elsewhere");
            assertEquals(404, ControllerAppTest.get(leader.metricsAddress(), "/status/x").statusCode());

            try (ControllerApp standby = f.start("replica-b")) {
                ControllerAppTest.await(() -> {
                    try {
                        return StatusFixture.statusJson(standby).at("/leader/holder").asText().startsWith("replica-a_");
                    } catch (java.io.IOException e) {
                        return false;
                    }
                }, "the standby read the Lease");
                JsonNode b = StatusFixture.statusJson(standby);
                assertEquals("standby", b.at("/role").asText());
                assertEquals(0, b.at("/pools").size(), "a standby keeps no allocation state");
                String standbyHtml = ControllerAppTest.get(standby.metricsAddress(), "/status").body();
                assertTrue(standbyHtml.contains("id=\"standby\""), standbyHtml);
                assertTrue(standbyHtml.contains("<b id=\"leader\">replica-a_"), standbyHtml);
            }
        }
    }

    @Test
    void namedGroupsAreShownWithTheirOwnFigures() throws Exception {
        try (StatusFixture f = new StatusFixture(dir, true); ControllerApp leader = f.start("replica-a")) {
            ControllerAppTest.await(() -> {
                try {
                    JsonNode s = StatusFixture.statusJson(leader);
                    return s.at("/role").asText().equals("leader")
                            && s.at("/pools/0/allocated").asInt() == StatusFixture.DEFAULT_ALLOCATED_WITH_IDC
                            && s.at("/pools/1/allocated").asInt() == StatusFixture.IDC_CAPACITY
                            && s.at("/waitingForRoom/total").asInt() == 2;
                } catch (java.io.IOException e) {
                    return false;
                }
            }, "11 default and 4 idc subnets allocated, 2 idc nodes waiting");
            JsonNode s = StatusFixture.statusJson(leader);
            assertEquals("default", s.at("/pools/0/group").asText(), s.toString());
            assertEquals(StatusFixture.CLUSTER, s.at("/pools/0/cidr").asText());
            assertEquals("idc", s.at("/pools/1/group").asText());
            assertEquals(StatusFixture.IDC_CLUSTER, s.at("/pools/1/cidr").asText());
            assertEquals(0, s.at("/pools/1/free").asInt());
            assertEquals(List.of("default", "idc"), List.of(s.at("/groups/0/name").asText(),
                    s.at("/groups/1/name").asText()));
            assertEquals(StatusFixture.DEFAULT_ALLOCATED_WITH_IDC, s.at("/groups/0/families/0/allocated").asInt());
            assertEquals(StatusFixture.IDC_CAPACITY, s.at("/groups/1/families/0/capacity").asInt());
            assertEquals(StatusFixture.IDC_CAPACITY, s.at("/groups/1/families/0/allocated").asInt());
            // the API agrees: the idc nodes hold subnets of 10.250.0.0/28 only
            long idcInApi = f.sim.list(ResourceType.NODES, null).stream()
                    .filter(n -> n.at("/metadata/labels").has(StatusFixture.IDC_LABEL))
                    .filter(n -> n.at("/spec/podCIDR").asText("").startsWith("10.250.0.")).count();
            assertEquals(StatusFixture.IDC_CAPACITY, idcInApi);
            JsonNode waiting = s.at("/waitingForRoom/nodes");
            assertEquals(2, waiting.size());
            for (JsonNode n : waiting) {
                assertEquals("idc", s.at("/waitingForRoom/groupOfNode").path(n.asText()).asText(), s.toString());
            }

            String html = ControllerAppTest.get(leader.metricsAddress(), "/status").body();
            assertTrue(html.contains("<b id=\"group-idc\">idc</b>"), html);
            assertTrue(html.contains("id=\"group-idc-ipv4-allocated\">4<"), html);
            assertTrue(html.contains("id=\"group-idc-ipv4-free\">0<"), html);
            assertTrue(html.contains("id=\"group-default-ipv4-allocated\">11<"), html);
            assertTrue(html.contains("<figcaption>group <b class=\"group\">idc</b>: <b>" + StatusFixture.IDC_CLUSTER),
                    html);
            assertTrue(html.contains("<code>" + waiting.get(0).asText() + "</code> <span class=\"note\">(idc)</span>"),
                    html);
        }
    }
}
