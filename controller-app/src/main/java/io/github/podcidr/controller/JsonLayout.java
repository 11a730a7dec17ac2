package io.github.podcidr.controller;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.StackTraceElementProxy;
import ch.qos.logback.core.LayoutBase;
import java.time.Instant;
import java.util.HashSet;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One JSON object per log line, for log pipelines: {@code time}, {@code level}, {@code logger}, {@code thread},
 * {@code msg}, then every {@code key=value} field of the message as a string property (the controller writes
 * {@code node=} and {@code cidr=} that way), then {@code error} with the stack trace if there is one.
 *
 * <pre>{@code
 * {"time":"2026-01-01T00:00:00.123Z","level":"INFO","logger":"io.github.podcidr.k8s.PodCidrReconciler",
 *  "thread":"podcidr-worker-1","msg":"assigned node=10.0.0.7 cidr=10.244.7.0/24","node":"10.0.0.7",
 *  "cidr":"10.244.7.0/24"}
 * }</pre>
 * (on one line). A field whose name is one of the fixed ones is not repeated.
 */
public final class JsonLayout extends LayoutBase<ILoggingEvent> {
    /** {@code key=value}: a key of word characters, a value up to the next space; brackets and commas kept. */
    private static final Pattern FIELD = Pattern.compile("(?<![\\w.=])([a-z][a-z0-9_]*)=([^\\s]+)");
    private static final Set<String> FIXED = Set.of("time", "level", "logger", "thread", "msg", "error");

    @Override
    public String doLayout(ILoggingEvent event) {
        StringBuilder b = new StringBuilder(256);
        String msg = event.getFormattedMessage();
        b.append("{\"time\":\"").append(Instant.ofEpochMilli(event.getTimeStamp())).append('"');
        field(b, "level", event.getLevel().toString());
        field(b, "logger", event.getLoggerName());
        field(b, "thread", event.getThreadName());
        field(b, "msg", msg == null ? "" : msg);
        if (msg != null) {
            Matcher m = FIELD.matcher(msg);
            Set<String> seen = new HashSet<>(FIXED);
            while (m.find()) {
                if (seen.add(m.group(1))) {
                    field(b, m.group(1), m.group(2));
                }
            }
        }
        IThrowableProxy t = event.getThrowableProxy();
        if (t != null) {
            StringBuilder trace = new StringBuilder();
            appendThrowable(trace, t, "");
            field(b, "error", trace.toString());
        }
        return b.append("}\n").toString();
    }

    private static void appendThrowable(StringBuilder out, IThrowableProxy t, String prefix) {
        out.append(prefix).append(t.getClassName()).append(": ").append(t.getMessage());
        for (StackTraceElementProxy e : t.getStackTraceElementProxyArray()) {
            out.append("\n\tat ").append(e.getStackTraceElement());
        }
        if (t.getCause() != null) {
            appendThrowable(out.append('\n'), t.getCause(), "Caused by: ");
        }
    }

    private static void field(StringBuilder b, String name, String value) {
        b.append(",\"").append(name).append("\":\"");
        escape(b, value);
        b.append('"');
    }

    static void escape(StringBuilder b, String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
    }
}
