package io.github.podcidr.apiserver;

import java.time.DateTimeException;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;

/**
 * The two timestamp types of the Kubernetes API, parsed as Go's {@code time.Parse} parses them and written as
 * {@code metav1} writes them.
 *
 * <ul>
 *   <li>{@code metav1.Time} ({@code creationTimestamp}, an Event's {@code firstTimestamp}): layout
 *       {@code 2006-01-02T15:04:05Z07:00}; a fraction of any length is accepted and dropped; written in UTC at
 *       second precision: {@code 2024-01-01T00:00:00Z}.
 *   <li>{@code metav1.MicroTime} (a Lease's {@code renewTime}, an Event's {@code eventTime}): layout
 *       {@code 2006-01-02T15:04:05.000000Z07:00}, exactly six fraction digits; written in UTC with six digits.
 * </ul>
 * Both accept {@code Z} or an offset {@code +02:00}. A rejected value fails with Go's message, e.g.
 * {@code parsing time "2024-01-01T00:00:00Z" as "2006-01-02T15:04:05.000000Z07:00": cannot parse "Z" as ".000000"}.
 */
final class GoTime {
  static final String RFC3339 = "2006-01-02T15:04:05Z07:00";
  static final String RFC3339_MICRO = "2006-01-02T15:04:05.000000Z07:00";
  private static final DateTimeFormatter MICRO = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSS'Z'");
  private static final DateTimeFormatter SECONDS = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss'Z'");

  /** A value Go's parser refuses; the message is Go's. */
  static final class ParseError extends RuntimeException {
    private static final long serialVersionUID = 1L;

    ParseError(String message) {
      super(message, null, false, false);
    }
  }

  private GoTime() {}

  /** Parses {@code value} with the Time layout (micro false) or the MicroTime layout (micro true). */
  static OffsetDateTime parse(String value, boolean micro) {
    String layout = micro ? RFC3339_MICRO : RFC3339;
    Cursor c = new Cursor(value, layout);
    int year = c.number("2006", 4, false);
    c.literal("-");
    int month = c.number("01", 2, true);
    c.range(month, 1, 12, "month");
    c.literal("-");
    int day = c.number("02", 2, true);
    c.range(day, 1, 31, "day");
    c.literal("T");
    int hour = c.number("15", 2, true);
    c.range(hour, 0, 23, "hour");
    c.literal(":");
    int minute = c.number("04", 2, true);
    c.range(minute, 0, 59, "minute");
    c.literal(":");
    int second = c.number("05", 2, true);
    c.range(second, 0, 59, "second");
    int nanos = 0;
    if (micro) {
      nanos = c.fixedFraction(".000000", 6);
    } else if (c.rest.length() >= 2 && (c.rest.charAt(0) == '.' || c.rest.charAt(0) == ',')
        && Character.isDigit(c.rest.charAt(1))) {
      int n = 2;
      while (n < c.rest.length() && Character.isDigit(c.rest.charAt(n))) {
        n++;
      }
      String digits = c.rest.substring(1, Math.min(n, 10));
      nanos = Integer.parseInt((digits + "000000000").substring(0, 9));
      c.rest = c.rest.substring(n);
    }
    ZoneOffset zone = c.zone();
    if (!c.rest.isEmpty()) {
      throw new ParseError("parsing time " + goQuote(value) + ": extra text: " + goQuote(c.rest));
    }
    try {
      LocalDate.of(year, month, day);
    } catch (DateTimeException e) {
      throw new ParseError("parsing time " + goQuote(value) + ": day out of range");
    }
    return OffsetDateTime.of(year, month, day, hour, minute, second, nanos, zone);
  }

  /** How {@code metav1.MicroTime} is written: UTC, six fraction digits. */
  static String formatMicro(OffsetDateTime t) {
    return MICRO.format(t.withOffsetSameInstant(ZoneOffset.UTC).truncatedTo(ChronoUnit.MICROS));
  }

