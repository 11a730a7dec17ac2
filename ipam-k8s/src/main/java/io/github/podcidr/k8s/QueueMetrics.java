package io.github.podcidr.k8s;

/**
 * What a {@link WorkLoop} reports about its queue and its work: counts and durations, nothing of what the keys are.
 * Every method has an empty default, so an implementation overrides only what it records.
 */
public interface QueueMetrics {
    /** A key was put into the queue without delay while it was not already waiting there. */
    default void queueAdded() {
    }

    /** A key was put back into the queue with the rate limiter's backoff (a retry). */
    default void queueRetried() {
    }

    /**
     * A worker took a key that had been added without delay.
     *
     * @param nanos how long the key waited in the queue since it was added
     */
    default void queueWaited(long nanos) {
    }

    /**
     * One piece of work finished.
     *
     * @param outcome a stable token: {@code done}, {@code requeue}, {@code error}
     * @param nanos how long it took
     */
    default void reconciled(String outcome, long nanos) {
    }
}
