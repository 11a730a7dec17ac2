package io.github.podcidr.controller;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A loopback TCP proxy that can make every connection open now vanish the way a dead peer behind a load balancer
 * does: {@link #blackHoleEstablished()} stops forwarding on them in both directions, with no FIN and no RST (both
 * sockets stay open, what arrives is read and dropped), while connections opened afterwards pass normally.
 *
 * <pre>{@code
 * try (BlackHoleProxy proxy = BlackHoleProxy.start(apiServerPort)) {
 *     // point the client at proxy.port() ...
 *     proxy.blackHoleEstablished();
 * }
 * }</pre>
 */
final class BlackHoleProxy implements AutoCloseable {
    private final ServerSocket listener;
    private final int target;
    private final List<Pair> pairs = new CopyOnWriteArrayList<>();
    private final AtomicInteger accepted = new AtomicInteger();
    private volatile boolean closed;

    /** Both ends of one proxied connection; once black-holed, it forwards nothing again. */
    private static final class Pair {
        final Socket client;
        final Socket server;
        volatile boolean blackHoled;

        Pair(Socket client, Socket server) {
            this.client = client;
            this.server = server;
        }
    }

    private BlackHoleProxy(ServerSocket listener, int target) {
        this.listener = listener;
        this.target = target;
    }

    /**
     * Listens on an ephemeral loopback port and forwards each connection to a loopback port.
     *
     * @param targetPort where to forward
     * @return the running proxy
     * @throws IOException if it cannot listen
     */
    static BlackHoleProxy start(int targetPort) throws IOException {
        ServerSocket s = new ServerSocket(0, 128, InetAddress.getLoopbackAddress());
        BlackHoleProxy p = new BlackHoleProxy(s, targetPort);
        Thread t = new Thread(p::acceptLoop, "black-hole-proxy-accept");
        t.setDaemon(true);
        t.start();
        return p;
    }

    /** The port clients connect to. */
    int port() {
        return listener.getLocalPort();
    }

    /** Connections accepted so far. */
    int accepted() {
        return accepted.get();
    }

    /**
     * Stops forwarding on every connection open now, both ways, without closing anything; later connections pass.
     *
     * @return how many connections were black-holed
     */
    int blackHoleEstablished() {
        int n = 0;
        for (Pair p : pairs) {
            if (!p.blackHoled) {
                p.blackHoled = true;
                n++;
            }
        }
        return n;
    }

    private void acceptLoop() {
        while (!closed) {
            Socket client;
            try {
                client = listener.accept();
            } catch (IOException e) {
                return; // closed
            }
            try {
                Socket server = new Socket(InetAddress.getLoopbackAddress(), target);
                Pair p = new Pair(client, server);
                pairs.add(p);
                accepted.incrementAndGet();
                pump(p, client, server, "up");
                pump(p, server, client, "down");
            } catch (IOException e) {
                closeQuietly(client);
            }
        }
    }

    private void pump(Pair p, Socket from, Socket to, String direction) {
        Thread t = new Thread(() -> {
            byte[] buf = new byte[16 * 1024];
            try {
                InputStream in = from.getInputStream();
                OutputStream out = to.getOutputStream();
                int n;
                while ((n = in.read(buf)) != -1) {
                    if (!p.blackHoled) {
                        out.write(buf, 0, n);
                        out.flush();
                    }
                }
                if (!p.blackHoled) {
                    to.shutdownOutput(); // pass the FIN on
                }
            } catch (IOException e) {
                if (!p.blackHoled) {
                    closeQuietly(from);
                    closeQuietly(to);
                }
            }
        }, "black-hole-proxy-" + direction + "-" + ((InetSocketAddress) p.client.getRemoteSocketAddress()).getPort());
        t.setDaemon(true);
        t.start();
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            // already closed
        }
    }

    @Override
    public void close() {
        closed = true;
        closeQuietly(listener);
        for (Pair p : pairs) {
            closeQuietly(p.client);
            closeQuietly(p.server);
        }
    }

    private static void closeQuietly(ServerSocket s) {
        try {
            s.close();
        } catch (IOException e) {
            // already closed
        }
    }
}
