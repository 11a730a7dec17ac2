package io.github.podcidr.k8s;

import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.function.LongSupplier;

/**
 * The node writes a leader has started and that may still land, so that a graceful stop hands the Lease over only
 * once none can. A write counts from just before it is sent (before its wait for the client-side rate limit) until
 * it is answered, whatever the answer, or until its deadline has passed when it is not answered: a request the
 * client gave up on (a timeout, an interrupted worker) may still be carried out by the server, but not after the
 * deadline the write carried ({@code timeout=} for kube-apiserver, and the client's own call timeout). What the
 * server does after its deadline is in {@code docs/reliability.md} ("which late writes can land").
 *
 * <pre>{@code
 * InFlightWrites.Write w = inFlight.begin(budget);  // deadline: now + budget
 * try (Response r = call.execute()) { w.answered(); ... } // unanswered: counts until its deadline
 * ...
 * inFlight.awaitDrained(limitNanos);                // on stop, before the Lease is released
 * }</pre>
 *
 * <p>Thread-safe; a handful of entries at a time (one per worker), so one lock is enough.
 */
public final class InFlightWrites {
    /** For fences without a Lease to hand over: tracks nothing, is always drained. */
    static final InFlightWrites UNTRACKED = new InFlightWrites(System::nanoTime, false);

    private static final Write NOT_TRACKED = new Write(null, 0);

    private final LongSupplier nanoTime;
    private final boolean tracking;
    /** Writes begun and not answered, by deadline; guarded by this. */
    private final Set<Write> pending = new HashSet<>();

    InFlightWrites(LongSupplier nanoTime) {
        this(nanoTime, true);
    }

    private InFlightWrites(LongSupplier nanoTime, boolean tracking) {
        this.nanoTime = nanoTime;
        this.tracking = tracking;
    }

    /** One write: {@link #answered()} once the server answered, or {@link #notSent()} if it never left. */
    static final class Write {
        private final InFlightWrites owner;
        /** System.nanoTime() past which the write can no longer be carried out by the server. */
        final long deadline;

        private Write(InFlightWrites owner, long deadline) {
            this.owner = owner;
            this.deadline = deadline;
        }

        /** The server answered (any status): nothing of this write is pending any more. */
        void answered() {
            end();
        }

        /** The write was never sent (the fence closed while it waited): nothing can land. */
        void notSent() {
            end();
        }

        private void end() {
            if (owner != null) {
                owner.end(this);
            }
        }
    }

    /**
     * Counts a write that may be sent from now on and may land until {@code budget} from now.
     *
     * @param budget the write's whole time limit (rate-limit wait and exchange)
     * @return the handle to end it with
     */
    Write begin(Duration budget) {
        if (!tracking) {
            return NOT_TRACKED;
        }
        Write w = new Write(this, nanoTime.getAsLong() + budget.toNanos());
        synchronized (this) {
            pending.add(w);
        }
        return w;
    }

    private synchronized void end(Write w) {
        pending.remove(w);
        notifyAll();
    }

    /**
     * Counts the writes that may still land now: begun, unanswered and before their deadline.
     *
     * @return the count
     */
    public synchronized int pending() {
        long now = nanoTime.getAsLong();
        pending.removeIf(w -> w.deadline - now <= 0);
        return pending.size();
    }

    /**
     * Waits until no write may land any more: every write begun so far was answered, was not sent, or passed its
     * deadline. Writes begun while this waits count too (the caller stops the writers first).
     *
     * @param untilNanos a System.nanoTime() past which to stop waiting
     * @return true if drained, false if writes may still land at {@code untilNanos}
     * @throws InterruptedException if interrupted while waiting
     */
    synchronized boolean awaitDrained(long untilNanos) throws InterruptedException {
        while (true) {
            long now = nanoTime.getAsLong();
            pending.removeIf(w -> w.deadline - now <= 0);
            if (pending.isEmpty()) {
                return true;
            }
            long next = untilNanos;
            for (Write w : pending) {
                if (w.deadline - next < 0) {
                    next = w.deadline;
                }
            }
            long wait = next - now;
            if (untilNanos - now <= 0) {
                return false;
            }
            Duration d = Duration.ofNanos(Math.max(wait, 1_000_000));
            wait(d.toMillis(), 0);
        }
    }
}
