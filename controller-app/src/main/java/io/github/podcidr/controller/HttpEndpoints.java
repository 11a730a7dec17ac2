package io.github.podcidr.controller;

import io.prometheus.client.CollectorRegistry;
import io.prometheus.client.exporter.common.TextFormat;
import java.io.IOException;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.ConnectionLimit;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.eclipse.jetty.util.thread.ScheduledExecutorScheduler;

/**
 * The HTTP endpoints: {@code /metrics} (Prometheus text format 0.0.4), the status page {@code /status} (HTML) and its
 * JSON twin {@code /status.json} on the metrics address, {@code /healthz} and {@code /readyz} on the probe address
 * (200 {@code ok} or 503 with the reason), all on one server when both addresses are the same (and not port 0). An
 * address of null switches its endpoints off.
 *
 * <p>No client can starve the probes (issue 26): each address has its own server and threads, so a probe never
 * waits behind a metrics or status request. Jetty reads request heads without holding a thread, so a client that
 * sends half a request costs a connection, not a thread. Every connection is bounded: {@value #MAX_CONNECTIONS} open
 * per address (more wait in the listen backlog), closed after {@value #IDLE_MILLIS} ms without a byte in either
 * direction ({@value #CROWDED_IDLE_MILLIS} ms while the cap is reached) and {@value #DEADLINE_MILLIS} ms after it
 * opened whatever it does ({@link ConnectionDeadline}), one request per connection, a request head of at most
 * {@value #MAX_HEAD_BYTES} bytes (431 beyond), and no request body is ever read. Only GET and HEAD are served (405
 * otherwise); each answer is built in memory and written without blocking a thread on a slow reader.
 *
 * <p>Why not the JDK's server: it reads a request head on a pool thread with a blocking read, so each stalled client
 * holds a thread until {@code sun.net.httpserver.maxReqTime} (measured on JDK 17.0.15: 16 half request lines on a
 * 4-thread pool, no probe answered within 2 s until that limit closed them), and its limits are JVM-wide system
 * properties read once, shared with the demo's in-process simulator, whose watches a {@code maxRspTime} would cut.
 *
 * <p>With {@link Secure} the metrics address speaks HTTPS only (an {@code SslConnectionFactory} in front of the same
 * connector, so the limits above hold for the TLS handshake too) and answers a request only after
 * {@link EndpointAuth} has allowed its bearer token (401 without one or with one the API server refuses, 403 when
 * the user may not get the path); a 404 or 405 is answered without a check. The probes never need a token.
 */
final class HttpEndpoints implements AutoCloseable {
    /**
     * Open connections per address. A kubelet probes with a connection or two, a scraper or a person with a few; 32
     * leaves room for all of them beside a handful of stuck clients, and bounds memory when a thousand arrive.
     */
    static final int MAX_CONNECTIONS = 32;
    /** A connection with no byte read or written for this long is closed (a stalled request, a reader gone). */
    static final long IDLE_MILLIS = 5_000;
    /** While {@link #MAX_CONNECTIONS} are open the idle timeout drops to this, so that stuck ones make room sooner. */
    static final long CROWDED_IDLE_MILLIS = 1_000;
    /** Any connection is closed this long after it opened: enough for one request and its answer on any link. */
    static final long DEADLINE_MILLIS = 10_000;
    /** The request line and headers: a probe or a scrape sends a few hundred bytes. */
    static final int MAX_HEAD_BYTES = 8 * 1024;
    /** Threads per server: one accepts, one selects, the rest answer (an answer takes a few milliseconds). */
    private static final int THREADS = 8;
    /** Connections the kernel queues while {@link #MAX_CONNECTIONS} are open. */
    private static final int BACKLOG = 64;
    private static final String TEXT = "text/plain; charset=utf-8";

