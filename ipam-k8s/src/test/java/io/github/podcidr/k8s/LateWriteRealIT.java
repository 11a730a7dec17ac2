package io.github.podcidr.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.podcidr.apiserver.NodeGenerator;
import io.github.podcidr.apiserver.real.RealControlPlane;
import io.github.podcidr.ipam.Cidr;
import io.kubernetes.client.util.Config;
import java.io.StringReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Two kube-apiservers on one etcd, the second's path to etcd through a {@link StallProxy} that delays it: what a real
 * server does with a write whose storage call outlives its deadline, and what the controller does when its leader
 * sits behind that server (issue 26, item 3).
 */
class LateWriteRealIT extends RealTier {
    private static final Duration CONVERGE = Duration.ofSeconds(90);

    private StallProxy proxy;
    private RealControlPlane second;

    @BeforeEach
    void secondServer() throws Exception {
        URI etcd = URI.create(f.cp.etcdUrl());
        proxy = new StallProxy(etcd.getHost(), etcd.getPort());
        second = f.cp.secondApiServer(proxy.url());
    }

    @AfterEach
    void stopSecond() {
        if (proxy != null) {
            proxy.delay(Duration.ZERO);
        }
        if (second != null) {
            second.close();
        }
        if (proxy != null) {
            proxy.close();
        }
    }

