package io.github.podcidr.controller;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.spi.FilterReply;
import org.slf4j.Marker;

/**
 * Drops the two ERROR lines client-java's informer prints every time an informer is stopped on purpose, which the
 * controller does at every loss of leadership and at shutdown: {@code processor interrupted: ...}
 * (ProcessorListener) and {@code DefaultController#processLoop get interrupted ...} (cache.Controller). Everything
 * else these loggers say still shows, in particular {@code failed invoking ... event handler}, a real failure.
 * Installed by {@link Logging} and by {@code logback.xml} for the time before the flags are read.
 */
public final class ClientNoiseFilter extends TurboFilter {
    private static final String PROCESSOR_LISTENER = "io.kubernetes.client.informer.cache.ProcessorListener";
    private static final String CONTROLLER = "io.kubernetes.client.informer.cache.Controller";

    @Override
    public FilterReply decide(Marker marker, Logger logger, Level level, String format, Object[] params,
                              Throwable t) {
        if (format == null || logger == null) {
            return FilterReply.NEUTRAL;
        }
        String name = logger.getName();
        if (PROCESSOR_LISTENER.equals(name) && format.startsWith("processor interrupted")
                || CONTROLLER.equals(name) && format.startsWith("DefaultController#processLoop get interrupted")) {
            return FilterReply.DENY;
        }
        return FilterReply.NEUTRAL;
    }
}
