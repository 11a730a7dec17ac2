package io.github.podcidr.apiserver;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * The storage layer: objects per resource ordered by key, one global monotonically increasing resourceVersion (as
 * etcd's revision), a bounded history of changes per resource (as the watch cache keeps), and the watchers.
 *
 * <p>All mutations and the registration of watchers happen under one lock, so a watcher sees every change after
 * its starting point exactly once and in resourceVersion order. Objects are immutable {@link StoredObject}s, so
 * readers take references and serialise outside the lock.
 */
final class Store {
  private final Map<ResourceType, NavigableMap<String, StoredObject>> objects = new EnumMap<>(ResourceType.class);
  private final Map<ResourceType, ArrayDeque<WatchEvent>> history = new EnumMap<>(ResourceType.class);
  /** Per resource: the highest resourceVersion whose event was dropped from the history (0: nothing dropped). */
  private final Map<ResourceType, Long> compactedThrough = new EnumMap<>(ResourceType.class);
  private final List<Watcher> watchers = new CopyOnWriteArrayList<>();
  private final Map<String, String> interned = new ConcurrentHashMap<>();
  private final int historyCapacity;
  private final ObjectCodec codec;
  private long resourceVersion;

  Store(int historyCapacity, ObjectCodec codec) {
    this.historyCapacity = historyCapacity;
    this.codec = codec;
    for (ResourceType t : ResourceType.values()) {
      objects.put(t, new TreeMap<>());
      history.put(t, new ArrayDeque<>());
      compactedThrough.put(t, 0L);
    }
  }

  /** Interns label keys and values: 130,000 nodes share a few hundred distinct strings. */
  String intern(String s) {
    String prior = interned.putIfAbsent(s, s);
    return prior == null ? s : prior;
  }

  ObjectCodec codec() {
    return codec;
  }

  synchronized long resourceVersion() {
    return resourceVersion;
  }

  /** Reserves the next resourceVersion; the caller must store an object with it before releasing the lock. */
  synchronized long nextResourceVersion() {
    return ++resourceVersion;
  }

  synchronized StoredObject get(ResourceType type, String namespace, String name) {
    return objects.get(type).get(StoredObject.key(namespace, name));
  }

  /** A consistent snapshot: the matching objects in key order and the resourceVersion they were read at. */
  synchronized Snapshot list(ResourceType type, String namespace, Selector selector) {
    NavigableMap<String, StoredObject> map = objects.get(type);
    List<StoredObject> items = new ArrayList<>();
    Iterable<StoredObject> source = namespace.isEmpty() || !type.namespaced()
        ? map.values()
        : map.subMap(namespace + "/", true, namespace + "0", false).values(); // '0' follows '/'
    for (StoredObject o : source) {
      if (selector.test(o)) {
        items.add(o);
      }
    }
    return new Snapshot(items, resourceVersion);
  }

  /**
   * The matching objects as they were at {@code version}, rebuilt from the current state by undoing the retained
   * changes made after it (etcd serves a read at a past revision the same way from its MVCC history); null when
   * the history no longer reaches back to {@code version}.
   */
  synchronized Snapshot listAt(ResourceType type, String namespace, Selector selector, long version) {
    if (version >= resourceVersion) {
      return list(type, namespace, selector);
    }
    if (version < compactedThrough.get(type)) {
      return null;
    }
    NavigableMap<String, StoredObject> past = new TreeMap<>(objects.get(type));
    java.util.Iterator<WatchEvent> newestFirst = history.get(type).descendingIterator();
    while (newestFirst.hasNext()) {
      WatchEvent e = newestFirst.next();
      if (e.resourceVersion() <= version) {
        break;
      }
      if (e.previous() == null) {
        past.remove(e.object().key());
      } else {
        past.put(e.previous().key(), e.previous());
      }
    }
    List<StoredObject> items = new ArrayList<>();
    for (StoredObject o : past.values()) {
      boolean inNamespace = namespace.isEmpty() || !type.namespaced() || o.namespace.equals(namespace);
      if (inNamespace && selector.test(o)) {
        items.add(o);
      }
    }
    return new Snapshot(items, version);
  }

  /** The resourceVersion of the last change to a resource type (0 before any). */
  synchronized long lastChange(ResourceType type) {
    WatchEvent last = history.get(type).peekLast();
    return Math.max(compactedThrough.get(type), last == null ? 0 : last.resourceVersion());
  }

  synchronized int count(ResourceType type) {
    return objects.get(type).size();
  }

  /** Runs {@code action} under the store lock: reads and the writes it makes are atomic together. */
  synchronized <T> T atomically(java.util.function.Supplier<T> action) {
    return action.get();
  }

  /** Stores a new version (must hold the lock via {@link #atomically}); records and fans out the event. */
  synchronized void put(StoredObject object) {
    StoredObject previous = objects.get(object.type).put(object.key(), object);
    record(new WatchEvent(previous == null ? "ADDED" : "MODIFIED", object, previous));
  }

  /** Removes an object; {@code lastState} carries the deletion's resourceVersion. */
  synchronized void remove(StoredObject lastState) {
    StoredObject previous = objects.get(lastState.type).remove(lastState.key());
    record(new WatchEvent("DELETED", lastState, previous));
  }

  private void record(WatchEvent event) {
    ArrayDeque<WatchEvent> h = history.get(event.object().type);
    h.addLast(event);
    while (h.size() > historyCapacity) {
      WatchEvent dropped = h.removeFirst();
      compactedThrough.put(event.object().type, dropped.resourceVersion());
    }
    for (Watcher w : watchers) {
      if (w.type == event.object().type) {
        w.offer(event);
      }
    }
  }

  /** Forgets the whole change history: any watch from a resourceVersion before now gets 410 Gone. */
  synchronized void compactHistory() {
    for (ResourceType t : ResourceType.values()) {
      history.get(t).clear();
      compactedThrough.put(t, resourceVersion);
    }
  }

  /**
   * Registers a watcher. With {@code fromVersion} null it first receives a synthetic ADDED for every current
   * matching object (watch without resourceVersion, or "0"); otherwise it receives the retained changes after that
   * version, or a 410 if they are no longer all retained.
   */
  synchronized void watch(Watcher watcher, Long fromVersion) {
    watcher.startVersion = fromVersion == null ? lastChange(watcher.type) : fromVersion;
    if (fromVersion == null) {
      for (StoredObject o : list(watcher.type, watcher.namespace, Selector.EVERYTHING).items()) {
        watcher.offer(new WatchEvent("ADDED", o, null));
      }
    } else {
      long compacted = compactedThrough.get(watcher.type);
      if (fromVersion < compacted) {
        watcher.fail(StatusException.tooOldResourceVersion(fromVersion, compacted + 1));
        return;
      }
      for (WatchEvent e : history.get(watcher.type)) {
        if (e.resourceVersion() > fromVersion) {
          watcher.offer(e);
        }
      }
    }
    watchers.add(watcher);
  }

  void unwatch(Watcher watcher) {
    watchers.remove(watcher);
  }

  void forEachWatcher(Consumer<Watcher> action) {
    watchers.forEach(action);
  }

  int watcherCount() {
    return watchers.size();
  }

  /** Objects of a list, in key order, read at {@code resourceVersion}. */
  record Snapshot(List<StoredObject> items, long resourceVersion) {}
}
