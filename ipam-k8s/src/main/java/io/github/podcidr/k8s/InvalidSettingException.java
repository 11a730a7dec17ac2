package io.github.podcidr.k8s;

/**
 * A controller setting (node selector, taint rule, duration...) that cannot be used. The message quotes the value,
 * says what was wrong and what is expected, with an example, so that a command line can print it as it is.
 */
public final class InvalidSettingException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message what was wrong and what is expected
     */
    public InvalidSettingException(String message) {
        super(message);
    }
}