    private final List<Server> servers = new ArrayList<>();
    private final Map<Server, ConnectionDeadline> deadlines = new LinkedHashMap<>();
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
        return start(metrics, probes, registry, healthy, ready, status, null);
    }

    /**
     * Binds and starts the servers, the metrics address over TLS and behind authentication when {@code secure} is
     * given (then the probes must have an address of their own: they stay plain HTTP for the kubelet).
     *
     * @param metrics the metrics address or null
     * @param probes the probe address or null
     * @param registry what /metrics serves
     * @param healthy answers /healthz
     * @param ready answers /readyz
     * @param status what /status and /status.json serve, or null for neither
     * @param secure the certificate and the token checks of the metrics address, or null for plain HTTP
     * @return the endpoints
     * @throws IOException if an address cannot be bound
     */
    static HttpEndpoints start(BindAddress metrics, BindAddress probes, CollectorRegistry registry,
                               BooleanSupplier healthy, BooleanSupplier ready, StatusPage status, Secure secure)
            throws IOException {
        if (secure != null && metrics != null && probes != null && probes.equals(metrics) && probes.port() != 0) {
            throw new IllegalArgumentException("a secure metrics address needs its own port: the probes on "
                    + probes + " stay plain HTTP");
        }
        HttpEndpoints e = new HttpEndpoints();
        try {
            Routes metricsRoutes = null;
            if (metrics != null) {
                metricsRoutes = new Routes(secure == null ? null : secure.auth());
                metricsRoutes.add("/metrics", () -> metrics(registry));
                if (status != null) {
                    metricsRoutes.add("/status", () -> page("text/html; charset=utf-8", status::html));
                    metricsRoutes.add("/status.json", () -> page("application/json", status::json));
                }
            }
            // one server when both name the same port; two asked-for ephemeral ports (0) are two servers
            boolean shared = probes != null && probes.equals(metrics) && probes.port() != 0;
            Routes probeRoutes = probes == null ? null : shared ? metricsRoutes : new Routes(null);
            if (probes != null) {
                probeRoutes.add("/healthz", () -> probe(healthy, "not healthy: the leader election or worker"
                        + " threads have stopped"));
                probeRoutes.add("/readyz", () -> probe(ready, "not ready: leading, but the informer has not synced"
                        + " or restore is not done"));
            }
            if (metrics != null) {
                e.metricsAddress = e.serve(metrics, probeRoutes == metricsRoutes ? "http" : "http-metrics",
                        metricsRoutes, secure == null ? null : secure.tls());
            }
            if (probes != null) {
                e.probeAddress = probeRoutes == metricsRoutes ? e.metricsAddress
                        : e.serve(probes, "http-probes", probeRoutes, null);
            }
        } catch (IOException | RuntimeException ex) {
            e.close();
            throw ex;
        }
        return e;
    }

    /** Starts a server on an address with its own threads and limits; returns the bound address. */
    private InetSocketAddress serve(BindAddress address, String name, Routes routes, MetricsTls tls)
            throws IOException {
        QueuedThreadPool threads = new QueuedThreadPool(THREADS, 2);
        threads.setName("podcidr-" + name);
        threads.setDaemon(true);
        threads.setReservedThreads(0);
        ScheduledExecutorScheduler scheduler = new ScheduledExecutorScheduler("podcidr-" + name + "-timer", true);
        Server server = new Server(threads, scheduler, null);
        HttpConfiguration config = new HttpConfiguration();
        config.setRequestHeaderSize(MAX_HEAD_BYTES);
        config.setPersistentConnectionsEnabled(false);
        config.setSendServerVersion(false);
        config.setSendXPoweredBy(false);
        ServerConnector connector;
        if (tls == null) {
            connector = new ServerConnector(server, 1, 1, new HttpConnectionFactory(config));
        } else {
            config.addCustomizer(new SecureRequestCustomizer(false)); // no SNI check: scraped by IP
            connector = new ServerConnector(server, 1, 1, new SslConnectionFactory(tls.contextFactory(),
                    HttpVersion.HTTP_1_1.asString()), new HttpConnectionFactory(config));
        }
        connector.setHost(address.host().isEmpty() ? null : address.host());
        connector.setPort(address.port());
        connector.setIdleTimeout(IDLE_MILLIS);
        connector.setAcceptQueueSize(BACKLOG);
        ConnectionDeadline deadline = new ConnectionDeadline(scheduler, DEADLINE_MILLIS);
        connector.addBean(deadline);
        server.addConnector(connector);
        ConnectionLimit limit = new ConnectionLimit(MAX_CONNECTIONS, connector);
        limit.setIdleTimeout(CROWDED_IDLE_MILLIS);
        server.addBean(limit);
        server.setHandler(routes);
        servers.add(server);
        deadlines.put(server, deadline);
        try {
            server.start();
        } catch (Exception ex) {
            throw new IOException("cannot listen on " + address + ": " + ex.getMessage(), ex);
        }
        return new InetSocketAddress(address.socketAddress().getAddress(), connector.getLocalPort());
    }

    /** The bound metrics address (its real port when 0 was asked), or null. */
    InetSocketAddress metricsAddress() {
        return metricsAddress;
    }

    /** The bound probe address, or null. */
    InetSocketAddress probeAddress() {
        return probeAddress;
    }

    /** The most connections that were open at once on the server of a bound port (tests). */
    int peakConnections(int port) {
        return deadline(port).peak();
    }

    /** Connections open now on the server of a bound port (tests). */
    int openConnections(int port) {
        return deadline(port).open();
    }

    private ConnectionDeadline deadline(int port) {
        for (Map.Entry<Server, ConnectionDeadline> e : deadlines.entrySet()) {
            if (((ServerConnector) e.getKey().getConnectors()[0]).getLocalPort() == port) {
                return e.getValue();
            }
        }
        throw new IllegalArgumentException("no endpoint server on port " + port + "; bound: " + metricsAddress
                + " (metrics), " + probeAddress + " (probes)");
    }

    /**
     * The metrics address over TLS and behind token checks.
     *
     * @param tls the certificate
     * @param auth who may read
     */
    record Secure(MetricsTls tls, EndpointAuth auth) {
    }

    /** An answer, built in full before it is written. */
    private record Answer(int code, String type, String body) {
    }

    private static Answer probe(BooleanSupplier check, String failure) {
        boolean ok;
        try {
            ok = check.getAsBoolean();
        } catch (RuntimeException e) {
            ok = false;
        }
        return new Answer(ok ? 200 : 503, TEXT, ok ? "ok\n" : failure + "\n");
    }

    private static Answer metrics(CollectorRegistry registry) {
        StringWriter w = new StringWriter();
        try {
            TextFormat.write004(w, registry.metricFamilySamples());
        } catch (IOException e) {
            throw new IllegalStateException("a StringWriter does not fail", e);
        }
        return new Answer(200, TextFormat.CONTENT_TYPE_004, w.toString());
    }

    private static Answer page(String type, Supplier<String> body) {
        try {
            return new Answer(200, type, body.get());
        } catch (RuntimeException e) {
            return new Answer(500, TEXT, "status not available: " + e + "\n");
        }
    }

    /** Exact paths to answers; any other path is 404, any method but GET and HEAD 405. */
    private static final class Routes extends Handler.Abstract {
        private final Map<String, Supplier<Answer>> byPath = new LinkedHashMap<>();
        /** Checks the token of every request to a route, or null: open. */
        private final EndpointAuth auth;

        Routes(EndpointAuth auth) {
            super(InvocationType.BLOCKING); // the status snapshot takes the allocator's lock; the reviews block
            this.auth = auth;
        }

        void add(String path, Supplier<Answer> answer) {
            byPath.put(path, answer);
        }

        @Override
        public boolean handle(Request request, Response response, Callback callback) {
            Supplier<Answer> route = byPath.get(Request.getPathInContext(request));
            Answer a;
            if (route == null) {
                a = new Answer(404, TEXT, "not found; this address serves " + String.join(" ", byPath.keySet())
                        + "\n");
            } else if (!request.getMethod().equals("GET") && !request.getMethod().equals("HEAD")) {
                response.getHeaders().put(HttpHeader.ALLOW, "GET, HEAD");
                a = new Answer(405, TEXT, "only GET\n");
            } else if (auth != null) {
                EndpointAuth.Decision d = auth.check(request.getHeaders().get(HttpHeader.AUTHORIZATION),
                        Request.getPathInContext(request));
                if (d.allowed()) {
                    a = route.get();
                } else {
                    if (d.code() == 401) {
                        response.getHeaders().put(HttpHeader.WWW_AUTHENTICATE, "Bearer");
                    }
                    a = new Answer(d.code(), TEXT, d.reason() + "\n");
                }
            } else {
                a = route.get();
            }
            response.setStatus(a.code());
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, a.type());
            response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store"); // every answer is a live value
            Content.Sink.write(response, true, a.body(), callback);
            return true;
        }
    }

    @Override
    public void close() {
        for (Server s : servers) {
            try {
                s.stop();
            } catch (Exception e) {
                // stopping: nothing more to do with a server that fails to stop
            }
        }
    }
}
