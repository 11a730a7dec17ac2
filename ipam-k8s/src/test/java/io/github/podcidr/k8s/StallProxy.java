package io.github.podcidr.k8s;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A loopback TCP proxy that can delay the bytes clients send by a set time, each chunk delivered that long after it
 * arrived and in order, so that the spacing between a request and what follows it (a cancel, a ping) is kept. The
 * bytes coming back are never delayed. Put between kube-apiserver and etcd, it makes that server's storage path slow
 * the way a slow or distant etcd link does: transactions reach etcd late, while watch events still arrive. No FIN and
 * no RST is sent because of the delay.
 */
final class StallProxy implements AutoCloseable {
    private final ServerSocket server;
    private final InetSocketAddress target;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private volatile long delayNanos;
    private volatile boolean closed;

    /**
     * Starts forwarding new connections on a free loopback port to {@code host:port}, without delay.
     *
     * @param host the target's host
     * @param port the target's port
     * @throws IOException if no port can be bound
     */
    StallProxy(String host, int port) throws IOException {
        target = new InetSocketAddress(host, port);
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread accept = new Thread(this::accept, "stall-proxy-accept");
        accept.setDaemon(true);
        accept.start();
    }

    /** The proxy's URL for an HTTP client (etcd's {@code --etcd-servers} form). */
    String url() {
        return "http://127.0.0.1:" + server.getLocalPort();
    }

    /**
     * From now on, each chunk a client sends is delivered {@code delay} after it arrived (and after every chunk
     * before it on its connection); zero delivers what arrives at once.
     *
     * @param delay the delay
     */
    void delay(Duration delay) {
        delayNanos = delay.toNanos();
    }

    private void accept() {
        while (!closed) {
            try {
                Socket client = server.accept();
                Socket upstream = new Socket();
                upstream.connect(target, 5_000);
                client.setTcpNoDelay(true);
                upstream.setTcpNoDelay(true);
                sockets.add(client);
                sockets.add(upstream);
                delayed(client, upstream);
                direct(upstream, client);
            } catch (IOException e) {
                if (closed) {
                    return;
                }
            }
        }
    }

    private record Chunk(long due, byte[] bytes) {
    }

    /** Client to target: a reader that stamps each chunk, a writer that sends it when due. */
    private void delayed(Socket from, Socket to) {
        ArrayDeque<Chunk> queue = new ArrayDeque<>();
        Thread reader = new Thread(() -> {
            byte[] buf = new byte[16 * 1024];
            try (InputStream in = from.getInputStream()) {
                int n;
                while ((n = in.read(buf)) >= 0) {
                    synchronized (queue) {
                        queue.addLast(new Chunk(System.nanoTime() + delayNanos, Arrays.copyOf(buf, n)));
                        queue.notifyAll();
                    }
                }
            } catch (IOException e) {
                // closed
            } finally {
                synchronized (queue) {
                    queue.addLast(new Chunk(System.nanoTime() + delayNanos, null)); // the end, in its turn
                    queue.notifyAll();
                }
            }
        }, "stall-proxy-read");
        Thread writer = new Thread(() -> {
            try (OutputStream out = to.getOutputStream()) {
                while (true) {
                    Chunk c;
                    synchronized (queue) {
                        while (queue.isEmpty()) {
                            queue.wait();
                        }
                        c = queue.peekFirst();
                        long wait = c.due() - System.nanoTime();
                        if (wait > 0) {
                            queue.wait(Math.max(1, wait / 1_000_000));
                            continue;
                        }
                        queue.removeFirst();
                    }
                    if (c.bytes() == null) {
                        return;
                    }
                    out.write(c.bytes());
                    out.flush();
                }
            } catch (IOException | InterruptedException e) {
                // closed
            } finally {
                closeQuietly(from);
                closeQuietly(to);
            }
        }, "stall-proxy-write");
        reader.setDaemon(true);
        writer.setDaemon(true);
        reader.start();
        writer.start();
    }

    private static void direct(Socket from, Socket to) {
        Thread t = new Thread(() -> {
            byte[] buf = new byte[16 * 1024];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                int n;
                while ((n = in.read(buf)) >= 0) {
                    out.write(buf, 0, n);
                    out.flush();
                }
            } catch (IOException e) {
                // one side closed
            } finally {
                closeQuietly(from);
                closeQuietly(to);
            }
        }, "stall-proxy-back");
        t.setDaemon(true);
        t.start();
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // already closed
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException ignored) {
            // already closed
        }
        sockets.forEach(StallProxy::closeQuietly);
    }
}
