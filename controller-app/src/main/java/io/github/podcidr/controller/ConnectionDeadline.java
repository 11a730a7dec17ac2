package io.github.podcidr.controller;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.util.thread.Scheduler;

/**
 * Closes every connection of a connector a fixed time after it opened, whatever it is doing, and counts the open
 * ones. The connector's idle timeout closes a client that stops sending; this closes one that keeps sending a byte
 * now and then and never finishes its request (a dribbled request line or header), which an idle timeout never
 * catches. The endpoints answer one request per connection, so the deadline bounds the whole exchange.
 */
final class ConnectionDeadline implements Connection.Listener {
    private final Scheduler scheduler;
    private final long millis;
    /** The close scheduled for each open connection; its size is the number of open connections. */
    private final Map<Connection, Scheduler.Task> open = new ConcurrentHashMap<>();
    private final AtomicInteger peak = new AtomicInteger();

    ConnectionDeadline(Scheduler scheduler, long millis) {
        this.scheduler = scheduler;
        this.millis = millis;
    }

    @Override
    public void onOpened(Connection connection) {
        Scheduler.Task close = scheduler.schedule(() -> connection.getEndPoint().close(new TimeoutException(
                "connection older than " + millis + " ms")), millis, TimeUnit.MILLISECONDS);
        open.put(connection, close);
        peak.accumulateAndGet(open.size(), Math::max);
    }

    @Override
    public void onClosed(Connection connection) {
        Scheduler.Task close = open.remove(connection);
        if (close != null) {
            close.cancel();
        }
    }

    /** Connections open now. */
    int open() {
        return open.size();
    }

    /** The most connections that were open at once. */
    int peak() {
        return peak.get();
    }
}
