package io.github.podcidr.k8s;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.podcidr.ipam.Cidr;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A leader whose node cache cannot sync (every node LIST refused) gives up its term after the cache sync timeout:
 * {@code onLeadershipLost} is called (the process exits 1), and health fails from the deadline on. The same on the
 * real control plane with RBAC that forbids {@code list nodes}: {@code CacheSyncTimeoutRealIT} in controller-app.
 */
class CacheSyncTimeoutTest {
    private final SimFixture f = new SimFixture();
    private ControllerRunner runner;

    @AfterEach
    void tearDown() {
        if (runner != null) {
            runner.close();
        }
        f.close();
    }

    @Test
    void aLeaderThatCannotListNodesGivesUpAfterTheTimeoutAndIsUnhealthy() throws Exception {
        f.createNodes("n", 5);
        f.sim.faults().failRate("list", "nodes", 1.0, 403);
        ControllerSettings settings = ControllerSettings.builder().clusterCidrs(List.of(Cidr.parse("10.244.0.0/16")))
                .cacheSyncTimeout(Duration.ofSeconds(2)).build();
        LeaderElectionSettings election = LeaderElectionSettings.defaults("kube-system", "podcidr-controller",
                "replica-a").withDurations(Duration.ofSeconds(3), Duration.ofSeconds(2), Duration.ofMillis(300));
        AtomicInteger lost = new AtomicInteger();
        runner = new ControllerRunner(f.clients(), settings, election, ControllerMetrics.NONE, lost::incrementAndGet);
        runner.start();
        SimFixture.await(Duration.ofSeconds(10), runner::isLeader, () -> "leads");
        long leading = System.nanoTime();
        Thread.sleep(1_000);
        assertTrue(runner.isHealthy(), "within the cache sync timeout a leader that is not ready yet is healthy");
        assertFalse(runner.isReady());

        SimFixture.await(Duration.ofSeconds(10), () -> lost.get() == 1, () -> "the term given up");
        double seconds = (System.nanoTime() - leading) / 1e9;
        assertTrue(seconds >= 1.5, "not before the timeout: " + seconds);
        assertFalse(runner.isHealthy(), "past the timeout, a leader that is not ready is unhealthy");
        assertFalse(runner.isReady());
    }
}
