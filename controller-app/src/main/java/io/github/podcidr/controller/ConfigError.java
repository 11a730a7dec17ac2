package io.github.podcidr.controller;

import java.util.Objects;

/**
 * One configuration error: the flag, the value given (null when the flag is missing) and what is wrong and expected.
 *
 * <pre>{@code
 * new ConfigError("workers", "0", "must be at least 1, e.g. --workers=4").toString()
 *     // --workers=0: must be at least 1, e.g. --workers=4
 * }</pre>
 *
 * @param flag the flag's name without dashes, or an argument description such as {@code argument 3}
 * @param value the value as given, or null if the flag was not given
 * @param message what is wrong and what is expected, with an example
 */
public record ConfigError(String flag, String value, String message) {
    /**
     * Creates an error.
     *
     * @param flag the flag's name without dashes
     * @param value the value given, or null
     * @param message what is wrong and expected
     */
    public ConfigError {
        Objects.requireNonNull(flag, "flag");
        Objects.requireNonNull(message, "message");
    }

    @Override
    public String toString() {
        String name = flag.startsWith("argument") ? flag : "--" + flag;
        return value == null ? name + ": " + message : name + "=" + quote(value) + ": " + message;
    }

    private static String quote(String v) {
        return v.isEmpty() || v.chars().anyMatch(Character::isWhitespace) ? "'" + v + "'" : v;
    }
}
