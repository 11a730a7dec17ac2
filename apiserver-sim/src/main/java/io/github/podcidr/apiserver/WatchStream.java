package io.github.podcidr.apiserver;

import com.sun.net.httpserver.HttpExchange;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Serves a watch: {@code 200}, chunked, one JSON event per line ({@code {"type":..,"object":..}}), as
 * https://kubernetes.io/docs/reference/using-api/api-concepts/#efficient-detection-of-changes describes.
 *
 * <ul>
 *   <li>Without resourceVersion (or with "0") the current objects come first as ADDED events; from a given version
 *       the retained changes after it are replayed; a version older than the retained window answers {@code 200}
 *       with a single ERROR event carrying a 410 Expired Status, as the watch cache does.
 *   <li>{@code allowWatchBookmarks=true}: a BOOKMARK (an empty object of the kind with only
 *       metadata.resourceVersion, the resource's last change) every bookmark interval if the resource changed since
 *       the watch started, and whenever the test asks; never otherwise.
 *   <li>{@code timeoutSeconds} ends the stream cleanly; without it the stream lasts the default watch timeout.
 *   <li>Each event is flushed as its own chunk when no other event is waiting.
 * </ul>
 */
final class WatchStream {
  private static final byte[] NEWLINE = {'\n'};

  private final Store store;
  private final Faults faults;
  private final CountDownLatch stopped;
  private final SimSettings settings;

  WatchStream(Store store, Faults faults, CountDownLatch stopped, SimSettings settings) {
    this.store = store;
    this.faults = faults;
    this.stopped = stopped;
    this.settings = settings;
  }

  void serve(HttpExchange ex, ApiPath t, String ns, Map<String, String> q) throws IOException, InterruptedException {
    if (t.name() != null) {
      throw StatusException.methodNotAllowed();
    }
    Selector sel = Selector.parse(t.type(), q.get("labelSelector"), q.get("fieldSelector"));
    String rv = q.get("resourceVersion");
    ListPager.validateListOptions(rv, q.get("resourceVersionMatch"), q.get("continue"), true);
    Long from = rv == null || rv.isEmpty() || rv.equals("0") ? null : ListPager.parseVersion(rv);
    boolean bookmarks = "true".equals(q.get("allowWatchBookmarks"));
    long timeoutSeconds = settings.defaultWatchTimeout.toSeconds();
    if (q.get("timeoutSeconds") != null) {
      try {
        timeoutSeconds = Long.parseLong(q.get("timeoutSeconds"));
      } catch (NumberFormatException e) {
        throw StatusException.badRequest("strconv.ParseInt: parsing \"" + q.get("timeoutSeconds")
            + "\": invalid syntax");
      }
    }
    Watcher w = new Watcher(t.type(), ns, sel);
    if (faults.dropWatchesAfter() >= 0) {
      w.dropAfter(faults.dropWatchesAfter());
    }
    if (faults.takeExpireWatch()) {
      w.fail(StatusException.tooOldResourceVersion(from == null ? 0 : from, store.resourceVersion()));
    } else {
      store.watch(w, from);
    }
    ex.getResponseHeaders().set("Content-Type", "application/json");
    ex.sendResponseHeaders(200, 0);
    OutputStream out = new BufferedOutputStream(ex.getResponseBody(), 1 << 16);
    try {
      stream(w, t.type(), out, bookmarks, TimeUnit.SECONDS.toNanos(timeoutSeconds));
    } finally {
      store.unwatch(w);
      try {
        out.close();
      } catch (IOException ignored) {
        // the client is gone
      }
      ex.close();
    }
  }

  private void stream(Watcher w, ResourceType type, OutputStream out, boolean bookmarks, long timeoutNanos)
      throws IOException, InterruptedException {
    long deadline = System.nanoTime() + timeoutNanos;
    long bookmarkEvery = settings.bookmarkInterval.toNanos();
    long nextBookmark = System.nanoTime() + bookmarkEvery;
    while (stopped.getCount() > 0) {
      Object item = w.pollNow();
      if (item == null) {
        out.flush();
        long now = System.nanoTime();
        if (now >= deadline) {
          break;
        }
        if (bookmarks && now >= nextBookmark) {
          // The watch cache sends a periodic bookmark at the last change it processed for the resource, and only
          // when that is newer than where the watch started (an idle watch gets none).
          store.atomically(() -> {
            long last = store.lastChange(type);
            if (last > w.startVersion) {
              w.bookmark(last);
            }
            return null;
          });
          nextBookmark = now + bookmarkEvery;
        }
        long wait = Math.min(deadline - now, Math.max(0, nextBookmark - now));
        item = w.poll(Math.max(1, Math.min(TimeUnit.NANOSECONDS.toMillis(wait), 250)));
        if (item == null) {
          continue;
        }
      }
      if (item instanceof WatchEvent e) {
        writeEvent(out, e.type(), HttpApi.withKind(e.object()));
        if (w.spendEvent()) {
          break;
        }
      } else if (item instanceof Watcher.Bookmark b) {
        if (bookmarks) {
          writeEvent(out, "BOOKMARK", bookmarkObject(type, b.resourceVersion()));
        }
      } else if (item instanceof Watcher.Failure f) {
        writeEvent(out, "ERROR", Json.bytes(f.status().toStatus()));
        break;
      } else {
        break; // Close
      }
    }
    out.flush();
  }

  private static void writeEvent(OutputStream out, String type, byte[] object) throws IOException {
    out.write(("{\"type\":\"" + type + "\",\"object\":").getBytes(StandardCharsets.UTF_8));
    out.write(object);
    out.write('}');
    out.write(NEWLINE);
  }

  /**
   * A bookmark carries an empty object of the watched kind with only metadata.resourceVersion set, encoded as the
   * Go type encodes an empty object (for a Node: an empty spec, the zero daemonEndpoints and nodeInfo).
   */
  private static byte[] bookmarkObject(ResourceType type, long rv) {
    if (type == ResourceType.NODES) {
      return Json.bytes(NodeSchema.empty(rv));
    }
    return ("{\"kind\":\"" + type.kind() + "\",\"apiVersion\":\"" + type.apiVersion()
        + "\",\"metadata\":{\"resourceVersion\":\"" + rv + "\",\"creationTimestamp\":null}}")
        .getBytes(StandardCharsets.UTF_8);
  }
}
