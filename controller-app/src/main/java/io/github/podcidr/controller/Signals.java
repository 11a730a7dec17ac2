package io.github.podcidr.controller;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * SIGTERM and SIGINT handling. The JVM's default turns SIGTERM into exit code 143 after the shutdown hooks; a pod
 * stopped on purpose should exit 0 after its graceful stop, so the controller takes these signals itself (through
 * {@code sun.misc.Signal}, of the {@code jdk.unsupported} module, the supported way to do so on the JDK) and returns
 * from {@code main} normally.
 */
final class Signals {
    private static final Logger LOG = LoggerFactory.getLogger(Signals.class);

    private Signals() {
    }

    /**
     * Calls {@code action} on SIGTERM or SIGINT (once per signal; the action must be idempotent).
     *
     * @param action what to do
     */
    static void onTerminate(Runnable action) {
        for (String name : new String[] {"TERM", "INT"}) {
            try {
                sun.misc.Signal.handle(new sun.misc.Signal(name), s -> {
                    LOG.info("received SIG{}; stopping gracefully", name);
                    action.run();
                });
            } catch (IllegalArgumentException e) {
                // the JVM keeps this signal (e.g. run with -Xrs): the shutdown hook still stops gracefully
                LOG.warn("cannot handle SIG{}: {}", name, e.getMessage());
            }
        }
    }
}
