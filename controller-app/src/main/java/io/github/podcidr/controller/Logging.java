package io.github.podcidr.controller;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.Encoder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sets up Logback from the flags: one appender on standard error, text or JSON, a root level. The controller logs
 * with SLF4J 2's key-value API ({@code LOG.atInfo().setMessage("assigned").addKeyValue("node", n)...}), so the
 * fields never have to be read back out of the message: text lines show them as {@code key="value"} after the
 * message, and JSON lines (Logback's own {@link JsonEncoder}) carry them in {@code kvpList}.
 */
final class Logging {
    /** Text lines: UTC time, level, the class, the message, then the key-value pairs (none: no trailing space). */
    static final String TEXT_PATTERN = "%d{yyyy-MM-dd'T'HH:mm:ss.SSS'Z',UTC} %-5level %logger{0} - %msg"
            + "%replace( %kvp){'^ $', ''}%n";

    private Logging() {
    }

    /**
     * Replaces the logging configuration.
     *
     * @param format text or json
     * @param level error, warn, info, debug or trace
     */
    static void configure(LogFormat format, String level) {
        if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext ctx)) {
            return; // another SLF4J binding (e.g. in a test of another module): leave it alone
        }
        ctx.reset();
        ConsoleAppender<ILoggingEvent> appender = new ConsoleAppender<>();
        appender.setContext(ctx);
        appender.setName("stderr");
        appender.setTarget("System.err");
        appender.setEncoder(encoder(ctx, format));
        appender.start();
        ch.qos.logback.classic.Logger root = ctx.getLogger(Logger.ROOT_LOGGER_NAME);
        root.addAppender(appender);
        root.setLevel(Level.toLevel(level, Level.INFO));
        if (root.getLevel() == Level.INFO) {
            quietJetty(ctx);
        }
        silenceClientNoise(ctx);
    }

    /**
     * The encoder of a format. JSON: one object per line with {@code timestamp} (epoch milliseconds), {@code level},
     * {@code threadName}, {@code loggerName}, {@code formattedMessage}, {@code kvpList} (e.g.
     * {@code [{"node":"10.0.0.7"},{"cidr":"10.244.7.0/24"}]}) and {@code throwable} when there is one.
     */
    static Encoder<ILoggingEvent> encoder(LoggerContext ctx, LogFormat format) {
        Encoder<ILoggingEvent> encoder;
        if (format == LogFormat.JSON) {
            JsonEncoder json = new JsonEncoder();
            json.setWithSequenceNumber(false);
            json.setWithNanoseconds(false);
            json.setWithContext(false);
            json.setWithMDC(false);
            json.setWithMarkers(false);
            json.setWithMessage(false);
            json.setWithArguments(false);
            json.setWithFormattedMessage(true);
            encoder = json;
        } else {
            PatternLayoutEncoder text = new PatternLayoutEncoder();
            text.setPattern(TEXT_PATTERN);
            encoder = text;
        }
        encoder.setContext(ctx);
        encoder.start();
        return encoder;
    }

    /** Jetty's INFO lines (its version, each start and stop of a connector) say nothing the "started" line does not. */
    static void quietJetty(LoggerContext ctx) {
        ctx.getLogger("org.eclipse.jetty").setLevel(Level.WARN);
    }

    /** Drops the client's expected interruption lines only: see {@link ClientNoiseFilter}. */
    static void silenceClientNoise(LoggerContext ctx) {
        ClientNoiseFilter filter = new ClientNoiseFilter();
        filter.setContext(ctx);
        filter.start();
        ctx.addTurboFilter(filter);
    }
}
