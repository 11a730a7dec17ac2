package io.github.podcidr.apiserver;

import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Fault injection: errors, latency, dropped and expired watches, and writes that are applied but never answered.
 *
 * <p>Rules match a verb ({@code get}, {@code list}, {@code watch}, {@code create}, {@code update}, {@code patch},
 * {@code delete}, {@code deletecollection}, or {@code *}) and a resource ({@code nodes}, {@code nodes/status},
 * {@code leases}, {@code events}, {@code namespaces}, or {@code *}; {@code nodes} also matches
 * {@code nodes/status}). Rules apply to requests that arrive after they are set; discovery is never affected.
 * <pre>{@code
 * sim.faults().failNext("patch", "nodes", 2, 500);        // the next two node patches answer 500
 * sim.faults().failRate("*", "*", 0.05, 503);             // 5% of all requests answer 503
 * sim.faults().failNext("list", "nodes", 1, 429);         // 429 with Retry-After: 1
 * sim.faults().latency("*", "leases", Duration.ofMillis(200));
 * sim.faults().latencyForClient("replica-a", "*", "*", Duration.ofSeconds(4)); // one slow client among several
 * sim.faults().applyButNeverAnswer("patch", "nodes", 1);  // the patch is stored; the client times out
 * sim.faults().dropWatchesNow();                          // every open watch ends cleanly
 * sim.faults().dropWatchesAfter(10);                      // every watch ends after 10 more events
 * sim.faults().expireNextWatches(1);                      // the next watch gets a 410 ERROR event
 * sim.faults().clear();
 * }</pre>
 */
public final class Faults {
  private enum Kind { FAIL_NEXT, FAIL_RATE, LATENCY, NEVER_ANSWER, APPLY_LATE }

  private static final class Rule {
    final Kind kind;
    final String verb;
    final String resource;
    final AtomicInteger remaining;
    final double probability;
    final int code;
    final Duration latency;
    /** For latency rules: the User-Agent prefix of the requests they slow down, or null for every request. */
    final String userAgent;
    /** For late-write rules: where the held writes wait. */
    final LateWrites late;

    Rule(Kind kind, String verb, String resource, int count, double probability, int code, Duration latency) {
      this(kind, verb, resource, count, probability, code, latency, null);
    }

    Rule(Kind kind, String verb, String resource, int count, double probability, int code, Duration latency,
        String userAgent) {
      this(kind, verb, resource, count, probability, code, latency, userAgent, null);
    }

    Rule(Kind kind, String verb, String resource, int count, double probability, int code, Duration latency,
        String userAgent, LateWrites late) {
      this.late = late;
      this.userAgent = userAgent;
      this.kind = kind;
      this.verb = verb;
      this.resource = resource;
      this.remaining = new AtomicInteger(count);
      this.probability = probability;
      this.code = code;
      this.latency = latency;
    }

    boolean matches(String v, String r) {
      return (verb.equals("*") || verb.equals(v))
          && (resource.equals("*") || resource.equals(r) || r.startsWith(resource + "/"));
    }

    /** Consumes one use of a counted rule; true when it applies to this request. */
    boolean take() {
      while (true) {
        int left = remaining.get();
        if (left <= 0) {
          return false;
        }
        if (remaining.compareAndSet(left, left - 1)) {
          return true;
        }
      }
    }
  }

  private final List<Rule> rules = new CopyOnWriteArrayList<>();
  private final Random random = new Random(42);
  private final AtomicInteger expireNextWatches = new AtomicInteger();
  private final Store store;
  private volatile int dropWatchesAfter = -1;

  Faults(Store store) {
    this.store = store;
  }

  private static void checkCode(int code) {
    if (code < 400 || code > 599) {
      throw new IllegalArgumentException("an injected error needs an HTTP error code (400..599), got " + code);
    }
  }

  /**
   * The next {@code count} matching requests fail with {@code code} (e.g. 500, 503, 429 with Retry-After, or 422 as
   * validation refuses a node update: a cause naming the field).
   */
  public Faults failNext(String verb, String resource, int count, int code) {
    checkCode(code);
    rules.add(new Rule(Kind.FAIL_NEXT, verb, resource, count, 0, code, null));
    return this;
  }

  /** Each matching request fails with {@code code} with this probability (seeded, so runs repeat). */
  public Faults failRate(String verb, String resource, double probability, int code) {
    checkCode(code);
    if (probability < 0 || probability > 1) {
      throw new IllegalArgumentException("probability must be within 0..1, got " + probability);
    }
    rules.add(new Rule(Kind.FAIL_RATE, verb, resource, Integer.MAX_VALUE, probability, code, null));
    return this;
  }

  /**
   * Matching requests wait this long before being served (latencies of several rules add up). A request that
   * carries kube-apiserver's {@code timeout} parameter shorter than its wait is abandoned at that timeout, as the
   * real server abandons it (the request's context is cancelled, nothing is stored): it is answered 504 and not
   * carried out.
   */
  public Faults latency(String verb, String resource, Duration latency) {
    rules.add(new Rule(Kind.LATENCY, verb, resource, Integer.MAX_VALUE, 0, 0, latency));
    return this;
  }

