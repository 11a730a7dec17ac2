package io.github.podcidr.controller;

import java.util.function.Supplier;

/**
 * The status page's source: takes a {@link StatusSnapshot} when asked, and hands the same one to every request of
 * the next second, so that a page left open in several browsers (it refreshes itself every 10 s) or a script polling
 * {@code /status.json} does not take the allocator's lock more than once a second.
 */
final class StatusPage {
    /** How long one snapshot serves. */
    static final long REUSE_NANOS = 1_000_000_000L;
    private final Supplier<StatusSnapshot> capture;
    private StatusSnapshot last;
    private long lastAt;

    /**
     * Creates the source.
     *
     * @param capture takes a fresh snapshot
     */
    StatusPage(Supplier<StatusSnapshot> capture) {
        this.capture = capture;
    }

    /**
     * Returns a snapshot at most a second old.
     *
     * @return the snapshot
     */
    synchronized StatusSnapshot snapshot() {
        long now = System.nanoTime();
        if (last == null || now - lastAt >= REUSE_NANOS) {
            last = capture.get();
            lastAt = now;
        }
        return last;
    }

    /** The HTML page. */
    String html() {
        return StatusHtml.render(snapshot());
    }

    /** The JSON twin. */
    String json() {
        return StatusJson.write(snapshot());
    }
}
