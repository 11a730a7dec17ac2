package io.github.podcidr.k8s;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether node LISTs and watches still ask for protobuf. A protobuf answer that cannot be decoded
 * ({@link ProtobufDecodeException}) is asked again like any failed request; when {@value #FAILURES_IN_A_ROW} answers in
 * a row fail to decode, with no protobuf answer read in between, the server (or something between it and us) keeps
 * writing what this reader cannot read, so from then on, for the rest of the process, lists and watches ask for JSON
 * only. Without this, a reader that cannot read the server's protobuf would relist about every second forever while
 * the probes stay green. Thread-safe: the informer's list and watch threads report here.
 */
final class ProtobufFallback {
    private static final Logger LOG = LoggerFactory.getLogger(ProtobufFallback.class);
    /**
     * Decode failures in a row after which JSON is asked for: one is a fluke, three are the server's steady answer.
     * Fewer than a LIST page's tries ({@link PagedNodeListerWatcher#PAGE_ATTEMPTS}), so that the list that met them
     * still succeeds in JSON.
     */
    static final int FAILURES_IN_A_ROW = 3;
    /** What lists and watches ask for once fallen back. */
    static final String JSON = "application/json";

    private final ControllerMetrics metrics;
    private final AtomicInteger inARow = new AtomicInteger();
    private final AtomicLong failures = new AtomicLong();
    private volatile boolean fallenBack;

    ProtobufFallback(ControllerMetrics metrics) {
        this.metrics = metrics;
    }

    /** The Accept header of the next list or watch request. */
    String accept() {
        return fallenBack ? JSON : SlimNodeCodec.ACCEPT;
    }

    /** A protobuf answer (a list page or a watch event) was read: the failures so far were not in a row. */
    void decoded() {
        if (inARow.get() != 0) {
            inARow.set(0);
        }
    }

    /** A protobuf answer could not be decoded. */
    void failed(ProtobufDecodeException e) {
        failures.incrementAndGet();
        int n = inARow.incrementAndGet();
        LOG.atWarn().setMessage("protobuf node answer unreadable").addKeyValue("in_a_row", n)
                .addKeyValue("error", e.getMessage()).log();
        if (n >= FAILURES_IN_A_ROW && !fallenBack) {
            synchronized (this) {
                if (fallenBack) {
                    return;
                }
                fallenBack = true;
            }
            metrics.protobufFallback();
            LOG.atWarn().setMessage("node lists and watches ask for JSON from now on, until the process restarts")
                    .addKeyValue("failures_in_a_row", n).log();
        }
    }

    /** Whether lists and watches ask for JSON only. */
    boolean fallenBack() {
        return fallenBack;
    }

    /** Protobuf answers that could not be decoded since the start. */
    long failures() {
        return failures.get();
    }
}
