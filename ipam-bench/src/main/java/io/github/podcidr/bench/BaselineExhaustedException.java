package io.github.podcidr.bench;

/**
 * The failure of a baseline's allocate on a full pool. Both Go originals return a package-level sentinel error
 * ({@code ErrCIDRExhausted}, {@code ErrCIDRRangeNoCIDRsRemaining}) that costs nothing to return, so the port throws
 * one preallocated instance without a stack trace.
 */
public final class BaselineExhaustedException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    /** The one instance, like the Go sentinel errors. */
    public static final BaselineExhaustedException INSTANCE = new BaselineExhaustedException();

    private BaselineExhaustedException() {
        super("CIDR range exhausted");
        setStackTrace(new StackTraceElement[0]);
    }

    @Override
    public synchronized Throwable fillInStackTrace() {
        return this; // a sentinel: no stack trace, as a Go error value has none
    }
}
