package io.github.podcidr.controller;

import io.prometheus.client.Collector.MetricFamilySamples;
import io.prometheus.client.CollectorRegistry;
import java.util.Collections;
import java.util.Set;
import java.util.TreeSet;

/**
 * The names of the series the controller exports, read from its own collectors (this class sits in the controller's
 * package to reach them) rather than from a hand-kept list, so that a dashboard or an alert that queries a renamed or
 * invented metric fails its test.
 */
public final class ExportedMetrics {
    private ExportedMetrics() {
    }

    /**
     * Returns the series names a query may use: a gauge's name, a counter's name with {@code _total}, a histogram's
     * {@code _bucket}, {@code _sum} and {@code _count}.
     *
     * @return the names, sorted
     */
    public static Set<String> seriesNames() {
        CollectorRegistry registry = new CollectorRegistry();
        new PrometheusMetrics(registry, () -> null);
        new ApiRequestMetrics(registry);
        Set<String> names = new TreeSet<>();
        for (MetricFamilySamples family : Collections.list(registry.metricFamilySamples())) {
            switch (family.type) {
                case COUNTER -> names.add(family.name + "_total");
                case HISTOGRAM -> {
                    names.add(family.name + "_bucket");
                    names.add(family.name + "_sum");
                    names.add(family.name + "_count");
                }
                default -> names.add(family.name);
            }
        }
        return names;
    }
}
