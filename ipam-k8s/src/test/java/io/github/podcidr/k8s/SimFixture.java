package io.github.podcidr.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.podcidr.apiserver.ApiServerSim;
import io.github.podcidr.apiserver.ResourceType;
import io.github.podcidr.ipam.Cidr;
import io.github.podcidr.ipam.IpFamily;
import io.github.podcidr.ipam.NodeAssignment;
import io.kubernetes.client.util.Config;
import java.io.StringReader;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * A simulated API server with helpers to create nodes, wait for convergence and check the invariants of the
 * architecture notes against what the API server holds: no subnet on two nodes, every selected node exactly one
 * subnet per family, and the controller's memory equal to the API's truth (so deleted nodes leave no leak).
 */
final class SimFixture implements AutoCloseable {
    static final JsonNodeFactory JSON = JsonNodeFactory.instance;
    /** The taint that the API server's admission (TaintNodesByCondition) appends to every node it creates. */
    static final String NOT_READY_TAINT = "node.kubernetes.io/not-ready";
    final ApiServerSim sim = ApiServerSim.start();

    ApiClientFactory clients() {
        return () -> Config.fromConfig(new StringReader(sim.kubeconfig()));
    }

    /** A node JSON with labels, taints ("key=value:Effect" or "key:Effect") and pod CIDRs. */
    static ObjectNode node(String name, Map<String, String> labels, List<String> taints, String... podCidrs) {
        ObjectNode n = JSON.objectNode();
        ObjectNode meta = n.putObject("metadata");
        meta.put("name", name);
        ObjectNode l = meta.putObject("labels");
        l.put("kubernetes.io/hostname", name);
        labels.forEach(l::put);
        ObjectNode spec = n.putObject("spec");
        if (!taints.isEmpty()) {
            ArrayNode ts = spec.putArray("taints");
            for (String t : taints) {
                ObjectNode o = ts.addObject();
                int colon = t.lastIndexOf(':');
                String kv = t.substring(0, colon);
                int eq = kv.indexOf('=');
                o.put("key", eq < 0 ? kv : kv.substring(0, eq));
                if (eq >= 0) {
                    o.put("value", kv.substring(eq + 1));
                }
                o.put("effect", t.substring(colon + 1));
            }
        }
        if (podCidrs.length > 0) {
            spec.put("podCIDR", podCidrs[0]);
            ArrayNode list = spec.putArray("podCIDRs");
            for (String c : podCidrs) {
                list.add(c);
            }
        }
        return n;
    }

    void createNode(String name, String... podCidrs) {
        sim.createNode(node(name, Map.of(), List.of(), podCidrs));
    }

    void createNodes(String prefix, int count) {
        for (int i = 0; i < count; i++) {
            createNode(prefix + i);
        }
    }

    List<String> podCidrs(String name) {
        ObjectNode n = sim.getNode(name);
        List<String> out = new ArrayList<>();
        if (n == null) {
            return out;
        }
        JsonNode list = n.at("/spec/podCIDRs");
        if (list.isArray()) {
            list.forEach(e -> out.add(e.asText()));
        } else if (n.at("/spec/podCIDR").isTextual()) {
            out.add(n.at("/spec/podCIDR").asText());
        }
        return out;
    }

    List<String> taintKeys(String name) {
        List<String> keys = new ArrayList<>();
        sim.getNode(name).at("/spec/taints").forEach(t -> keys.add(t.path("key").asText()));
        return keys;
    }

    List<ObjectNode> events(String reason) {
        List<ObjectNode> out = new ArrayList<>();
        for (ObjectNode e : sim.list(ResourceType.EVENTS, "default")) {
            if (reason.equals(e.path("reason").asText())) {
                out.add(e);
            }
        }
        return out;
    }

    long patches() {
        return sim.requests().count("patch", "nodes");
    }

