package io.github.podcidr.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code /status} and {@code /status.json} of a leader and a standby running against apiserver-sim over HTTP
 * ({@link StatusFixture}): the figures agree with what the API server holds, the standby names the leader from the
 * Lease and shows no pools. (The page as a browser renders it: {@code StatusPageBrowserIT}.)
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

            assertEquals("replica-a", s.at("/identity").asText());
            assertEquals("replica-a", s.at("/leader/holder").asText());
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
                        return StatusFixture.statusJson(standby).at("/leader/holder").asText().equals("replica-a");
                    } catch (java.io.IOException e) {
                        return false;
                    }
                }, "the standby read the Lease");
                JsonNode b = StatusFixture.statusJson(standby);
                assertEquals("standby", b.at("/role").asText());
                assertEquals(0, b.at("/pools").size(), "a standby keeps no allocation state");
                String standbyHtml = ControllerAppTest.get(standby.metricsAddress(), "/status").body();
                assertTrue(standbyHtml.contains("id=\"standby\""), standbyHtml);
                assertTrue(standbyHtml.contains("<b id=\"leader\">replica-a</b>"), standbyHtml);
            }
        }
    }
}
