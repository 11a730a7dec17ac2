package io.github.podcidr.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The status page in a real browser: the controller runs against apiserver-sim ({@link StatusFixture}: nodes
 * allocated, two waiting because the pool is full, one duplicate), headless Chromium loads {@code /status}; the
 * rendered DOM shows the counts the API server's state implies, and a screenshot is saved as
 * {@code target/status-page.png}. Skipped, with one line saying why, when Chromium is neither given
 * ({@code -Dchromium=$(scripts/chromium/install.sh)}, as {@code .ci/run} does) nor on PATH.
 */
class StatusPageBrowserIT {
    static final Path SCREENSHOT = Path.of("target", "status-page.png");

    @TempDir
    Path dir;

    @Test
    void chromiumRendersTheCountsOfTheCluster() throws Exception {
        Optional<Chromium> found = Chromium.find(Files.createDirectories(dir.resolve("chromium-profile")));
        if (found.isEmpty()) {
            System.err.println(Chromium.SKIPPED);
            Assumptions.abort(Chromium.SKIPPED);
        }
        Chromium chromium = found.get();
        try (StatusFixture f = new StatusFixture(dir); ControllerApp leader = f.start("replica-a")) {
            ControllerAppTest.await(() -> leader.runner().isLeader(), "replica-a leads");
            StatusFixture.awaitConverged(leader);
            String url = "http://127.0.0.1:" + leader.metricsAddress().getPort() + "/status";

            String dom = chromium.dumpDom(url);
            StatusFixture.ApiState api = f.apiState();
            assertEquals("podcidr-controller status", text(dom, "<title>([^<]*)</title>"));
            assertEquals("leader", byId(dom, "role"));
            assertEquals("replica-a", StatusFixture.pod(byId(dom, "leader")), "the holder is <pod>_<suffix>");
            assertEquals(String.valueOf(StatusFixture.CAPACITY), byId(dom, "pool-0-capacity"));
            assertEquals(String.valueOf(api.distinctSubnets()), byId(dom, "pool-0-allocated"));
            assertEquals("1", byId(dom, "pool-0-reserved"));
            assertEquals("0", byId(dom, "pool-0-free"));
            assertEquals(String.valueOf(api.nodesWithout()), byId(dom, "waiting-count"));
            assertEquals("1", byId(dom, "failing-closed-count"));
            assertEquals("1", byId(dom, "problem-count"));
            assertTrue(dom.contains(f.duplicateNode), "the duplicate node is named");
            assertTrue(dom.contains("data-conflict-cells=\"1\""), "the map marks the duplicate's subnet");

            JsonNode json = StatusFixture.statusJson(leader);
            assertEquals(api.distinctSubnets(), json.at("/pools/0/allocated").asInt());
            assertEquals(api.nodesWithout(), json.at("/waitingForRoom/total").asInt());
            assertEquals(byId(dom, "pool-0-allocated"), json.at("/pools/0/allocated").asText(), "page and JSON agree");

            chromium.screenshot(url, SCREENSHOT, 1280, 1600);
            BufferedImage shot = ImageIO.read(SCREENSHOT.toFile());
            assertEquals(1280, shot.getWidth());
            assertEquals(1600, shot.getHeight());
            int mapPixels = 0;
            for (int y = 0; y < shot.getHeight(); y++) {
                for (int x = 0; x < shot.getWidth(); x++) {
                    if ((shot.getRGB(x, y) & 0xFFFFFF) == GridImage.CONFLICT) {
                        mapPixels++;
                    }
                }
            }
            // the legend's swatch has 144 red pixels; the square of the duplicate's subnet adds hundreds more
            assertTrue(mapPixels > 400, "the map's red square is on the screenshot: " + mapPixels + " pixels");
            System.err.printf("StatusPageBrowserIT: screenshot %s (%,d bytes)%n", SCREENSHOT.toAbsolutePath(),
                    Files.size(SCREENSHOT));
        }
    }

    private static String byId(String dom, String id) {
        return text(dom, "id=\"" + Pattern.quote(id) + "\"[^>]*>([^<]*)<");
    }

    private static String text(String dom, String regex) {
        Matcher m = Pattern.compile(regex).matcher(dom);
        assertTrue(m.find(), () -> "no match for " + regex + " in the rendered DOM:\n" + dom);
        return m.group(1).trim();
    }
}
