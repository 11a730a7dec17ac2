package io.github.podcidr.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.podcidr.ipam.Cidr;
import io.kubernetes.client.openapi.models.V1Node;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The time of a node watch event from the connection to the informer's handler, against the simulator. */
class WatchDeliveryTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    private final SimFixture f = new SimFixture();
    private PodCidrController controller;

    @AfterEach
    void tearDown() {
        if (controller != null) {
            controller.close();
        }
        f.close();
    }

    @Test
    void everyWatchEventOfANewNodeIsTimedToTheHandlerAndListedNodesAreNot() throws Exception {
        f.createNodes("listed", 5); // read by the first LIST, not by the watch: never stamped
        List<Long> delivered = new CopyOnWriteArrayList<>();
        ControllerMetrics recorder = new ControllerMetrics() {
            @Override
            public void watchEventDelivered(long nanos) {
                delivered.add(nanos);
            }
        };
        controller = new PodCidrController(f.clients(), ControllerSettings.builder()
                .clusterCidrs(List.of(Cidr.parse("10.244.0.0/16"))).workers(2).build(), recorder, WriteFence.OPEN);
        controller.start();
        f.awaitAllAssigned(NodeSelector.all(), 1, WAIT);
        // the listed nodes' own patches come back as MODIFIED events: 5 deliveries
        SimFixture.await(WAIT, () -> delivered.size() >= 5, () -> "deliveries after the fill: " + delivered);
        Thread.sleep(300); // nothing else may come: the listed nodes' ADDED came from the LIST, unstamped
        int afterFill = delivered.size();
        assertEquals(5, afterFill, "one delivery per patch event of a listed node");
        f.createNodes("new", 7);
        f.awaitAllAssigned(NodeSelector.all(), 1, WAIT);
        // each new node: its ADDED event, then the MODIFIED event of its patch
        SimFixture.await(WAIT, () -> delivered.size() >= afterFill + 14,
                () -> "deliveries after 7 new nodes: " + (delivered.size() - afterFill));
        Thread.sleep(300);
        assertEquals(afterFill + 14, delivered.size(), "ADDED and MODIFIED of each new node, each once");
        assertTrue(delivered.stream().allMatch(n -> n >= 0 && n < WAIT.toNanos()), "durations: " + delivered);
    }

    @Test
    void stampsNeverDeliveredAreDroppedOnceTooManyArePending() {
        List<Long> delivered = new CopyOnWriteArrayList<>();
        WatchDelivery d = new WatchDelivery(new ControllerMetrics() {
            @Override
            public void watchEventDelivered(long nanos) {
                delivered.add(nanos);
            }
        });
        for (int i = 0; i < WatchDelivery.MAX_PENDING; i++) {
            d.read(node("n" + i, "1"));
        }
        assertEquals(WatchDelivery.MAX_PENDING, d.pending());
        d.read(node("last", "7"));
        assertEquals(1, d.pending(), "the stale stamps dropped at once, the new one kept");
        d.delivered(node("n1", "1"));
        assertEquals(List.of(), delivered, "a dropped stamp is not reported");
        d.delivered(node("last", "8"));
        assertEquals(List.of(), delivered, "another resourceVersion is another event");
        d.delivered(node("last", "7"));
        assertEquals(1, delivered.size());
        assertEquals(0, d.pending());
    }

    private static V1Node node(String name, String resourceVersion) {
        return new V1Node().metadata(new V1ObjectMeta().name(name).resourceVersion(resourceVersion));
    }
}
