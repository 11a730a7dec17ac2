package io.github.podcidr.controller;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import io.prometheus.client.CollectorRegistry;
import io.prometheus.client.exporter.common.TextFormat;
import java.io.IOException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;

/**
 * The HTTP endpoints, on the JDK's HTTP server: {@code /metrics} (Prometheus text format 0.0.4), the status page
 * {@code /status} (HTML) and its JSON twin {@code /status.json} on the metrics address, {@code /healthz} and
 * {@code /readyz} on the probe address (200 {@code ok} or 503 with the reason), all on one server when both addresses
 * are the same. An address of null switches its endpoints off.
 */
final class HttpEndpoints implements AutoCloseable {
    private final List<HttpServer> servers = new ArrayList<>();
    private final ExecutorService executor = Executors.newFixedThreadPool(2, r -> {
        Thread t = new Thread(r, "podcidr-http");
        t.setDaemon(true);
        return t;
    });
    private InetSocketAddress metricsAddress;
    private InetSocketAddress probeAddress;

    /**
     * Binds and starts the servers.
     *
     * @param metrics the metrics address or null
     * @param probes the probe address or null
     * @param registry what /metrics serves
     * @param healthy answers /healthz
     * @param ready answers /readyz
     * @param status what /status and /status.json serve, or null for neither
     * @return the endpoints
     * @throws IOException if an address cannot be bound
     */
    static HttpEndpoints start(BindAddress metrics, BindAddress probes, CollectorRegistry registry,
                               BooleanSupplier healthy, BooleanSupplier ready, StatusPage status)
            throws IOException {
        HttpEndpoints e = new HttpEndpoints();
        try {
            HttpServer metricsServer = null;
            if (metrics != null) {
                metricsServer = e.bind(metrics);
                metricsServer.createContext("/metrics", exchange -> serveMetrics(exchange, registry));
                if (status != null) {
                    metricsServer.createContext("/status", exchange -> serveStatus(exchange, "/status",
                            "text/html; charset=utf-8", status::html));
                    metricsServer.createContext("/status.json", exchange -> serveStatus(exchange, "/status.json",
                            "application/json", status::json));
                }
                e.metricsAddress = metricsServer.getAddress();
            }
            if (probes != null) {
                HttpServer s = probes.equals(metrics) ? metricsServer : e.bind(probes);
                s.createContext("/healthz", probe(healthy, "not healthy: the leader election or worker threads"
                        + " have stopped"));
                s.createContext("/readyz", probe(ready, "not ready: leading, but the informer has not synced or"
                        + " restore is not done"));
                e.probeAddress = s.getAddress();
            }
        } catch (IOException ex) {
            e.close();
            throw ex;
        }
        e.servers.forEach(HttpServer::start);
        return e;
    }

    private HttpServer bind(BindAddress address) throws IOException {
        HttpServer s;
        try {
            s = HttpServer.create(address.socketAddress(), 16);
        } catch (IOException ex) {
            throw new IOException("cannot listen on " + address + ": " + ex.getMessage(), ex);
        }
        s.setExecutor(executor);
        servers.add(s);
        return s;
    }

    /** The bound metrics address (its real port when 0 was asked), or null. */
    InetSocketAddress metricsAddress() {
        return metricsAddress;
    }

    /** The bound probe address, or null. */
    InetSocketAddress probeAddress() {
        return probeAddress;
    }

    private static HttpHandler probe(BooleanSupplier check, String failure) {
        return exchange -> {
            boolean ok;
            try {
                ok = check.getAsBoolean();
            } catch (RuntimeException e) {
                ok = false;
            }
            respond(exchange, ok ? 200 : 503, "text/plain; charset=utf-8", ok ? "ok\n" : failure + "\n");
        };
    }

    private static void serveMetrics(HttpExchange exchange, CollectorRegistry registry) throws IOException {
        try (exchange) {
            exchange.getResponseHeaders().set("Content-Type", TextFormat.CONTENT_TYPE_004);
            exchange.sendResponseHeaders(200, 0);
            try (Writer w = new OutputStreamWriter(exchange.getResponseBody(), StandardCharsets.UTF_8)) {
                TextFormat.write004(w, registry.metricFamilySamples());
            }
        }
    }

    /** Serves a page of the status, on its exact path only (a context also matches longer paths). */
    private static void serveStatus(HttpExchange exchange, String path, String type,
                                    java.util.function.Supplier<String> body) throws IOException {
        if (!exchange.getRequestURI().getPath().equals(path)) {
            respond(exchange, 404, "text/plain; charset=utf-8", "not found; the status page is /status, its JSON"
                    + " /status.json\n");
            return;
        }
        if (!exchange.getRequestMethod().equals("GET")) {
            respond(exchange, 405, "text/plain; charset=utf-8", "only GET\n");
            return;
        }
        String text;
        try {
            text = body.get();
        } catch (RuntimeException e) {
            respond(exchange, 500, "text/plain; charset=utf-8", "status not available: " + e + "\n");
            return;
        }
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        respond(exchange, 200, type, text);
    }

    private static void respond(HttpExchange exchange, int code, String type, String body) throws IOException {
        try (exchange) {
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", type);
            exchange.sendResponseHeaders(code, bytes.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        }
    }

    @Override
    public void close() {
        servers.forEach(s -> s.stop(0));
        executor.shutdownNow();
    }
}
