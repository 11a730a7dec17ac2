package io.github.podcidr.controller;

import io.github.podcidr.ipam.Cidr;
import io.github.podcidr.k8s.ControllerMetrics;
import java.util.List;

/**
 * Hands every call to several {@link ControllerMetrics}, in order (Prometheus, the status page's rates, the demo).
 * It overrides every method of the interface: a default left in place would drop the call (TeeMetricsTest checks).
 */
final class TeeMetrics implements ControllerMetrics {
    private final List<ControllerMetrics> targets;

    TeeMetrics(ControllerMetrics... targets) {
        this.targets = List.of(targets);
    }

    @Override
    public void assigned(String node, List<Cidr> cidrs) {
        targets.forEach(t -> t.assigned(node, cidrs));
    }

    @Override
    public void released(String node, List<Cidr> cidrs) {
        targets.forEach(t -> t.released(node, cidrs));
    }

    @Override
    public void taintsRemoved(String node, int count) {
        targets.forEach(t -> t.taintsRemoved(node, count));
    }

    @Override
    public void writeFailed(String reason) {
        targets.forEach(t -> t.writeFailed(reason));
    }

    @Override
    public void exhausted(String node) {
        targets.forEach(t -> t.exhausted(node));
    }

    @Override
    public void exhausted(String node, String group) {
        targets.forEach(t -> t.exhausted(node, group));
    }

    @Override
    public void conflict(String kind) {
        targets.forEach(t -> t.conflict(kind));
    }

    @Override
    public void queueAdded() {
        targets.forEach(ControllerMetrics::queueAdded);
    }

    @Override
    public void queueRetried() {
        targets.forEach(ControllerMetrics::queueRetried);
    }

    @Override
    public void queueWaited(long nanos) {
        targets.forEach(t -> t.queueWaited(nanos));
    }

    @Override
    public void reconciled(String outcome, long nanos) {
        targets.forEach(t -> t.reconciled(outcome, nanos));
    }

    @Override
    public void watchEventDelivered(long nanos) {
        targets.forEach(t -> t.watchEventDelivered(nanos));
    }

    @Override
    public void intentJournalWaited(long nanos) {
        targets.forEach(t -> t.intentJournalWaited(nanos));
    }

    @Override
    public void protobufFallback() {
        targets.forEach(ControllerMetrics::protobufFallback);
    }
}
