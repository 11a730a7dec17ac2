package io.github.podcidr.ipam;

/**
 * The supertype of every exception this library throws for its own reasons, so that a caller can handle them in one
 * place: {@link InvalidCidrException} (a text or address is not a CIDR), {@link InvalidPoolException} (a pool or
 * group configuration does not fit), {@link CidrNotInPoolException} (a CIDR is not one of a pool's subnets),
 * {@link UnknownGroupException} (no group has a name) and {@link PoolExhaustedException} (no free subnet).
 *
 * <p>Unchecked, as all of them were before it existed. Four of them were {@link IllegalArgumentException}s until
 * then; a caller that caught them as such catches {@code IpamException} now. Programming errors of the caller (a
 * null argument, an index out of range) stay the JDK's exceptions.
 *
 * <p>Serializable, as every {@link Throwable}; each subclass says what of it travels.
 */
public abstract class IpamException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates an exception with a stack trace.
     *
     * @param message the sentence for operators: what was wrong, what was expected, an example
     */
    protected IpamException(String message) {
        super(message);
    }

    /**
     * Creates an exception, with or without a stack trace (a full pool is an expected outcome, thrown often).
     *
     * @param message the sentence for operators
     * @param writableStackTrace false to skip filling in the stack trace
     */
    protected IpamException(String message, boolean writableStackTrace) {
        super(message, null, false, writableStackTrace);
    }
}
