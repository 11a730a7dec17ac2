package io.github.podcidr.apiserver;

import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One open watch: its filter and a queue of what to send, drained by the HTTP thread serving it.
 *
 * <p>Filtering follows the watch cache ({@code staging/src/k8s.io/apiserver/pkg/storage/cacher/cache_watcher.go},
 * {@code convertToWatchEvent}): a MODIFIED whose old state matched the selector and whose new state does not is sent
 * as DELETED, the reverse as ADDED. As in the real cache, the DELETED sent then carries the object's previous state
 * (the last one the watcher's selector matched), with that state's resourceVersion.
 */
final class Watcher {
  /** A queue entry that is not a change. */
  sealed interface Signal permits Bookmark, Failure, Close {}

  /** Send a BOOKMARK: every change up to {@code resourceVersion} has been queued before it. */
  record Bookmark(long resourceVersion) implements Signal {}

  /** Send an ERROR event with this status, then close. */
  record Failure(StatusException status) implements Signal {}

  /** End the stream cleanly. */
  record Close() implements Signal {}

  final ResourceType type;
  /** Namespace to watch, or "" for all. */
  final String namespace;
  final Selector selector;
  /** The resourceVersion the watch started from (set under the store lock when it is registered). */
  volatile long startVersion;
  private final LinkedBlockingQueue<Object> queue = new LinkedBlockingQueue<>();
  /** Events still to send before the stream is dropped (fault injection), or -1 for no limit. */
  private final AtomicInteger eventBudget = new AtomicInteger(-1);

  Watcher(ResourceType type, String namespace, Selector selector) {
    this.type = type;
    this.namespace = namespace;
    this.selector = selector;
  }

  /** Called under the store lock, in resourceVersion order. */
  void offer(WatchEvent event) {
    StoredObject cur = event.object();
    boolean inNamespace = namespace.isEmpty() || namespace.equals(cur.namespace);
    if (!inNamespace) {
      return;
    }
    boolean curMatches = selector.test(cur);
    boolean prevMatches = event.previous() != null && selector.test(event.previous());
    String sendAs;
    switch (event.type()) {
      case "ADDED":
        sendAs = curMatches ? "ADDED" : null;
        break;
      case "MODIFIED":
        sendAs = curMatches ? (prevMatches ? "MODIFIED" : "ADDED") : (prevMatches ? "DELETED" : null);
        break;
      default:
        sendAs = curMatches || prevMatches ? "DELETED" : null;
        break;
    }
    if (sendAs != null) {
      StoredObject sent = sendAs.equals("DELETED") && !curMatches ? event.previous() : cur;
      queue.add(sendAs.equals(event.type()) && sent == cur ? event : new WatchEvent(sendAs, sent, event.previous()));
    }
  }

  void fail(StatusException status) {
    queue.add(new Failure(status));
  }

  /** Must be called under the store lock with the store's current resourceVersion. */
  void bookmark(long currentVersion) {
    queue.add(new Bookmark(currentVersion));
  }

  void close() {
    queue.add(new Close());
  }

  /** After {@code n} more events the stream ends (fault injection: a dropped watch). */
  void dropAfter(int n) {
    eventBudget.set(n);
  }

  /** Called by the sender after each event; true when the stream must now end. */
  boolean spendEvent() {
    int left = eventBudget.get();
    if (left < 0) {
      return false;
    }
    return eventBudget.decrementAndGet() <= 0;
  }

  boolean budgetExhausted() {
    return eventBudget.get() == 0;
  }

  Object poll(long millis) throws InterruptedException {
    return queue.poll(millis, TimeUnit.MILLISECONDS);
  }

  Object pollNow() {
    return queue.poll();
  }
}
