package io.github.podcidr.k8s;

import java.time.Duration;
import java.util.Objects;

/**
 * What a reconcile asks of the work queue next. Use the factories: {@link #done()}, {@link #retry()} (after the
 * item's exponential backoff) and {@link #requeueAfter(Duration)}.
 *
 * @param kind what to do with the node's name
 * @param delay for {@link Kind#REQUEUE_AFTER}, how long to wait; zero otherwise
 */
public record ReconcileResult(Kind kind, Duration delay) {
    private static final ReconcileResult DONE = new ReconcileResult(Kind.DONE, Duration.ZERO);
    private static final ReconcileResult RETRY = new ReconcileResult(Kind.RETRY, Duration.ZERO);

    /** What the queue does with the name. */
    public enum Kind {
        /** Forget the name's failures; it comes back only with a new event. */
        DONE,
        /** Put the name back after its exponential backoff (failures count up). */
        RETRY,
        /** Put the name back after a fixed delay. */
        REQUEUE_AFTER
    }

    /**
     * Creates a result.
     *
     * @param kind what to do
     * @param delay the delay for {@link Kind#REQUEUE_AFTER}
     */
    public ReconcileResult {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(delay, "delay");
    }

    /**
     * Nothing more to do for now.
     *
     * @return the done result
     */
    public static ReconcileResult done() {
        return DONE;
    }

    /**
     * Try again after the name's exponential backoff.
     *
     * @return the retry result
     */
    public static ReconcileResult retry() {
        return RETRY;
    }

    /**
     * Look again after a delay.
     *
     * @param delay how long to wait
     * @return the requeue result
     */
    public static ReconcileResult requeueAfter(Duration delay) {
        return new ReconcileResult(Kind.REQUEUE_AFTER, delay);
    }
}