    static void await(Duration limit, BooleanSupplier condition, Supplier<String> what) {
        long start = System.nanoTime();
        long deadline = start + limit.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("not reached within " + limit.toMillis() + " ms: " + what.get());
            }
            try {
                // poll often at first, then back off: some conditions read thousands of nodes from the simulator
                Thread.sleep(System.nanoTime() - start < 1_000_000_000L ? 20 : 250);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }

    /** Waits until every node the selector picks (and that is not being deleted) has one pod CIDR per family. */
    void awaitAllAssigned(NodeSelector selector, int families, Duration limit) {
        await(limit, () -> unassigned(selector, families).isEmpty(), () -> {
            List<String> missing = unassigned(selector, families);
            return missing.size() + " nodes without pod CIDRs, e.g. " + missing.subList(0, Math.min(10, missing.size()));
        });
    }

    List<String> unassigned(NodeSelector selector, int families) {
        List<String> missing = new ArrayList<>();
        for (ObjectNode n : sim.list(ResourceType.NODES, null)) {
            if (selected(n, selector) && !n.at("/metadata/deletionTimestamp").isTextual()
                    && podCidrs(n.at("/metadata/name").asText()).size() != families) {
                missing.add(n.at("/metadata/name").asText());
            }
        }
        return missing;
    }

    private static boolean selected(ObjectNode n, NodeSelector selector) {
        Map<String, String> labels = new HashMap<>();
        n.at("/metadata/labels").fields().forEachRemaining(e -> labels.put(e.getKey(), e.getValue().asText()));
        return selector.matches(labels);
    }

    /**
     * The invariants, against what the API server holds: no two nodes' pod CIDRs overlap (nodes in {@code exempt},
     * seeded with conflicts on purpose, aside); every selected node that is not being deleted has exactly one pod CIDR
     * per family, primary first, and the controller holds exactly those; the controller holds nothing for nodes the
     * API no longer has (no leak after deletions); the allocator's own invariants hold.
     */
    void assertInvariants(PodCidrController c, NodeSelector selector, Set<String> exempt) {
        List<IpFamily> families = c.ipam().families();
        List<Map.Entry<Cidr, String>> all = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (ObjectNode n : sim.list(ResourceType.NODES, null)) {
            String name = n.at("/metadata/name").asText();
            names.add(name);
            if (exempt.contains(name)) {
                continue;
            }
            List<String> cidrs = podCidrs(name);
            for (String text : cidrs) {
                all.add(Map.entry(Cidr.parse(text), name));
            }
            if (selected(n, selector) && !n.at("/metadata/deletionTimestamp").isTextual()) {
                assertEquals(families.size(), cidrs.size(), () -> name + " has " + cidrs);
                for (int i = 0; i < families.size(); i++) {
                    assertEquals(families.get(i), Cidr.parse(cidrs.get(i)).family(), name + " family order");
                }
                Optional<NodeAssignment> a = c.ipam().assignmentOf(name);
                assertTrue(a.isPresent(), () -> name + " is not held by the controller");
                assertEquals(cidrs, a.get().podCidrs(), name + ": controller and API disagree");
            }
        }
        // Sorted by address, any overlap shows up between neighbours.
        all.sort(Map.Entry.comparingByKey());
        for (int i = 1; i < all.size(); i++) {
            Map.Entry<Cidr, String> a = all.get(i - 1);
            Map.Entry<Cidr, String> b = all.get(i);
            assertTrue(!a.getKey().overlaps(b.getKey()),
                    () -> a.getKey() + " of " + a.getValue() + " overlaps " + b.getKey() + " of " + b.getValue());
        }
        Set<String> leaked = new TreeSet<>(c.ipam().nodeNames());
        leaked.removeAll(names);
        assertTrue(leaked.isEmpty(), () -> "the controller still holds subnets of deleted nodes " + leaked);
        io.github.podcidr.ipam.IpamInvariants.check(c.ipam());
    }

    @Override
    public void close() {
        sim.close();
    }
}