  /**
   * Like {@link #latency}, for the requests of one client only: those whose {@code User-Agent} header starts with
   * {@code userAgent}. A server slow for one replica (a congested link, a slow path through a load balancer) while
   * the others are served at once.
   */
  public Faults latencyForClient(String userAgent, String verb, String resource, Duration latency) {
    if (userAgent == null || userAgent.isEmpty()) {
      throw new IllegalArgumentException("a client's User-Agent prefix is needed, e.g. \"replica-a\"");
    }
    rules.add(new Rule(Kind.LATENCY, verb, resource, Integer.MAX_VALUE, 0, 0, latency, userAgent));
    return this;
  }

  /**
   * The next {@code count} matching requests are carried out (a write is stored and watchers see it) but no
   * response is ever sent: the client times out not knowing whether its write happened. The connection stays open
   * until the client gives up or the simulator stops. A list or watch so matched is held without being served.
   */
  public Faults applyButNeverAnswer(String verb, String resource, int count) {
    rules.add(new Rule(Kind.NEVER_ANSWER, verb, resource, count, 0, 0, null));
    return this;
  }

  /**
   * The next {@code count} matching writes are answered 504 at once and carried out only when the test says so
   * ({@link LateWrites#landNow()}), as kube-apiserver 1.20 does when its storage path is slow: the handler answers at
   * the request's deadline while the storage call goes on and may still commit. A JSON patch so held is applied to the
   * object as it is when it lands, so its {@code test} operations are judged against what happened meanwhile. Reads
   * (get, list, watch) are never held.
   *
   * @return the handle that lands the held writes
   */
  public LateWrites applyLate(String verb, String resource, int count) {
    LateWrites late = new LateWrites();
    rules.add(new Rule(Kind.APPLY_LATE, verb, resource, count, 0, 0, null, null, late));
    return late;
  }

  /** Writes answered 504 but not yet carried out; see {@link #applyLate}. */
  public static final class LateWrites {
    private final List<java.util.concurrent.Callable<Boolean>> held = new java.util.ArrayList<>();

    synchronized void hold(java.util.concurrent.Callable<Boolean> write) {
      held.add(write);
    }

    /**
     * Returns how many writes are held.
     *
     * @return the count
     */
    public synchronized int held() {
      return held.size();
    }

    /**
     * Carries out every held write now, in the order they came, each against the objects as they are now.
     *
     * @return how many were stored (the others were refused, e.g. a JSON patch whose test no longer holds)
     */
    public int landNow() {
      List<java.util.concurrent.Callable<Boolean>> now;
      synchronized (this) {
        now = List.copyOf(held);
        held.clear();
      }
      int stored = 0;
      for (java.util.concurrent.Callable<Boolean> w : now) {
        try {
          stored += w.call() ? 1 : 0;
        } catch (Exception e) {
          throw new IllegalStateException("a held write failed unexpectedly", e);
        }
      }
      return stored;
    }
  }

  /** Ends every open watch now, cleanly (the client sees the end of the stream and watches again). */
  public Faults dropWatchesNow() {
    store.forEachWatcher(Watcher::close);
    return this;
  }

  /**
   * Every open watch, and every watch opened while this is set, ends after sending {@code events} more events;
   * a negative value turns this off for new watches.
   */
  public Faults dropWatchesAfter(int events) {
    dropWatchesAfter = events;
    if (events >= 0) {
      store.forEachWatcher(w -> w.dropAfter(events));
    }
    return this;
  }

  /** The next {@code count} watch requests receive a 410 Expired ERROR event at once, as after compaction. */
  public Faults expireNextWatches(int count) {
    expireNextWatches.addAndGet(count);
    return this;
  }

  /** Removes every rule and pending watch fault. */
  public Faults clear() {
    rules.clear();
    expireNextWatches.set(0);
    dropWatchesAfter = -1;
    return this;
  }

  // ------------------------------------------------------------------ used by the HTTP layer

  Duration latencyFor(String verb, String resource, String userAgent) {
    Duration total = Duration.ZERO;
    for (Rule r : rules) {
      if (r.kind == Kind.LATENCY && r.matches(verb, resource)
          && (r.userAgent == null || userAgent != null && userAgent.startsWith(r.userAgent))) {
        total = total.plus(r.latency);
      }
    }
    return total;
  }

  /** The injected error for this request, or null. */
  StatusException errorFor(String verb, String resource) {
    for (Rule r : rules) {
      if (!r.matches(verb, resource)) {
        continue;
      }
      if (r.kind == Kind.FAIL_NEXT && r.take()) {
        return StatusException.injected(r.code);
      }
      if (r.kind == Kind.FAIL_RATE) {
        double draw;
        synchronized (random) {
          draw = random.nextDouble();
        }
        if (draw < r.probability) {
          return StatusException.injected(r.code);
        }
      }
    }
    return null;
  }

  /** The handle that will carry this write out after its 504, or null if it is served as usual. */
  LateWrites applyLate(String verb, String resource) {
    for (Rule r : rules) {
      if (r.kind == Kind.APPLY_LATE && r.matches(verb, resource) && r.take()) {
        return r.late;
      }
    }
    return null;
  }

  boolean neverAnswer(String verb, String resource) {
    for (Rule r : rules) {
      if (r.kind == Kind.NEVER_ANSWER && r.matches(verb, resource) && r.take()) {
        return true;
      }
    }
    return false;
  }

  boolean takeExpireWatch() {
    while (true) {
      int left = expireNextWatches.get();
      if (left <= 0) {
        return false;
      }
      if (expireNextWatches.compareAndSet(left, left - 1)) {
        return true;
      }
    }
  }

  int dropWatchesAfter() {
    return dropWatchesAfter;
  }
}
