package io.github.podcidr.controller;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.PatternLayout;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.LayoutBase;
import ch.qos.logback.core.encoder.LayoutWrappingEncoder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Sets up Logback from the flags: one appender on standard error, text or JSON, a root level. */
final class Logging {
    /** Text lines: UTC time, level, the class, the message (which carries node= and cidr= fields). */
    static final String TEXT_PATTERN = "%d{yyyy-MM-dd'T'HH:mm:ss.SSS'Z',UTC} %-5level %logger{0} - %msg%n";

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
        LayoutBase<ILoggingEvent> layout;
        if (format == LogFormat.JSON) {
            layout = new JsonLayout();
        } else {
            PatternLayout p = new PatternLayout();
            p.setPattern(TEXT_PATTERN);
            layout = p;
        }
        layout.setContext(ctx);
        layout.start();
        LayoutWrappingEncoder<ILoggingEvent> encoder = new LayoutWrappingEncoder<>();
        encoder.setContext(ctx);
        encoder.setLayout(layout);
        encoder.start();
        ConsoleAppender<ILoggingEvent> appender = new ConsoleAppender<>();
        appender.setContext(ctx);
        appender.setName("stderr");
        appender.setTarget("System.err");
        appender.setEncoder(encoder);
        appender.start();
        ch.qos.logback.classic.Logger root = ctx.getLogger(Logger.ROOT_LOGGER_NAME);
        root.addAppender(appender);
        root.setLevel(Level.toLevel(level, Level.INFO));
        silenceClientNoise(ctx);
    }

    /**
     * The client's informer logs ERROR "processor interrupted" (ProcessorListener) and "processLoop get interrupted"
     * (cache.Controller) every time an informer is stopped on purpose, which the controller does at every loss of
     * leadership and shutdown. They are never a failure here, so these two loggers are switched off (the same lines
     * are in logback.xml for the time before the flags are read).
     */
    static void silenceClientNoise(LoggerContext ctx) {
        ctx.getLogger("io.kubernetes.client.informer.cache.ProcessorListener").setLevel(Level.OFF);
        ctx.getLogger("io.kubernetes.client.informer.cache.Controller").setLevel(Level.OFF);
    }
}
