package io.github.podcidr.ipam;

/**
 * Thrown by {@link Cidr#parse(String)} when a text is not a strict, canonical-able CIDR. The message quotes the whole
 * input, says what was wrong and what was expected, e.g. {@code "10.0.0.1/8" has host bits set; the network is
 * 10.0.0.0/8}.
 */
public final class InvalidCidrException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    /** The rejected text exactly as given; {@code null} when the input was null. */
    private final String input;

    InvalidCidrException(String input, String message) {
        super(message);
        this.input = input;
    }

    /**
     * Returns the rejected text exactly as it was given.
     *
     * @return the input, or {@code null} if the input was null
     */
    public String input() {
        return input;
    }
}
