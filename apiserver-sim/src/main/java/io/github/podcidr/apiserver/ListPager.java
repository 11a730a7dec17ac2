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
    validateListOptions(rvParam, rvMatch, continueToken, false);
    if (continueToken != null && !continueToken.isEmpty()) {
      Token token = decode(continueToken);
      if (rvParam != null && !rvParam.isEmpty() && !rvParam.equals("0")) {
        throw StatusException.badRequest("specifying resource version is not allowed when using continue");
      }
      return continueList(type, namespace, selector, token, limit);
    }
    if (rvParam == null || rvParam.isEmpty()) {
      return page(store.list(type, namespace, selector), 0, limit, type, namespace, selector);
    }
    long requested = parseVersion(rvParam);
    boolean exact = "Exact".equals(rvMatch);
    if (requested == 0) {
      // Served from the watch cache, which does not page: the limit is ignored (kube-apiserver's cacher.GetList
      // delegates to etcd only when a limit comes with a resourceVersion other than "0").
      return page(store.list(type, namespace, selector), 0, 0, type, namespace, selector);
    }
    long current = store.resourceVersion();
    if (requested > current) {
      throw StatusException.tooLargeResourceVersion(requested, current);
    }
    if (exact || (rvMatch == null || rvMatch.isEmpty()) && limit > 0) {
      // A read at that revision: Exact always, and a legacy resourceVersion with a limit (etcd3 store.List).
      Store.Snapshot past = store.listAt(type, namespace, selector, requested);
      if (past == null) {
        throw new StatusException(410, "Expired", "The resourceVersion for the provided list is too old.", null, 0);
      }
      return page(past, 0, limit, type, namespace, selector);
    }
    return page(store.list(type, namespace, selector), 0, limit, type, namespace, selector);
  }

  /**
   * {@code ValidateListOptions} of {@code k8s.io/apimachinery/pkg/apis/meta/internalversion/validation}: 422 with
   * the kind {@code ListOptions.meta.k8s.io}.
   */
  static void validateListOptions(String rvParam, String rvMatch, String continueToken, boolean watch) {
    if (rvMatch == null || rvMatch.isEmpty()) {
      return;
    }
    List<FieldError> errors = new java.util.ArrayList<>();
    if (watch) {
      errors.add(FieldError.forbidden("resourceVersionMatch", "resourceVersionMatch is forbidden for watch"));
    }
    if (rvParam == null || rvParam.isEmpty()) {
      errors.add(FieldError.forbidden("resourceVersionMatch",
          "resourceVersionMatch is forbidden unless resourceVersion is provided"));
    }
    if (continueToken != null && !continueToken.isEmpty()) {
      errors.add(FieldError.forbidden("resourceVersionMatch",
          "resourceVersionMatch is forbidden when continue is provided"));
    }
    if (!rvMatch.equals("Exact") && !rvMatch.equals("NotOlderThan")) {
      errors.add(FieldError.notSupported("resourceVersionMatch", FieldError.quote(rvMatch),
          "\"Exact\", \"NotOlderThan\", \"\""));
    }
    if (rvMatch.equals("Exact") && "0".equals(rvParam)) {
      errors.add(FieldError.forbidden("resourceVersionMatch",
          "resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\""));
    }
    if (errors.isEmpty()) {
      return;
    }
    throw StatusException.invalid("ListOptions", "meta.k8s.io", "", errors);
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
      token = encode(snap.resourceVersion(), all.get(end - 1).key() + "\u0000", id);
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

  /** A decoded continue token: the list's resourceVersion (-1: the latest), the first key, the held snapshot. */
  private record Token(long rv, String start, long snapshot) {}

  /** {@code decodeContinue} of the etcd3 store, with its messages. */
  private static Token decode(String token) {
    byte[] data;
    try {
      data = Base64.getUrlDecoder().decode(token);
    } catch (IllegalArgumentException e) {
      int at = 0;
      while (at < token.length() && (Character.isLetterOrDigit(token.charAt(at)) || token.charAt(at) == '-'
          || token.charAt(at) == '_')) {
        at++;
      }
      throw invalidToken("illegal base64 data at input byte " + at);
    }
    JsonNode t;
    try {
      t = Json.MAPPER.readTree(data);
    } catch (java.io.IOException e) {
      throw invalidToken("the token is not JSON");
    }
    if (t == null || !t.isObject()) {
      throw invalidToken("the token is not a JSON object");
    }
    String version = t.path("v").asText("");
    if (!version.equals("meta.k8s.io/v1")) {
      throw invalidToken("server does not recognize this encoded version \"" + version + "\"");
    }
    long rv = t.path("rv").asLong(0);
    if (rv == 0) {
      throw invalidToken("incorrect encoded start resourceVersion (version meta.k8s.io/v1)");
    }
    String start = t.path("start").asText("");
    if (start.isEmpty()) {
      throw invalidToken("encoded start key empty (version meta.k8s.io/v1)");
    }
    return new Token(rv, start, t.path("snap").asLong(-1));
  }

  private static StatusException invalidToken(String why) {
    return StatusException.badRequest("invalid continue token: continue key is not valid: " + why);
  }

  private Page continueList(ResourceType type, String namespace, Selector selector, Token token, long limit) {
    Store.Snapshot snap;
    synchronized (this) {
      evictExpired();
      Held held = snapshots.get(token.snapshot());
      if (held != null && (held.type() != type || !held.namespace().equals(namespace))) {
        throw StatusException.badRequest("continue key is not valid: it belongs to another collection");
      }
      snap = held != null && held.snapshot().resourceVersion() == token.rv() ? held.snapshot() : null;
    }
    if (snap == null) {
      Store.Snapshot now = store.list(type, namespace, selector);
      if (token.rv() != -1 && now.resourceVersion() != token.rv()) {
        // etcd compacted that revision: the rest can only be read at the latest one, with the token for that.
        throw StatusException.continueExpired(encode(-1, token.start(), -1));
      }
      snap = now;
    }
    int from = firstAtOrAfter(snap.items(), token.start());
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
