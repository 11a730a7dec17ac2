package io.github.podcidr.bench.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Keeps the end-to-end modes from rotting: runs {@link RealScaleRun}'s steady, burst and fill modes with kubelet-like
 * traffic at tiny scale against {@code apiserver-sim} in this JVM ({@code --sim true}), with ours started from the
 * test class path as its own process and the capacity client, and checks that each per-run line and table carries
 * its figures as numbers. No figure's value is checked: this machine measures nothing.
 */
class DayTwoModesTest {
    private static final String NUMBER = "-?[0-9]+(\\.[0-9]+)?";

    @TempDir
    Path dir;

    private String run(String... args) throws Exception {
        List<String> common = List.of("--sim", "true", "--controller-main", "io.github.podcidr.controller.Main",
                "--log-dir", dir.toString(), "--reps", "1", "--contenders", "ours,capacity", "--timeout", "120",
                "--kubelet-status-period", "2s", "--node-leases", "true", "--settle", "1s");
        String[] all = java.util.stream.Stream.concat(common.stream(), java.util.Arrays.stream(args))
                .toArray(String[]::new);
        PrintStream out = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            RealScaleRun.main(all);
        } finally {
            System.setOut(out);
        }
        String text = captured.toString(StandardCharsets.UTF_8);
        out.println(text);
        return text;
    }

    private static String line(String text, String prefix) {
        return text.lines().filter(l -> l.startsWith(prefix)).findFirst()
                .orElseThrow(() -> new AssertionError("no line starting " + prefix + " in\n" + text));
    }

    private static double number(String line, String key) {
        Matcher m = Pattern.compile("\\b" + Pattern.quote(key) + "=(" + NUMBER + ")").matcher(line);
        assertTrue(m.find(), key + " as a number in: " + line);
        return Double.parseDouble(m.group(1));
    }

    @Test
    void steadyReportsCpuRssRequestsAndTheTrafficRate() throws Exception {
        String text = run("--mode", "steady", "--nodes", "20", "--duration", "3s");
        String ours = line(text, "steady ours ");
        assertTrue(number(ours, "cpu_s_per_min") >= 0, ours);
        assertTrue(number(ours, "rss_mib") > 0, ours);
        assertTrue(ours.contains("requests={"), ours);
        // 20 nodes every 2 s and 20 Leases every 10 s: the rates meant, and what was achieved as numbers
        assertEquals(10.0, number(ours, "target"), 1e-9, ours);
        number(ours, "achieved");
        assertTrue(ours.contains("lease_per_s target=2.0 achieved="), ours);
        line(text, "steady capacity ");
        assertTrue(text.contains("| 20 | status/2s+leases/10s | ours | 1 | **"), text);
        assertTrue(text.contains("none (traffic only)"), text);
    }

    @Test
    void burstReportsLatenciesForEachContenderAndOursBreakdown() throws Exception {
        Path raw = dir.resolve("raw.txt");
        String text = run("--mode", "burst", "--nodes", "20", "--burst", "12", "--raw-out", raw.toString());
        for (String contender : List.of("ours", "capacity")) {
            String l = line(text, "burst " + contender + " ");
            assertEquals(12, number(l, "burst_nodes"), l);
            for (String key : List.of("all_assigned_s", "p50_s", "p99_s", "max_s")) {
                assertTrue(number(l, key) >= -1, l);
            }
        }
        String ours = line(text, "burst ours ");
        for (String key : List.of("event_to_handler_n", "event_to_handler_mean_ms", "queue_wait_n",
                "queue_wait_mean_ms", "work_mean_ms", "reconcile_mean_ms", "patch_rtt_n", "patch_rtt_mean_ms")) {
            number(ours, key);
        }
        assertTrue(number(ours, "event_to_handler_n") >= 12, "ours timed the new nodes' events: " + ours);
        assertTrue(number(ours, "patch_rtt_n") >= 12, "ours patched every new node: " + ours);
        assertTrue(text.contains("| 20 | 12 | status/2s+leases/10s | ours | 1 | **"), text);
        List<String> rawLines = Files.readAllLines(raw);
        assertEquals(2, rawLines.size(), "one raw line per run: " + rawLines);
    }

    @Test
    void fillAndRestartRunWithTheTrafficOn() throws Exception {
        String text = run("--mode", "fill", "--nodes", "20", "--kubelet-traffic", "true");
        String ours = line(text, "ours nodes=20 ");
        number(ours, "seconds");
        number(ours, "restart_new_node_s");
        assertTrue(text.contains("  traffic status/2s+leases/10s: kubelet_status_per_s target=10.0 achieved="),
                text);
    }
}
