package io.github.podcidr.controller;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.podcidr.ipam.NodeReport;
import io.github.podcidr.ipam.PoolOccupancy;
import io.github.podcidr.ipam.PoolStats;
import io.github.podcidr.k8s.LeaderLease;
import io.github.podcidr.k8s.NodeProblem;
import java.time.Instant;
import java.util.List;

/**
 * Writes a {@link StatusSnapshot} as JSON ({@code /status.json}), with Jackson (already a dependency), so every
 * string is escaped by the encoder. The figures are those of the HTML page; each pool's picture is a string of one
 * character per cell ({@link #MAP_LEGEND}). With named node groups, each pool names its {@code group}, {@code groups}
 * gives each group's totals per family and {@code waitingForRoom.groupOfNode} the group of each listed waiting node;
 * without them these are left out.
 */
final class StatusJson {
    /** How a pool's {@code map} string reads, also written into the JSON. */
    static final String MAP_LEGEND = "one character per cell, in address order, row by row (columns per row):"
            + " 'x' holds a subnet claimed by two nodes; a cell of one subnet: '.' free, 'a' allocated, 'r' reserved;"
            + " a cell of a block of subnets: '.' nothing in use, '1'-'9' partly in use (ninths, rounded up), '#'"
            + " every subnet in use";
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private StatusJson() {
    }

    /**
     * Writes the JSON document.
     *
     * @param s the snapshot
     * @return the JSON text, one line
     */
    static String write(StatusSnapshot s) {
        ObjectNode root = MAPPER.createObjectNode();
        root.put("takenAt", s.takenAt().toString()).put("version", s.version()).put("identity", s.identity())
                .put("role", s.role().name().toLowerCase(java.util.Locale.ROOT)).put("ready", s.ready())
                .put("leaderElection", s.electionEnabled());
        ObjectNode leader = root.putObject("leader");
        LeaderLease l = s.lease();
        if (!s.electionEnabled()) {
            leader.put("holder", s.identity());
        } else if (l != null) {
            leader.put("holder", l.holder()).put("acquired", text(l.acquired())).put("renewed", text(l.renewed()))
                    .put("leaseDurationSeconds", l.leaseDurationSeconds()).put("transitions", l.transitions())
                    .put("seenAt", text(l.seenAt()));
        } else {
            leader.putNull("holder");
        }
        ArrayNode families = root.putArray("families");
        for (StatusSnapshot.FamilyTotals f : s.families()) {
            families.addObject().put("family", StatusHtml.family(f.family())).put("capacity", f.capacity())
                    .put("allocated", f.allocated()).put("reserved", f.reserved()).put("free", f.free());
        }
        boolean grouped = s.namedGroups();
        if (grouped) {
            ArrayNode groups = root.putArray("groups");
            ObjectNode group = null;
            for (StatusSnapshot.GroupTotals g : s.groupTotals()) {
                if (group == null || !group.get("name").asText().equals(g.group())) {
                    group = groups.addObject().put("name", g.group());
                    group.putArray("families");
                }
                ((ArrayNode) group.get("families")).addObject().put("family", StatusHtml.family(g.family()))
                        .put("capacity", g.capacity()).put("allocated", g.allocated()).put("reserved", g.reserved())
                        .put("free", g.free());
            }
        }
        ArrayNode pools = root.putArray("pools");
        for (StatusSnapshot.Pool p : s.pools()) {
            PoolStats st = p.stats();
            PoolOccupancy o = p.occupancy();
            ObjectNode pool = pools.addObject();
            if (grouped) {
                pool.put("group", p.group());
            }
            pool.put("cidr", st.cluster().toString()).put("family", StatusHtml.family(st.family()))
                    .put("nodeMask", st.nodePrefixLength()).put("capacity", st.capacity())
                    .put("allocated", st.allocated()).put("reserved", st.reserved()).put("free", st.free())
                    .put("cells", o.cells()).put("subnetsPerCell", o.subnetsPerCell()).put("columns", p.columns())
                    .put("conflictCells", p.conflictCells().cardinality()).put("map", map(p));
        }
        root.put("mapLegend", MAP_LEGEND);
        ObjectNode waiting = root.putObject("waitingForRoom");
        capped(waiting, s.waiting().total(), s.waiting().items(), s.waiting().more());
        if (grouped) {
            ObjectNode groupOf = waiting.putObject("groupOfNode");
            s.waiting().items().forEach(n -> {
                String g = s.groupOfNode().get(n);
                if (g != null) {
                    groupOf.put(n, g);
                }
            });
        }
        capped(root.putObject("failingClosed"), s.failingClosed().total(), s.failingClosed().items(),
                s.failingClosed().more());
        ObjectNode problems = root.putObject("problemNodes");
        problems.put("total", s.problemNodes().total()).put("more", s.problemNodes().more());
        ObjectNode byKind = problems.putObject("byKind");
        s.problemsByKind().forEach((k, n) -> byKind.put(k.token(), n));
        ArrayNode nodes = problems.putArray("nodes");
        for (StatusSnapshot.ProblemNode p : s.problemNodes().items()) {
            ObjectNode n = nodes.addObject().put("node", p.node()).put("failingClosed", p.failingClosed());
            ArrayNode kinds = n.putArray("kinds");
            p.kinds().stream().map(NodeReport.Kind::token).sorted().forEach(kinds::add);
        }
        ArrayNode latest = root.putArray("latestProblems");
        for (NodeProblem p : s.latestProblems()) {
            latest.addObject().put("at", p.at().toString()).put("node", p.node()).put("kind", p.kind().token())
                    .put("reason", p.reason()).put("cidr", p.cidr() == null ? null : p.cidr().toString())
                    .put("message", p.message());
        }
        WriteRates.Rates r = s.rates();
        root.putObject("writesLastMinute").put("subnetsAssigned", r.assignedLastMinute())
                .put("subnetsReleased", r.releasedLastMinute()).put("taintsRemoved", r.taintsRemovedLastMinute())
                .put("failedWrites", r.failedWritesLastMinute());
        root.putObject("writesSinceStart").put("subnetsAssigned", r.assignedTotal())
                .put("failedWrites", r.failedWritesTotal());
        root.put("queueDepth", s.queueDepth()).put("captureMicros", s.captureMicros())
                .put("protobufFallenBack", s.protobufFallenBack());
        try {
            return MAPPER.writeValueAsString(root) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a JSON tree that cannot be written: " + e.getMessage(), e);
        }
    }

    private static void capped(ObjectNode o, int total, List<String> items, int more) {
        o.put("total", total).put("more", more);
        ArrayNode names = o.putArray("nodes");
        items.forEach(names::add);
    }

    private static String text(Instant t) {
        return t == null ? null : t.toString();
    }

    /** The pool's picture, as {@link #MAP_LEGEND} says. */
    static String map(StatusSnapshot.Pool p) {
        PoolOccupancy o = p.occupancy();
        StringBuilder m = new StringBuilder(o.cells());
        for (int c = 0; c < o.cells(); c++) {
            long used = o.allocated(c) + o.reserved(c);
            if (p.conflictCells().get(c)) {
                m.append('x');
            } else if (used == 0) {
                m.append('.');
            } else if (o.subnetsPerCell() == 1) {
                m.append(o.allocated(c) > 0 ? 'a' : 'r');
            } else if (used == o.subnetsPerCell()) {
                m.append('#');
            } else {
                m.append((char) ('0' + Math.min(9, (9 * used + o.subnetsPerCell() - 1) / o.subnetsPerCell())));
            }
        }
        return m.toString();
    }
}
