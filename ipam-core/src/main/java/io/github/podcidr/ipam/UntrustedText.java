package io.github.podcidr.ipam;

/**
 * Quotes text that came from outside (a node's pod CIDR, a flag value) for messages, events and logs: control and
 * other non-printable characters are escaped, and the quoted text is cut to {@value #LIMIT} characters, so that a
 * hostile or broken value can neither forge a log line nor fill one.
 *
 * <pre>{@code
 * UntrustedText.quote("10.0.0.0/8\n");     // "10.0.0.0/8\n"   (backslash n, one line)
 * UntrustedText.quote("x".repeat(5000));   // "xxx…" (5000 characters)
 * }</pre>
 */
final class UntrustedText {
    /** Characters of the input shown at most; enough for any CIDR (the longest IPv6 one has 43). */
    static final int LIMIT = 100;

    private UntrustedText() {
    }

    /**
     * Returns the text in double quotes, escaped, cut to {@value #LIMIT} characters with an ellipsis and the original
     * length after the closing quote when it is longer; {@code null} gives the word null without quotes.
     */
    static String quote(String text) {
        if (text == null) {
            return "null";
        }
        int n = text.length();
        if (n <= LIMIT && isPlain(text)) {
            return "\"" + text + "\""; // the common case: nothing to escape or cut
        }
        int end = Math.min(n, LIMIT);
        if (end < n && Character.isHighSurrogate(text.charAt(end - 1))) {
            end--; // never cut a surrogate pair in half
        }
        StringBuilder sb = new StringBuilder(end + 32).append('"');
        appendEscaped(sb, text, 0, end);
        sb.append(end < n ? "…\" (" + n + " characters)" : "\"");
        return sb.toString();
    }

    /** Same as {@link #quote(String)} without the quotes, for a part of a text (never cut short of its limit). */
    static String excerpt(String text) {
        String q = quote(text);
        if (text == null) {
            return q;
        }
        int close = q.lastIndexOf('"');
        return q.substring(1, close) + q.substring(close + 1);
    }

    private static boolean isPlain(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < 0x20 || c >= 0x7F || c == '"' || c == '\\') {
                return false;
            }
        }
        return true;
    }

    private static void appendEscaped(StringBuilder sb, String text, int from, int to) {
        for (int i = from; i < to; ) {
            int cp = text.codePointAt(i);
            int width = Character.charCount(cp);
            switch (cp) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (isPrintable(cp)) {
                        sb.appendCodePoint(cp);
                    } else {
                        for (int k = i; k < i + width; k++) {
                            sb.append(String.format("\\u%04x", (int) text.charAt(k)));
                        }
                    }
                }
            }
            i += width;
        }
    }

    /** Printable: a visible character or a plain space; not a control, format, separator or unassigned code point. */
    private static boolean isPrintable(int cp) {
        if (cp == ' ') {
            return true;
        }
        switch (Character.getType(cp)) {
            case Character.CONTROL, Character.FORMAT, Character.UNASSIGNED, Character.PRIVATE_USE,
                    Character.SURROGATE, Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR,
                    Character.SPACE_SEPARATOR:
                return false;
            default:
                return true;
        }
    }
}
