package io.github.podcidr.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.github.podcidr.apiserver.ApiServerSim;
import io.prometheus.client.CollectorRegistry;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** A replica started without leader election says once, at WARN, that it must be the only one; with it, nothing. */
class ElectionOffWarningTest {
    @TempDir
    Path dir;

    @Test
    void oneWarningWhenElectionIsOffNoneWhenItIsOn() throws Exception {
        assertEquals(List.of(ControllerApp.ELECTION_OFF), warningsAboutElection("--leader-elect=false"));
        assertTrue(ControllerApp.ELECTION_OFF.startsWith("leader election is off: run exactly one replica"));
        assertEquals(List.of(), warningsAboutElection("--leader-elect=true"));
        assertEquals(List.of(), warningsAboutElection("--leader-elect=false", "--dry-run"), "a dry run writes nothing");
    }

    /** Starts and stops the controller with the flags; returns the WARN lines about leader election it logged. */
    private List<String> warningsAboutElection(String... extra) throws Exception {
        Logger logger = (Logger) LoggerFactory.getLogger(ControllerApp.class);
        ListAppender<ILoggingEvent> captured = new ListAppender<>();
        captured.start();
        logger.addAppender(captured);
        try (ApiServerSim sim = ApiServerSim.start()) {
            String[] args = Stream.concat(Stream.of("--kubeconfig=" + sim.writeKubeconfig(dir.resolve("kubeconfig")),
                    "--cluster-cidr=10.244.0.0/16", "--metrics-bind-address=0", "--health-probe-bind-address=0"),
                    Stream.of(extra)).toArray(String[]::new);
            ControllerFlags.Result r = ControllerFlags.parse(args, Map.of("POD_NAME", "replica-a"));
            assertTrue(r.ok(), () -> r.errors().toString());
            try (ControllerApp app = ControllerApp.start(r.flags(), KubeClients.of(r.flags().kubeconfig(), 50, 100,
                    false), new CollectorRegistry(), () -> { })) {
                long until = System.nanoTime() + 30_000_000_000L;
                while (!app.runner().isReady() && System.nanoTime() < until) {
                    Thread.sleep(50); // a stop mid-campaign logs the elector's own complaint
                }
            }
        } finally {
            logger.detachAppender(captured);
        }
        return captured.list.stream().filter(e -> e.getLevel() == Level.WARN)
                .map(ILoggingEvent::getFormattedMessage).filter(m -> m.contains("leader election")).toList();
    }
}