    /** The premise the simulator's {@code Faults.applyLate} copies: answered with an error, stored afterwards. */
    @Test
    void aPatchAnsweredWithATimeoutIsStoredWhenItReachesEtcd() throws Exception {
        f.createNode(new NodeGenerator(31).node(0));
        String name = NodeGenerator.name(0);
        HttpClient http = HttpClient.newBuilder().sslContext(second.sslContext())
                .version(HttpClient.Version.HTTP_1_1).build();
        proxy.delay(Duration.ofSeconds(2));
        long t0 = System.nanoTime();
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(second.baseUrl() + "/api/v1/nodes/"
                        + name + "?timeout=300ms"))
                .header("Authorization", "Bearer " + second.adminToken())
                .header("Content-Type", "application/merge-patch+json")
                .method("PATCH", HttpRequest.BodyPublishers.ofString(
                        "{\"metadata\":{\"labels\":{\"late\":\"yes\"}}}"))
                .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
        double answeredAfter = (System.nanoTime() - t0) / 1e9;
        // 504 from the timeout filter, or 500 "context deadline exceeded" when the storage call's own deadline
        // returns first: an error either way, and either way the transaction is on its way to etcd
        assertTrue(r.statusCode() == 504 || r.statusCode() == 500 && r.body().contains("context deadline exceeded"),
                r.statusCode() + " " + r.body());
        assertTrue(f.node(name).at("/metadata/labels/late").isMissingNode(), "not stored when answered");
        proxy.delay(Duration.ZERO);
        RealFixture.await(Duration.ofSeconds(30), () -> "yes".equals(f.node(name).at("/metadata/labels/late").asText()),
                () -> "the 504'd patch stored when it reached etcd");
        double storedAfter = (System.nanoTime() - t0) / 1e9;
        System.out.printf("[late-write-real] PATCH ?timeout=300ms behind a 2 s delay to etcd: answered %d after %.2f s,"
                + " stored %.2f s after it was sent%n", r.statusCode(), answeredAfter, storedAfter);
    }

    /**
     * The leader's API server's path to etcd slows to 8 s mid-fill (more than the lease); a standby on the other server
     * takes over and hands out subnets while whatever the old leader sent still travels, then reaches etcd after the
     * takeover. No two nodes overlap.
     */
    @Test
    void aLeaderBehindAStalledServerIsReplacedAndItsLateWritesDoNoHarm() throws Exception {
        ControllerSettings settings = ControllerSettings.builder()
                .clusterCidrs(List.of(Cidr.parse("10.244.0.0/16"))).workers(16).build();
        replicas = new RealReplicas(f, settings, Duration.ofSeconds(4), Duration.ofSeconds(3),
                Duration.ofMillis(500));
        String token = f.cp.serviceAccountToken(RealFixture.NAMESPACE, RealFixture.SERVICE_ACCOUNT);
        String viaSecond = second.kubeconfig(token);
        RealReplicas.Replica old = replicas.start("behind-the-stall",
                () -> Config.fromConfig(new StringReader(viaSecond)));
        RealFixture.await(CONVERGE, old::leads, () -> "the replica on the second server leads");
        RealReplicas.Replica next = replicas.start("on-the-first");

        NodeGenerator gen = new NodeGenerator(32);
        f.createNodes(nodes(gen, 0, 40), 4);
        RealFixture.await(CONVERGE, () -> old.assigned.get() == 40, () -> old.assigned + " of 40 assigned");

        // 40 more, and the stall as they arrive: some of the old leader's journal updates and node writes get
        // through, some wait in front of etcd, as in a real incident.
        List<ObjectNode> burst = nodes(gen, 40, 80);
        Thread creator = new Thread(() -> {
            try {
                f.createNodes(burst, 4);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        creator.start();
        RealFixture.await(CONVERGE, () -> old.nodeWrites.size() > 44, () -> "the old leader writes the burst");
        proxy.delay(Duration.ofSeconds(8)); // longer than the lease: renewals time out, the writes sent now land late
        long stalledAt = System.nanoTime();
        creator.join();
        RealFixture.await(CONVERGE, next::leads, () -> "the replica on the first server takes over");
        double takeover = (System.nanoTime() - stalledAt) / 1e9;
        f.createNodes(nodes(gen, 80, 100), 4);
        proxy.delay(Duration.ZERO); // what is on its way still arrives 8 s after it was sent
        long resumedAt = System.nanoTime();

        Map<String, ObjectNode> stored = awaitAssigned(100);
        RealFixture.assertNoOverlap(stored, List.of());
        long sentInStall = old.nodeWrites.stream().filter(w -> w.getKey() >= stalledAt).count();
        System.out.printf("[late-write-real] stall to takeover %.2f s; the old leader sent %d node writes after the"
                        + " stall began; all 100 nodes assigned %.2f s after the stall ended, no overlap%n", takeover,
                sentInStall, (System.nanoTime() - resumedAt) / 1e9);
        assertEquals(List.of(), replicas.violations, "no node write sent while the Lease named another holder");
    }

    /**
     * A graceful stop (the SIGTERM path: {@code ControllerRunner.close}) while 16 node writes are held by a slow
     * storage path: the leader's node writes go through the second server, whose path to etcd takes 6.5 s, and its Lease
     * requests through the first, as two API servers behind one load balancer can split them (issue 26, item 4). The
     * release is stored after every write the leader saw answered. A write left unanswered at its deadline may still be
     * stored after the release (kube-apiserver 1.20 finishes a storage call its client gave up on; one CI run stored
     * one 4 resourceVersions after the release): each such write must be in the intent journal the leader leaves
     * behind, with the CIDRs it carried, so that whoever takes over holds them for that node.
     */
    @Test
    void aGracefulStopReleasesTheLeaseOnlyAfterTheWritesItSentAreStored() throws Exception {
        // 6.5 s: longer than the 5 s the workers get (so waiting for them is not what orders the release), shorter
        // than the writes' deadlines (so each is answered: what lands after its deadline is the intent journal's job)
        ControllerSettings settings = ControllerSettings.builder().clusterCidrs(List.of(Cidr.parse("10.244.0.0/16")))
                .workers(16).requestTimeout(Duration.ofSeconds(20)).build();
        replicas = new RealReplicas(f, settings, Duration.ofSeconds(15), Duration.ofSeconds(10),
                Duration.ofSeconds(2));
        String token = f.cp.serviceAccountToken(RealFixture.NAMESPACE, RealFixture.SERVICE_ACCOUNT);
        String viaSecond = second.kubeconfig(token);
        RealReplicas.Replica leader = replicas.start("split", () -> Config.fromConfig(new StringReader(viaSecond)),
                f.controllerClients());
        RealFixture.await(CONVERGE, leader::leads, () -> "leads");
        proxy.delay(Duration.ofMillis(6_500));
        f.createNodes(nodes(new NodeGenerator(33), 0, 16), 4);
        RealFixture.await(CONVERGE, () -> leader.nodeWrites.size() >= 16, () -> leader.nodeWrites.size()
                + " of 16 node writes sent");
        long t0 = System.nanoTime();
        leader.runner.close(Duration.ofSeconds(25));
        double stopped = (System.nanoTime() - t0) / 1e9;
        proxy.delay(Duration.ZERO);

        JsonNode lease = f.lease();
        assertEquals("", lease.at("/spec/holderIdentity").asText(""), "released");
        long released = Long.parseLong(lease.at("/metadata/resourceVersion").asText());
        Thread.sleep(8_000); // whatever was on its way to etcd has arrived
        Map<String, List<String>> journal = journalIntents();
        List<ObjectNode> written = f.nodes().values().stream().filter(n -> !RealFixture.podCidrs(n).isEmpty())
                .toList();
        int late = 0;
        for (ObjectNode n : written) {
            String name = n.at("/metadata/name").asText();
            long rv = Long.parseLong(n.at("/metadata/resourceVersion").asText());
            if (leader.assignedNodes.contains(name)) {
                assertTrue(rv < released, name + ": answered 200, stored at " + rv + ", after the release at "
                        + released);
            }
            if (rv > released) {
                late++;
                assertEquals(RealFixture.podCidrs(n), journal.get(name), name + " stored at " + rv + ", after the"
                        + " release at " + released + ": the journal must hold its intent");
            }
        }
        System.out.printf("[late-write-real] graceful stop with 16 writes held 6.5 s in the storage path: close took"
                + " %.2f s; release stored at resourceVersion %d; %d node writes stored (%d answered 200 before the"
                + " release), %d stored after it, each in the journal (%d intents)%n", stopped, released,
                written.size(), leader.assignedNodes.size(), late, journal.size());
        // Not every run sees an answer before the release: the answers come back through the same slow path, and on
        // a loaded machine all 16 can pass their deadlines first (a CI run stored 12 before the release, none
        // answered in time). Then the first property holds trivially and the journal's is the one tested; the sim's
        // LeaderElectionTest covers writes answered before a release.
        assertFalse(written.isEmpty(), "some of the 16 writes were stored");
    }

    /** The intents the journal's Lease holds: node name to CIDRs. */
    private static Map<String, List<String>> journalIntents() throws Exception {
        JsonNode intents = f.journal();
        Map<String, List<String>> out = new HashMap<>();
        if (intents == null) {
            return out;
        }
        String json = intents.at("/metadata/annotations").path(IntentJournal.ANNOTATION).asText("[]");
        for (JsonNode i : RealFixture.JSON.readTree(json)) {
            List<String> cidrs = new ArrayList<>();
            i.path("cidrs").forEach(c -> cidrs.add(c.asText()));
            out.put(i.path("node").asText(), cidrs);
        }
        return out;
    }

    private static List<ObjectNode> nodes(NodeGenerator gen, int from, int to) {
        List<ObjectNode> out = new ArrayList<>();
        for (int i = from; i < to; i++) {
            out.add(gen.node(i));
        }
        return out;
    }

    private static Map<String, ObjectNode> awaitAssigned(int expected) {
        Map<String, ObjectNode>[] last = new Map[] {Map.of()};
        RealFixture.await(CONVERGE, () -> {
            last[0] = f.nodes();
            return last[0].size() == expected
                    && last[0].values().stream().allMatch(n -> !RealFixture.podCidrs(n).isEmpty());
        }, () -> last[0].values().stream().filter(n -> RealFixture.podCidrs(n).isEmpty()).count()
                + " of " + last[0].size() + " nodes without pod CIDRs");
        return last[0];
    }
}
