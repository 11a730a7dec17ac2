package io.github.podcidr.apiserver;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Requests received per verb and resource, counted as kube-apiserver's {@code apiserver_request_total} labels
 * them: verb one of get, list, watch, create, update, patch, delete, deletecollection; resource the plural with
 * an optional subresource ({@code nodes}, {@code nodes/status}, {@code leases}). Requests answered with an injected
 * fault are counted too. Discovery requests are not counted.
 */
public final class RequestCounters {
  private final Map<String, LongAdder> counts = new ConcurrentHashMap<>();

  void increment(String verb, String resource) {
    counts.computeIfAbsent(verb + " " + resource, k -> new LongAdder()).increment();
  }

  /** Requests of this verb on this resource (e.g. {@code count("patch", "nodes")}). */
  public long count(String verb, String resource) {
    LongAdder a = counts.get(verb + " " + resource);
    return a == null ? 0 : a.sum();
  }

  /** Every non-zero count, keyed {@code "<verb> <resource>"}, sorted. */
  public Map<String, Long> snapshot() {
    Map<String, Long> out = new TreeMap<>();
    counts.forEach((k, v) -> {
      if (v.sum() > 0) {
        out.put(k, v.sum());
      }
    });
    return out;
  }

  /** Total of all requests counted. */
  public long total() {
    return counts.values().stream().mapToLong(LongAdder::sum).sum();
  }

  public void reset() {
    counts.clear();
  }

  @Override
  public String toString() {
    return snapshot().toString();
  }
}