  /** How {@code metav1.Time} is written: UTC, whole seconds. */
  static String formatSeconds(OffsetDateTime t) {
    return SECONDS.format(t.withOffsetSameInstant(ZoneOffset.UTC));
  }

  /** Go's {@code strconv.Quote} for the printable ASCII this code meets. */
  static String goQuote(String s) {
    return Json.text(Json.NODES.textNode(s));
  }

  /** The remaining value and the layout, consumed element by element as Go's {@code time.Parse} does. */
  private static final class Cursor {
    private final String value;
    private final String layout;
    private String rest;

    Cursor(String value, String layout) {
      this.value = value;
      this.layout = layout;
      this.rest = value;
    }

    private ParseError bad(String valueElem, String layoutElem) {
      return new ParseError("parsing time " + goQuote(value) + " as " + goQuote(layout) + ": cannot parse "
          + goQuote(valueElem) + " as " + goQuote(layoutElem));
    }

    void literal(String prefix) {
      String v = rest;
      for (int i = 0; i < prefix.length(); i++) {
        if (v.isEmpty() || v.charAt(0) != prefix.charAt(i)) {
          throw bad(v, prefix);
        }
        v = v.substring(1);
      }
      rest = v;
    }

    /** A number of {@code digits} digits (fixed) or one-or-two digits (Go's getnum with fixed=true needs 2). */
    int number(String elem, int digits, boolean twoDigit) {
      String hold = rest;
      if (!twoDigit) {
        if (rest.length() < digits || !Character.isDigit(rest.charAt(0))) {
          throw bad(hold, elem);
        }
        String p = rest.substring(0, digits);
        if (!p.chars().allMatch(Character::isDigit)) {
          throw bad(hold, elem);
        }
        rest = rest.substring(digits);
        return Integer.parseInt(p);
      }
      if (rest.isEmpty() || !Character.isDigit(rest.charAt(0))) {
        throw bad(hold, elem);
      }
      if (rest.length() < 2 || !Character.isDigit(rest.charAt(1))) {
        throw bad(hold, elem); // getnum with fixed: a single digit is errBad
      }
      int n = (rest.charAt(0) - '0') * 10 + (rest.charAt(1) - '0');
      rest = rest.substring(2);
      return n;
    }

    void range(int n, int min, int max, String what) {
      if (n < min || n > max) {
        throw new ParseError("parsing time " + goQuote(value) + ": " + what + " out of range");
      }
    }

    int fixedFraction(String elem, int digits) {
      String hold = rest;
      if (rest.length() < digits + 1 || (rest.charAt(0) != '.' && rest.charAt(0) != ',')) {
        throw bad(hold, elem);
      }
      String d = rest.substring(1, digits + 1);
      if (!d.chars().allMatch(Character::isDigit)) {
        throw bad(hold, elem);
      }
      rest = rest.substring(digits + 1);
      return Integer.parseInt(d) * (int) Math.pow(10, 9 - digits);
    }

    ZoneOffset zone() {
      String hold = rest;
      if (!rest.isEmpty() && rest.charAt(0) == 'Z') {
        rest = rest.substring(1);
        return ZoneOffset.UTC;
      }
      if (rest.length() < 6 || rest.charAt(3) != ':') {
        throw bad(hold, "Z07:00");
      }
      char sign = rest.charAt(0);
      String hh = rest.substring(1, 3);
      String mm = rest.substring(4, 6);
      if ((sign != '+' && sign != '-') || !hh.chars().allMatch(Character::isDigit)
          || !mm.chars().allMatch(Character::isDigit)) {
        throw bad(hold, "Z07:00");
      }
      rest = rest.substring(6);
      int seconds = (Integer.parseInt(hh) * 60 + Integer.parseInt(mm)) * 60;
      try {
        return ZoneOffset.ofTotalSeconds(sign == '-' ? -seconds : seconds);
      } catch (DateTimeException e) {
        throw new ParseError("parsing time " + goQuote(value) + ": time zone offset out of range");
      }
    }
  }
}
