package io.github.podcidr.apiserver;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * List with {@code resourceVersion}, {@code resourceVersionMatch}, {@code limit} and {@code continue}, following
 * https://kubernetes.io/docs/reference/using-api/api-concepts/#retrieving-large-results-sets-in-chunks and
 * #resource-versions.
 *
 * <p>Every page of a chunked list is read from the same snapshot, as etcd serves later pages at the first page's
 * revision. Snapshots are references to immutable stored objects, kept for {@code continueTtl} (etcd's compaction
 * interval, 5 minutes by default in kube-apiserver) and at most {@value #MAX_SNAPSHOTS} at once; a token whose
 * snapshot is gone answers 410 Expired, unless nothing has been written since, in which case the current state
 * is that snapshot. The token, like the real one, is base64 of {@code {"v":"meta.k8s.io/v1","rv":..,"start":..}}
 * (plus a snapshot id).
 */
final class ListPager {
  static final int MAX_SNAPSHOTS = 32;

  private final Store store;
  private final Clock clock;
  private volatile Duration continueTtl;
  private final AtomicLong ids = new AtomicLong();
  private final Map<Long, Held> snapshots = new LinkedHashMap<>(16, 0.75f, true);

  /** A snapshot and what it lists, so that a token is only honoured for the same collection. */
  private record Held(Store.Snapshot snapshot, Instant created, ResourceType type, String namespace) {}

  /** One page: items, the snapshot's resourceVersion, the next token (or null), and items left after it. */
  record Page(List<StoredObject> items, long resourceVersion, String continueToken, long remaining) {}

  ListPager(Store store, Clock clock, Duration continueTtl) {
    this.store = store;
    this.clock = clock;
    this.continueTtl = continueTtl;
  }

  void continueTtl(Duration ttl) {
    this.continueTtl = ttl;
  }

  /** Drops every held snapshot: outstanding continue tokens expire unless nothing changed since. */
  synchronized void expireAll() {
    snapshots.clear();
  }

  Page list(ResourceType type, String namespace, Selector selector, String rvParam, String rvMatch, long limit,
      String continueToken) {
    if (continueToken != null && !continueToken.isEmpty()) {
      if (rvParam != null && !rvParam.isEmpty()) {
        throw StatusException.badRequest("specifying resource version is not allowed when using continue");
      }
      return continueList(type, namespace, selector, continueToken, limit);
    }
    checkResourceVersion(rvParam, rvMatch);
    Store.Snapshot snap = store.list(type, namespace, selector);
    return page(snap, 0, limit, type, namespace, selector);
  }

  private void checkResourceVersion(String rvParam, String rvMatch) {
    if (rvMatch != null && !rvMatch.isEmpty() && !rvMatch.equals("NotOlderThan") && !rvMatch.equals("Exact")) {
      throw StatusException.badRequest("resourceVersionMatch: Unsupported value: \"" + rvMatch
          + "\": supported values: \"Exact\", \"NotOlderThan\"");
    }
    if (rvParam == null || rvParam.isEmpty()) {
      if (rvMatch != null && !rvMatch.isEmpty()) {
        throw StatusException.badRequest("resourceVersionMatch is forbidden unless resourceVersion is provided");
      }
      return;
    }
    long requested = parseVersion(rvParam);
    long current = store.resourceVersion();
    if (requested > current) {
      throw StatusException.tooLargeResourceVersion(requested, current);
    }
    // Exact reads of the past would need the history of every object; only the current version is exact here.
    if ("Exact".equals(rvMatch) && requested != current && requested != 0) {
      throw StatusException.tooOldResourceVersion(requested, current);
    }
  }

  static long parseVersion(String rv) {
    try {
      long v = Long.parseLong(rv);
      if (v < 0) {
        throw new NumberFormatException();
      }
      return v;
    } catch (NumberFormatException e) {
      throw StatusException.badRequest("invalid resource version: \"" + rv + "\"");
    }
  }

  private Page page(Store.Snapshot snap, int from, long limit, ResourceType type, String namespace,
      Selector selector) {
    List<StoredObject> all = snap.items();
    int end = limit > 0 ? (int) Math.min(all.size(), from + limit) : all.size();
    String token = null;
    long remaining = 0;
    if (end < all.size()) {
      long id = hold(snap, type, namespace);
      token = encode(snap.resourceVersion(), all.get(end).key(), id);
      remaining = selector.matchesEverything() ? all.size() - end : -1;
    }
    return new Page(all.subList(from, end), snap.resourceVersion(), token, remaining);
  }

  private synchronized long hold(Store.Snapshot snap, ResourceType type, String namespace) {
    evictExpired();
    for (Map.Entry<Long, Held> e : snapshots.entrySet()) {
      if (e.getValue().snapshot() == snap) {
        return e.getKey();
      }
    }
    long id = ids.incrementAndGet();
    snapshots.put(id, new Held(snap, clock.instant(), type, namespace));
    while (snapshots.size() > MAX_SNAPSHOTS) {
      snapshots.remove(snapshots.keySet().iterator().next());
    }
    return id;
  }

  private void evictExpired() {
    Instant cutoff = clock.instant().minus(continueTtl);
    snapshots.values().removeIf(h -> h.created().isBefore(cutoff));
  }

  private Page continueList(ResourceType type, String namespace, Selector selector, String token, long limit) {
    long rv;
    String start;
    long id;
    try {
      JsonNode t = Json.parse(Base64.getUrlDecoder().decode(token));
      rv = t.path("rv").asLong(-1);
      start = t.path("start").asText(null);
      id = t.path("snap").asLong(-1);
      if (rv < 0 || start == null) {
        throw new IllegalArgumentException();
      }
    } catch (IllegalArgumentException | StatusException e) {
      throw StatusException.badRequest("continue key is not valid: the token cannot be decoded");
    }
    Store.Snapshot snap;
    synchronized (this) {
      evictExpired();
      Held held = snapshots.get(id);
      if (held != null && (held.type() != type || !held.namespace().equals(namespace))) {
        throw StatusException.badRequest("continue key is not valid: it belongs to another collection");
      }
      snap = held != null && held.snapshot().resourceVersion() == rv ? held.snapshot() : null;
    }
    if (snap == null) {
      Store.Snapshot now = store.list(type, namespace, selector);
      if (now.resourceVersion() != rv) {
        throw StatusException.continueExpired();
      }
      snap = now;
    }
    int from = firstAtOrAfter(snap.items(), start);
    return page(snap, from, limit, type, namespace, selector);
  }

  private static int firstAtOrAfter(List<StoredObject> items, String key) {
    int lo = 0;
    int hi = items.size();
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (items.get(mid).key().compareTo(key) < 0) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  private static String encode(long rv, String start, long id) {
    ObjectNode t = Json.object();
    t.put("v", "meta.k8s.io/v1");
    t.put("rv", rv);
    t.put("start", start);
    t.put("snap", id);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(Json.text(t).getBytes(StandardCharsets.UTF_8));
  }
}
