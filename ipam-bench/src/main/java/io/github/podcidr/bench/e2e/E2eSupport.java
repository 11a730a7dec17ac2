package io.github.podcidr.bench.e2e;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;

/** What the end-to-end runs share: options, child processes, their probes and their memory. */
final class E2eSupport {
    private E2eSupport() {
    }

    /** {@code --name value} pairs into a map keyed by name without the dashes. */
    static Map<String, String> options(String[] args) {
        Map<String, String> opts = new TreeMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            opts.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        }
        return opts;
    }

    /** The {@code java} launcher of the JDK running this process. */
    static String javaBin() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** A free TCP port on this machine (for a child's metrics and probes). */
    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** Whether {@code http://127.0.0.1:<port>/readyz} answers 200 now. */
    static boolean ready(HttpClient http, int port) {
        try {
            return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/readyz"))
                    .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.discarding()).statusCode()
                    == 200;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** User + system CPU seconds of a live process so far, from {@code /proc/PID/stat} (clock ticks of 10 ms). */
    static double cpuSeconds(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0;
    }

    /** Resident set size of a live process now ({@code VmRSS}), in bytes, or -1 when unknown. */
    static long rss(long pid) throws IOException {
        return statusField(pid, "VmRSS:");
    }

    /**
     * The value at rank {@code ceil(q * n)} of sorted values (nearest rank: p50 of 1..4 is 2, p99 of 1,000 values
     * the 990th), NaN when there are none.
     */
    static double percentile(double[] sorted, double q) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int rank = (int) Math.ceil(q * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length, rank) - 1)];
    }

    /**
     * A Prometheus text exposition ({@code /metrics}) as series name with labels (as written) to value; comments
     * and blank lines skipped.
     */
    static Map<String, Double> scrape(HttpClient http, int port) throws IOException, InterruptedException {
        String body = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()).body();
        Map<String, Double> out = new TreeMap<>();
        for (String line : body.split("\n")) {
            int space = line.lastIndexOf(' ');
            if (line.isEmpty() || line.startsWith("#") || space < 0) {
                continue;
            }
            try {
                out.put(line.substring(0, space), Double.parseDouble(line.substring(space + 1)));
            } catch (NumberFormatException notAValue) {
                // a timestamped or malformed line: not one of the series read here
            }
        }
        return out;
    }

    /** Peak resident set size of a live process ({@code VmHWM}), in bytes, or -1 when unknown. */
    static long peakRss(long pid) throws IOException {
        return statusField(pid, "VmHWM:");
    }

    private static long statusField(long pid, String field) throws IOException {
        Path status = Path.of("/proc/" + pid + "/status");
        if (!Files.exists(status)) {
            return -1;
        }
        for (String line : Files.readAllLines(status)) {
            if (line.startsWith(field)) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        return -1;
    }
}
