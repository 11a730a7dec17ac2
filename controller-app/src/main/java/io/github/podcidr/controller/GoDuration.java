package io.github.podcidr.controller;

import java.math.BigDecimal;
import java.time.Duration;

/**
 * Durations in Go's {@code time.ParseDuration} syntax, as the Go podcidr-controller's flags take them.
 *
 * <pre>{@code
 * GoDuration.parse("15s");      // PT15S
 * GoDuration.parse("1m30s");    // PT1M30S
 * GoDuration.parse("1.5h");     // PT1H30M
 * GoDuration.format(Duration.ofMillis(1500));   // "1.5s"
 * }</pre>
 *
 * <p>Accepted: one or more decimal numbers each followed by a unit, {@code ns}, {@code us} (or {@code µs}),
 * {@code ms}, {@code s}, {@code m}, {@code h}, optionally signed; and the bare {@code 0}. Rejected: a number without
 * a unit ({@code "15"}), an unknown unit ({@code "2d"}), spaces, an empty string.
 */
public final class GoDuration {
    private GoDuration() {
    }

    /**
     * Parses a Go duration.
     *
     * @param text e.g. {@code 15s}, {@code 1m30s}, {@code 500ms}
     * @return the duration
     * @throws IllegalArgumentException saying what is wrong, e.g. a missing unit
     */
    public static Duration parse(String text) {
        Duration d = tryParse(text);
        if (d == null) {
            throw new IllegalArgumentException(problem(text));
        }
        return d;
    }

    /**
     * Tells whether a text is a Go duration.
     *
     * @param text the text
     * @return true if {@link #parse} accepts it
     */
    public static boolean isValid(String text) {
        return tryParse(text) != null;
    }

    /** What is wrong with a text that does not parse. */
    static String problem(String text) {
        if (text == null || text.isEmpty()) {
            return "is empty; expected a Go duration such as 15s, 1m30s or 500ms";
        }
        if (text.chars().allMatch(Character::isDigit)) {
            return "has no unit; expected a Go duration such as " + text + "s (units: ns, us, ms, s, m, h)";
        }
        return "is not a Go duration; expected numbers with units ns, us, ms, s, m, h, e.g. 15s, 1m30s, 500ms";
    }

    private static Duration tryParse(String text) {
        if (text == null || text.isEmpty()) {
            return null;
        }
        int i = 0;
        boolean negative = false;
        if (text.charAt(0) == '-' || text.charAt(0) == '+') {
            negative = text.charAt(0) == '-';
            i++;
        }
        if (text.substring(i).equals("0")) {
            return Duration.ZERO;
        }
        if (i == text.length()) {
            return null;
        }
        BigDecimal nanos = BigDecimal.ZERO;
        while (i < text.length()) {
            int start = i;
            while (i < text.length() && (Character.isDigit(text.charAt(i)) || text.charAt(i) == '.')) {
                i++;
            }
            String number = text.substring(start, i);
            if (number.isEmpty() || number.equals(".") || number.indexOf('.') != number.lastIndexOf('.')) {
                return null;
            }
            int unitStart = i;
            while (i < text.length() && !Character.isDigit(text.charAt(i)) && text.charAt(i) != '.') {
                i++;
            }
            long unitNanos = unitNanos(text.substring(unitStart, i));
            if (unitNanos == 0) {
                return null;
            }
            nanos = nanos.add(new BigDecimal(number).multiply(BigDecimal.valueOf(unitNanos)));
        }
        if (nanos.compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) > 0) {
            return null; // Go's limit too: about 290 years
        }
        long n = nanos.longValue();
        return Duration.ofNanos(negative ? -n : n);
    }

    /** Nanoseconds per unit, or 0 for an unknown unit. */
    private static long unitNanos(String unit) {
        return switch (unit) {
            case "ns" -> 1L;
            case "us", "µs", "μs" -> 1_000L;
            case "ms" -> 1_000_000L;
            case "s" -> 1_000_000_000L;
            case "m" -> 60_000_000_000L;
            case "h" -> 3_600_000_000_000L;
            default -> 0L;
        };
    }

    /**
     * Formats a duration the way Go prints one: {@code 15s}, {@code 1m30s}, {@code 500ms}, {@code 1.5s}.
     *
     * @param d the duration
     * @return Go's text for it
     */
    public static String format(Duration d) {
        if (d.isZero()) {
            return "0s";
        }
        if (d.isNegative()) {
            return "-" + format(d.negated());
        }
        long nanos = d.toNanos();
        if (nanos < 1_000_000_000L) {
            if (nanos % 1_000_000L == 0) {
                return nanos / 1_000_000L + "ms";
            }
            if (nanos % 1_000L == 0) {
                return nanos / 1_000L + "us";
            }
            return nanos + "ns";
        }
        StringBuilder b = new StringBuilder();
        long hours = d.toHours();
        long minutes = d.toMinutesPart();
        if (hours > 0) {
            b.append(hours).append('h');
        }
        if (hours > 0 || minutes > 0) {
            b.append(minutes).append('m');
        }
        BigDecimal seconds = BigDecimal.valueOf(d.toSecondsPart())
                .add(BigDecimal.valueOf(d.toNanosPart(), 9)).stripTrailingZeros();
        b.append(seconds.toPlainString()).append('s');
        return b.toString();
    }
}
