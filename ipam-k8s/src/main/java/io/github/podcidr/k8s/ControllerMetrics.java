package io.github.podcidr.k8s;

import io.github.podcidr.ipam.Cidr;
import java.util.List;

/**
 * What the controller reports for metrics; the application binds it to its metrics library. Gauges (pool usage,
 * queue depth, leadership) are read from {@link PodCidrController} and {@link ControllerRunner} when scraped;
 * this interface carries the counters and timings. Every method has an empty default, so an implementation picks
 * what it exports. Implementations must be thread-safe and fast: they are called from worker threads.
 */
public interface ControllerMetrics extends QueueMetrics {
    /** Discards everything. */
    ControllerMetrics NONE = new ControllerMetrics() {
    };

    /**
     * Subnets were written to a node (or, in dry-run, would have been).
     *
     * @param node the node
     * @param cidrs its new pod CIDRs
     */
    default void assigned(String node, List<Cidr> cidrs) {
    }

    /**
     * A node's subnets were freed because the node is gone.
     *
     * @param node the node
     * @param cidrs the freed subnets
     */
    default void released(String node, List<Cidr> cidrs) {
    }

    /**
     * Taints were removed from a node.
     *
     * @param node the node
     * @param count how many
     */
    default void taintsRemoved(String node, int count) {
    }

    /**
     * A write failed.
     *
     * @param reason a stable token: {@code conflict}, {@code invalid}, {@code not_found}, {@code unavailable},
     *     {@code rejected}
     */
    default void writeFailed(String reason) {
    }

    /**
     * A pool of some family had no room for a node.
     *
     * @param node the node left waiting
     */
    default void exhausted(String node) {
    }

    /**
     * A node of a group found some family of its group's pools full. Called instead of {@link #exhausted(String)};
     * by default it calls that.
     *
     * @param node the node name
     * @param group the name of the node's group, {@link io.github.podcidr.ipam.NodeIpam#DEFAULT_GROUP} for the
     *     cluster CIDRs' group; bounded by the configuration
     */
    default void exhausted(String node, String group) {
        exhausted(node);
    }

    /**
     * A problem was found with a node's existing pod CIDRs.
     *
     * @param kind a stable token, {@link io.github.podcidr.ipam.NodeReport.Kind#token()}: {@code duplicate},
     *     {@code outside_pools}, {@code malformed}, {@code second_of_family}, {@code oversized},
     *     {@code unconfigured_family}, {@code misaligned}, {@code in_reserved_range}, {@code non_canonical},
     *     {@code missing_family}, {@code in_other_group}
     */
    default void conflict(String kind) {
    }

    /**
     * A node name was put into the work queue without delay while it was not already waiting there.
     */
    default void queueAdded() {
    }

    /**
     * A node name was put back into the work queue with the rate limiter's backoff (a retry).
     */
    default void queueRetried() {
    }

    /**
     * A worker took a node name that had been added without delay.
     *
     * @param nanos how long the name waited in the queue since it was added
     */
    default void queueWaited(long nanos) {
    }

    /**
     * A reconcile finished.
     *
     * @param outcome a stable token: {@code done}, {@code requeue}, {@code error}
     * @param nanos how long it took
     */
    default void reconciled(String outcome, long nanos) {
    }

    /**
     * A node watch event reached the informer's handler (its node's name is queued right after when anything
     * reconcile reads changed).
     *
     * @param nanos the time from the event read off the connection (decoded) to the handler
     */
    default void watchEventDelivered(long nanos) {
    }

    /**
     * A write that carries pod CIDRs waited for its intent to be stored in the intent journal (a Lease update,
     * shared with the writers that arrived meanwhile) before it was sent; called whether or not the update succeeded.
     *
     * @param nanos the wait, from the worker asking to the update's answer
     */
    default void intentJournalWaited(long nanos) {
    }

    /**
     * Node lists and watches stopped asking for protobuf: its answers failed to decode several times in a row, so
     * JSON is asked for until the process restarts. Called at most once per process.
     */
    default void protobufFallback() {
    }
}
