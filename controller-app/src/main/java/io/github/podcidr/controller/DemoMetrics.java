package io.github.podcidr.controller;

import io.github.podcidr.ipam.Cidr;
import io.github.podcidr.ipam.IpFamily;
import io.github.podcidr.k8s.ControllerMetrics;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/** Counters for the demo's progress and summary, fed by the controller like the Prometheus metrics. */
final class DemoMetrics implements ControllerMetrics {
    final AtomicLong nodesAssigned = new AtomicLong();
    final AtomicLong ipv4 = new AtomicLong();
    final AtomicLong ipv6 = new AtomicLong();
    final AtomicLong taintsRemoved = new AtomicLong();
    final AtomicLong exhausted = new AtomicLong();
    private final Map<String, LongAdder> conflicts = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> writeFailures = new ConcurrentHashMap<>();

    @Override
    public void assigned(String node, List<Cidr> cidrs) {
        nodesAssigned.incrementAndGet();
        for (Cidr c : cidrs) {
            (c.family() == IpFamily.IPV4 ? ipv4 : ipv6).incrementAndGet();
        }
    }

    @Override
    public void taintsRemoved(String node, int count) {
        taintsRemoved.addAndGet(count);
    }

    @Override
    public void writeFailed(String reason) {
        writeFailures.computeIfAbsent(reason, k -> new LongAdder()).increment();
    }

    @Override
    public void exhausted(String node) {
        exhausted.incrementAndGet();
    }

    @Override
    public void conflict(String kind) {
        conflicts.computeIfAbsent(kind, k -> new LongAdder()).increment();
    }

    Map<String, Long> conflicts() {
        return snapshot(conflicts);
    }

    Map<String, Long> writeFailures() {
        return snapshot(writeFailures);
    }

    private static Map<String, Long> snapshot(Map<String, LongAdder> m) {
        Map<String, Long> out = new TreeMap<>();
        m.forEach((k, v) -> out.put(k, v.sum()));
        return out;
    }
}
