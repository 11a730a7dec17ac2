package io.github.podcidr.apiserver;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * kube-apiserver's {@code timeout} query parameter of non-long-running requests (Go duration syntax, e.g.
 * {@code 1500ms}, {@code 2s}, {@code 1m30s}): the handler runs under a context with that deadline, so a request
 * still waiting when it passes is not carried out, and the client gets 504 {@code Timeout}. An unparsable value is
 * ignored (the server's default applies), as the real server ignores it.
 */
final class RequestTimeout {
  private static final Pattern PART = Pattern.compile("(\\d+(?:\\.\\d*)?|\\.\\d+)(ns|us|µs|ms|s|m|h)");

  private RequestTimeout() {
  }

  /** The timeout, or null when absent, unparsable, zero or negative. */
  static Duration parse(String text) {
    if (text == null || text.isEmpty()) {
      return null;
    }
    Matcher m = PART.matcher(text);
    long nanos = 0;
    int end = 0;
    while (m.find() && m.start() == end) {
      BigDecimal n = new BigDecimal(m.group(1).startsWith(".") ? "0" + m.group(1) : m.group(1));
      long unit = switch (m.group(2)) {
        case "ns" -> 1L;
        case "us", "µs" -> 1_000L;
        case "ms" -> 1_000_000L;
        case "s" -> 1_000_000_000L;
        case "m" -> 60_000_000_000L;
        default -> 3_600_000_000_000L;
      };
      nanos += n.multiply(BigDecimal.valueOf(unit)).longValue();
      end = m.end();
    }
    if (end != text.length() || end == 0 || nanos <= 0) {
      return null;
    }
    return Duration.ofNanos(nanos);
  }

  /** What the server answers when the deadline passes: 504, reason Timeout. */
  static StatusException exceeded(Duration timeout) {
    return new StatusException(504, "Timeout",
        "Timeout: request did not complete within requested timeout " + goString(timeout), null, 0);
  }

  /** Go's {@code time.Duration.String} for whole milliseconds and above, e.g. {@code 1.5s}, {@code 250ms}. */
  static String goString(Duration d) {
    long ms = d.toMillis();
    if (ms < 1000) {
      return ms + "ms";
    }
    return BigDecimal.valueOf(ms, 3).stripTrailingZeros().toPlainString() + "s";
  }
}
