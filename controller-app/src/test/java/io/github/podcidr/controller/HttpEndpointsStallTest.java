package io.github.podcidr.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.podcidr.apiserver.ApiServerSim;
import io.github.podcidr.apiserver.NodeGenerator;
import io.prometheus.client.CollectorRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Clients that stall mid-request (half a request line, then nothing), as a stuck scraper or a port scan does: the
 * probes and /metrics still answer at once, the stalled connections are closed by the server, and a thousand of them
 * hold at most {@link HttpEndpoints#MAX_CONNECTIONS} connections per address.
 */
class HttpEndpointsStallTest {
    /** What a stalled client sends: half a request line, no line end. */
    private static final byte[] HALF_REQUEST = "GET /heal".getBytes(StandardCharsets.US_ASCII);
    static final int ANSWER_WITHIN_MILLIS = 2_000;

    @TempDir
    Path dir;

    @Test
    void sixteenStalledConnectionsPerPortStopNeitherProbesNorMetrics() throws Exception {
        try (ApiServerSim sim = ApiServerSim.start()) {
            NodeGenerator gen = new NodeGenerator(3);
            for (int i = 0; i < 5; i++) {
                sim.createNode(gen.node(i, false));
            }
            ControllerFlags.Result r = ControllerFlags.parse(new String[] {
                "--kubeconfig=" + sim.writeKubeconfig(dir.resolve("kubeconfig")), "--cluster-cidr=10.244.0.0/16",
                "--metrics-bind-address=127.0.0.1:0", "--health-probe-bind-address=127.0.0.1:0",
                "--leader-elect-lease-duration=6s", "--leader-elect-renew-deadline=4s",
                "--leader-elect-retry-period=1s"}, Map.of("POD_NAME", "replica-a"));
            assertTrue(r.ok(), () -> r.errors().toString());
            try (ControllerApp app = ControllerApp.start(r.flags(), KubeClients.of(r.flags().kubeconfig(), 50, 100,
                    false), new CollectorRegistry(), () -> { })) {
                long until = System.nanoTime() + 30_000_000_000L;
                while (!app.runner().isReady() && System.nanoTime() < until) {
                    Thread.sleep(50);
                }
                assertTrue(app.runner().isReady(), "the controller became ready");
                List<Socket> stalled = new ArrayList<>();
                try {
                    for (int i = 0; i < 16; i++) {
                        stalled.add(stall(app.probeAddress()));
                        stalled.add(stall(app.metricsAddress()));
                    }
                    Thread.sleep(200); // the server has read the half lines
                    for (String[] probe : new String[][] {{"probes", "/healthz"}, {"probes", "/readyz"},
                            {"metrics", "/metrics"}}) {
                        InetSocketAddress a = probe[0].equals("probes") ? app.probeAddress() : app.metricsAddress();
                        long t0 = System.nanoTime();
                        String answer = rawGet(a, probe[1]);
                        long millis = (System.nanoTime() - t0) / 1_000_000;
                        System.out.printf("HttpEndpointsStallTest: %s answered in %d ms beside 16 stalled"
                                + " connections per port%n", probe[1], millis);
                        // /readyz may say 503 for a moment on a loaded machine (a term restarting); what is
                        // tested is that it answers at all beside the stalled connections
                        assertTrue(answer.startsWith("HTTP/1.1 200 ") || probe[1].equals("/readyz")
                                && answer.startsWith("HTTP/1.1 503 "), probe[1] + " answered " + answer);
                        assertTrue(millis < ANSWER_WITHIN_MILLIS, probe[1] + " took " + millis + " ms");
                    }
                    // the server closes each stalled connection after its idle timeout
                    for (Socket s : stalled) {
                        s.setSoTimeout((int) HttpEndpoints.DEADLINE_MILLIS + 5_000);
                        long t0 = System.nanoTime();
                        assertEquals(-1, s.getInputStream().read(), "closed without an answer");
                        assertTrue(System.nanoTime() - t0 < (HttpEndpoints.DEADLINE_MILLIS + 2_000) * 1_000_000);
                    }
                } finally {
                    for (Socket s : stalled) {
                        s.close();
                    }
                }
            }
        }
    }

    @Test
    void aThousandSlowClientsHoldAtMostTheConnectionCap() throws Exception {
        CollectorRegistry registry = new CollectorRegistry();
        BindAddress any = new BindAddress("127.0.0.1", 0);
        try (HttpEndpoints endpoints = HttpEndpoints.start(any, any, registry, () -> true, () -> true, null)) {
            InetSocketAddress address = endpoints.probeAddress();
            long heapBefore = usedHeapAfterGc();
            int closedByServer = 0;
            List<SocketChannel> clients = new ArrayList<>();
            try (Selector selector = Selector.open()) {
                for (int i = 0; i < 1_000; i++) {
                    SocketChannel c = SocketChannel.open();
                    c.configureBlocking(false);
                    c.connect(address);
                    c.register(selector, SelectionKey.OP_CONNECT);
                    clients.add(c);
                }
                // each client sends half a request line as soon as it is connected, then reads only to see the close
                ByteBuffer sink = ByteBuffer.allocate(4096);
                long until = System.nanoTime() + (HttpEndpoints.DEADLINE_MILLIS + 3_000) * 1_000_000;
                while (System.nanoTime() < until) {
                    selector.select(100);
                    for (SelectionKey k : selector.selectedKeys()) {
                        SocketChannel c = (SocketChannel) k.channel();
                        try {
                            if (k.isConnectable() && c.finishConnect()) {
                                c.write(ByteBuffer.wrap(HALF_REQUEST));
                                k.interestOps(SelectionKey.OP_READ);
                            } else if (k.isReadable()) {
                                sink.clear();
                                if (c.read(sink) == -1) {
                                    closedByServer++;
                                    k.cancel();
                                }
                            }
                        } catch (IOException e) {
                            closedByServer++; // reset by the server
                            k.cancel();
                        }
                    }
                    selector.selectedKeys().clear();
                    assertTrue(endpoints.openConnections(address.getPort()) <= HttpEndpoints.MAX_CONNECTIONS);
                }
                long heapDuring = usedHeapAfterGc();
                int peak = endpoints.peakConnections(address.getPort());
                System.out.printf("HttpEndpointsStallTest: 1000 slow clients: at most %d connections open at once"
                        + " (cap %d), %d closed by the server in %d s, heap %+d KiB%n", peak,
                        HttpEndpoints.MAX_CONNECTIONS, closedByServer, (HttpEndpoints.DEADLINE_MILLIS + 3_000) / 1000,
                        (heapDuring - heapBefore) / 1024);
                assertTrue(peak <= HttpEndpoints.MAX_CONNECTIONS, "peak " + peak);
                assertTrue(peak >= HttpEndpoints.MAX_CONNECTIONS / 2, "the clients did reach the server: " + peak);
                assertTrue(closedByServer >= HttpEndpoints.MAX_CONNECTIONS, "the server closed stalled connections"
                        + " to take new ones: " + closedByServer);
                assertTrue(heapDuring - heapBefore < 32L << 20, "heap grew by " + (heapDuring - heapBefore));
            } finally {
                for (SocketChannel c : clients) {
                    c.close();
                }
            }
            // once they are gone, a probe answers at once
            long until = System.nanoTime() + (HttpEndpoints.DEADLINE_MILLIS + 3_000) * 1_000_000;
            while (endpoints.openConnections(address.getPort()) > 0 && System.nanoTime() < until) {
                Thread.sleep(50);
            }
            long t0 = System.nanoTime();
            assertTrue(rawGet(address, "/healthz").startsWith("HTTP/1.1 200 "));
            assertTrue(System.nanoTime() - t0 < ANSWER_WITHIN_MILLIS * 1_000_000L);
        }
    }

    @Test
    void oversizedHeadsWrongMethodsAndUnknownPathsGetShortAnswers() throws Exception {
        BindAddress any = new BindAddress("127.0.0.1", 0);
        try (HttpEndpoints endpoints = HttpEndpoints.start(any, any, new CollectorRegistry(), () -> true,
                () -> false, null)) {
            InetSocketAddress a = endpoints.probeAddress();
            assertTrue(rawGet(a, "/readyz").startsWith("HTTP/1.1 503 "));
            assertTrue(raw(a, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + "a".repeat(HttpEndpoints.MAX_HEAD_BYTES)
                    + "\r\n\r\n").startsWith("HTTP/1.1 431 "));
            assertTrue(raw(a, "POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n\r\nabc")
                    .startsWith("HTTP/1.1 405 "));
            assertTrue(rawGet(a, "/nothing").startsWith("HTTP/1.1 404 "));
            String head = raw(a, "HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
            assertTrue(head.startsWith("HTTP/1.1 200 ") && head.endsWith("\r\n\r\n"), head);
        }
    }

    static Socket stall(InetSocketAddress address) throws IOException {
        Socket s = new Socket(address.getAddress(), address.getPort());
        s.getOutputStream().write(HALF_REQUEST);
        s.getOutputStream().flush();
        return s;
    }

    private static String rawGet(InetSocketAddress address, String path) throws IOException {
        return raw(address, "GET " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n");
    }

    /** Sends a request on a new connection and reads the answer to its end, within the 2 s allowed. */
    private static String raw(InetSocketAddress address, String request) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(address, ANSWER_WITHIN_MILLIS);
            s.setSoTimeout(ANSWER_WITHIN_MILLIS);
            s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            s.getOutputStream().flush();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            InputStream in = s.getInputStream();
            try {
                in.transferTo(out);
            } catch (SocketTimeoutException e) {
                return "no answer within " + ANSWER_WITHIN_MILLIS + " ms; got: " + out.toString(
                        StandardCharsets.ISO_8859_1);
            }
            return out.toString(StandardCharsets.ISO_8859_1);
        }
    }

    private static long usedHeapAfterGc() {
        System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }
}
