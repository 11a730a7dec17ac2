package io.github.podcidr.ipam;

import java.util.Objects;

/**
 * Thrown by {@link Cidr#parse(String)}, {@link Cidr#parseLenient(String)} and {@link Cidr#of(java.net.InetAddress,
 * int)} when a text or an address is not a CIDR they accept. The message quotes the input (escaped and cut to about
 * 100 characters, as it may come from anyone), says what was wrong and what was expected, e.g. {@code "10.0.0.1/8"
 * has host bits set; the network is 10.0.0.0/8}; {@link #reason()} says the same for programs.
 *
 * <p>Serializable: the input, the reason and the message travel; the stack trace as for any exception.
 */
public final class InvalidCidrException extends IpamException {
    private static final long serialVersionUID = 2L;

    /**
     * What was wrong with the input, one constant per kind of mistake, stable for programs (metrics, report entries).
     * The message gives the details.
     */
    public enum Reason {
        /** The input is null or the empty string. */
        EMPTY,
        /** The input contains whitespace (a space, a tab, a line break, a Unicode space) anywhere. */
        WHITESPACE,
        /** The input contains a character outside printable ASCII, e.g. an Arabic-Indic digit or a control character. */
        NON_ASCII,
        /** The address has a zone ({@code fe80::%eth0/64}); a CIDR has none. */
        ZONE,
        /** There is no {@code /} and prefix length. */
        NO_PREFIX,
        /** The prefix length is empty, not a decimal number, out of range for the family, or followed by another '/'. */
        BAD_PREFIX,
        /** The address is not an IPv4 or IPv6 address (wrong number of octets or groups, a bad digit, an octet > 255). */
        BAD_ADDRESS,
        /** Strict parsing only: a number is written with a leading zero (IPv4 octet or prefix length). */
        LEADING_ZERO,
        /** Strict parsing only: bits after the prefix length are set; the message names the network. */
        HOST_BITS_SET,
        /** The prefix lies in {@code ::ffff:0:0/96}, which some tools read as IPv4 and others as IPv6. */
        IPV4_MAPPED
    }

    /** The rejected text exactly as given; {@code null} when the input was null or an address. */
    private final String input;
    /** Why it was rejected; never null. */
    private final Reason reason;

    InvalidCidrException(String input, Reason reason, String message) {
        super(message);
        this.input = input;
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    /**
     * Returns the rejected text exactly as it was given (not escaped, not cut: quote it with care).
     *
     * @return the input, or {@code null} if the input was null or an {@link java.net.InetAddress}
     */
    public String input() {
        return input;
    }

    /**
     * Returns what was wrong, as a stable code.
     *
     * @return the reason, never null
     */
    public Reason reason() {
        return reason;
    }
}
