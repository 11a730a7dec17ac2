package io.github.podcidr.controller;

import io.github.podcidr.ipam.IpFamily;
import io.github.podcidr.ipam.NodeReport;
import io.github.podcidr.ipam.PoolOccupancy;
import io.github.podcidr.ipam.PoolStats;
import io.github.podcidr.k8s.LeaderLease;
import io.github.podcidr.k8s.NodeProblem;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Renders a {@link StatusSnapshot} as one HTML page that loads nothing else: inline CSS, the pool pictures as inline
 * PNG images (data URIs), no script. Every text that comes from the cluster (node names, messages, identities) is
 * escaped. Elements that tests and scripts read carry {@code id}s ({@code pool-0-allocated}, {@code waiting-count},
 * ...), the same figures as {@code /status.json}.
 */
final class StatusHtml {
    private static final String CSS = """
            body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1f2937;\
            background:#f6f7f9}
            header{background:#1e293b;color:#f8fafc;padding:14px 24px}header h1{margin:0;font-size:20px}
            header p{margin:4px 0 0;color:#cbd5e1}main{padding:8px 24px 24px;max-width:1200px}
            section{background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:12px 16px;margin:14px 0}
            h2{font-size:16px;margin:0 0 8px}table{border-collapse:collapse}
            th,td{text-align:left;padding:3px 12px 3px 0;vertical-align:top}th{color:#6b7280;font-weight:600}
            td.n{text-align:right;font-variant-numeric:tabular-nums}
            .note{color:#6b7280;font-size:13px}.warn{color:#b45309}.bad{color:#b91c1c}.ok{color:#047857}
            .banner{border-left:4px solid #f59e0b;background:#fffbeb;padding:8px 12px}
            figure{display:inline-block;margin:8px 24px 8px 0;vertical-align:top}
            figure img{image-rendering:pixelated;border:1px solid #d1d5db;display:block}
            figcaption{max-width:520px;font-size:13px;color:#374151;margin-top:4px}
            .sw{display:inline-block;width:12px;height:12px;border-radius:2px;vertical-align:-1px;margin:0 4px 0 10px}
            .bar{display:inline-block;width:120px;height:10px;background:#e3e8ee;border-radius:5px;overflow:hidden;\
            vertical-align:middle}.bar i{display:block;height:100%;background:#2563eb}
            code{font-size:13px}ul{margin:4px 0;padding-left:20px}
            ul.names{columns:11em auto;column-gap:24px;list-style:none;padding-left:0}ul.names li{break-inside:avoid}
            """;

    private StatusHtml() {
    }

    /**
     * Renders the page.
     *
     * @param s the snapshot
     * @return the HTML document
     */
    static String render(StatusSnapshot s) {
        StringBuilder h = new StringBuilder(16_384);
        h.append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">")
                .append("<meta http-equiv=\"refresh\" content=\"10\">")
                .append("<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">")
                .append("<title>podcidr-controller status</title><style>").append(CSS).append("</style></head><body>");
        h.append("<header><h1>podcidr-controller</h1><p>").append(esc(s.identity())).append(" &middot; <span id=\"role\">")
                .append(esc(s.role().text())).append("</span> &middot; version ").append(esc(s.version()))
                .append(" &middot; ").append(time(s.takenAt())).append(" &middot; refreshes every 10 s</p></header><main>");
        leader(h, s);
        if (s.role() == StatusSnapshot.Role.LEADER) {
            usage(h, s);
            pictures(h, s);
            nodes(h, s);
            problems(h, s);
            rates(h, s);
        } else if (s.role() == StatusSnapshot.Role.LEADER_STARTING) {
            h.append("<section><p class=\"banner\">This replica has just become leader and is syncing its node cache"
                    + " and restoring; the pools appear once it is ready.</p></section>");
        }
        h.append("<p class=\"note\">Snapshot taken in ").append(s.captureMicros() / 1000.0 >= 1
                ? String.format(Locale.ROOT, "%.1f ms", s.captureMicros() / 1000.0) : s.captureMicros() + " µs")
                .append(". Lists show at most ").append(StatusSnapshot.LIST_LIMIT).append(" entries. Same figures as"
                        + " JSON: <a href=\"status.json\">status.json</a>; Prometheus: <a href=\"metrics\">metrics</a>"
                        + " (relative links: they work behind <code>kubectl proxy</code> too).</p></main></body></html>\n");
        return h.toString();
    }

    private static void leader(StringBuilder h, StatusSnapshot s) {
        h.append("<section><h2>Leader</h2>");
        LeaderLease l = s.lease();
        if (!s.electionEnabled()) {
            h.append("<p>Leader election is off (or dry-run): this replica, <b id=\"leader\">").append(esc(s.identity()))
                    .append("</b>, is the only one that writes.</p>");
        } else if (l == null) {
            h.append("<p id=\"leader\">Not known yet: the Lease has not been read.</p>");
        } else if (!l.held()) {
            h.append("<p><span id=\"leader\" class=\"warn\">nobody</span>: the Lease is free (released); a replica"
                    + " takes it within one retry period.</p>");
        } else {
            h.append("<p><b id=\"leader\">").append(esc(l.holder())).append("</b>")
                    .append(l.holder().equals(s.identity()) ? " (this replica)" : "")
                    .append(" leads").append(l.acquired() == null ? "" : " since " + time(l.acquired()) + " ("
                            + ago(l.acquired(), s.takenAt()) + ")")
                    .append(". Last renewal ").append(l.renewed() == null ? "unknown" : time(l.renewed()))
                    .append(", lease ").append(l.leaseDurationSeconds()).append(" s, ").append(l.transitions())
                    .append(" change").append(l.transitions() == 1 ? "" : "s").append(" of leader so far.</p>")
                    .append("<p class=\"note\">As this replica last saw the Lease, ").append(ago(l.seenAt(), s.takenAt()))
                    .append(".</p>");
        }
        if (s.role() == StatusSnapshot.Role.STANDBY) {
            h.append("<p class=\"banner\" id=\"standby\">This replica is a <b>standby</b>: it waits for the Lease and"
                    + " keeps no allocation state. The pools, waiting nodes and problems are on the leader's page"
                    + " (its pod, same port, <code>/status</code>).</p>");
        }
        h.append("</section>");
    }

    private static void usage(StringBuilder h, StatusSnapshot s) {
        boolean grouped = s.namedGroups();
        h.append("<section><h2>Usage</h2><table><tr><th>").append(grouped ? "family / group / pool" : "family / pool")
                .append("</th><th>node mask</th><th>capacity</th>"
                + "<th>allocated</th><th>reserved</th><th>free</th><th>in use</th></tr>");
        for (StatusSnapshot.FamilyTotals f : s.families()) {
            String id = "family-" + family(f.family());
            long used = f.allocated() + f.reserved();
            h.append("<tr><td><b>").append(f.family() == IpFamily.IPV4 ? "IPv4" : "IPv6")
                    .append(grouped ? "</b> (all groups)</td><td></td>" : "</b> (all pools)</td><td></td>")
                    .append(cell(id + "-capacity", f.capacity())).append(cell(id + "-allocated", f.allocated()))
                    .append(cell(id + "-reserved", f.reserved())).append(cell(id + "-free", f.free()))
                    .append("<td>").append(bar(f.capacity() == 0 ? 0 : (double) used / f.capacity())).append("</td></tr>");
            for (int i = 0; i < s.pools().size() && !grouped; i++) {
                if (s.pools().get(i).stats().family() == f.family()) {
                    poolRow(h, s, i, "&nbsp;&nbsp;");
                }
            }
        }
        if (grouped) {
            groupedUsage(h, s);
        }
        h.append("</table><p class=\"note\">Capacity: node subnets in the range; allocated: held by nodes; reserved:"
                + " inside <code>--reserved-cidrs</code>, never handed out; free: left to hand out. Queue: <span"
                + " id=\"queue-depth\">").append(s.queueDepth()).append("</span> node names waiting to be"
                + " reconciled.</p>");
        if (s.protobufFallenBack()) {
            h.append("<p class=\"bad\" id=\"protobuf-fallback\">Node lists and watches read JSON: protobuf answers of"
                    + " the API server could not be read (see the log and podcidr_protobuf_decode_fallbacks_total)."
                    + "</p>");
        }
        h.append("</section>");
    }

    /**
     * The rows of named groups, after the family totals over all groups: per group a heading, then per family of
     * the group a subtotal and the group's pools of that family.
     */
    private static void groupedUsage(StringBuilder h, StatusSnapshot s) {
        String current = null;
        for (StatusSnapshot.GroupTotals g : s.groupTotals()) {
            if (!g.group().equals(current)) {
                current = g.group();
                h.append("<tr><td colspan=\"7\" style=\"padding-top:8px\">group <b id=\"group-").append(esc(current))
                        .append("\">").append(esc(current)).append("</b></td></tr>");
            }
            String id = "group-" + g.group() + "-" + family(g.family());
            long used = g.allocated() + g.reserved();
            h.append("<tr><td>&nbsp;&nbsp;").append(g.family() == IpFamily.IPV4 ? "IPv4" : "IPv6").append(" of ")
                    .append(esc(g.group())).append("</td><td></td>")
                    .append(cell(esc(id) + "-capacity", g.capacity())).append(cell(esc(id) + "-allocated", g.allocated()))
                    .append(cell(esc(id) + "-reserved", g.reserved())).append(cell(esc(id) + "-free", g.free()))
                    .append("<td>").append(bar(g.capacity() == 0 ? 0 : (double) used / g.capacity()))
                    .append("</td></tr>");
            for (int i = 0; i < s.pools().size(); i++) {
                StatusSnapshot.Pool p = s.pools().get(i);
                if (p.group().equals(g.group()) && p.stats().family() == g.family()) {
                    poolRow(h, s, i, "&nbsp;&nbsp;&nbsp;&nbsp;");
                }
            }
        }
    }

    private static void poolRow(StringBuilder h, StatusSnapshot s, int i, String indent) {
        PoolStats p = s.pools().get(i).stats();
        String pid = "pool-" + i;
        h.append("<tr><td>").append(indent).append("<code id=\"").append(pid).append("-cidr\">").append(p.cluster())
                .append("</code></td><td>/").append(p.nodePrefixLength()).append("</td>")
                .append(cell(pid + "-capacity", p.capacity())).append(cell(pid + "-allocated", p.allocated()))
                .append(cell(pid + "-reserved", p.reserved())).append(cell(pid + "-free", p.free()))
                .append("<td>").append(bar(s.pools().get(i).usedShare())).append("</td></tr>");
    }

    private static void pictures(StringBuilder h, StatusSnapshot s) {
        h.append("<section><h2>Allocation map</h2><p class=\"note\">Subnets in address order, row by row.")
                .append(swatch(GridImage.ALLOCATED)).append("allocated").append(swatch(GridImage.RESERVED))
                .append("reserved").append(swatch(GridImage.FREE)).append("free").append(swatch(GridImage.CONFLICT))
                .append("claimed by two nodes (a duplicate still present). Up to ")
                .append(String.format(Locale.ROOT, "%,d", StatusSnapshot.GRID_CELLS)).append(" subnets get one square"
                        + " each; a larger pool is summed up in blocks of 2<sup>k</sup> subnets per square, shaded"
                        + " from pale (free) to full colour (every subnet in use), in the colour of what uses most of"
                        + " the block.</p>");
        boolean grouped = s.namedGroups();
        for (int i = 0; i < s.pools().size(); i++) {
            StatusSnapshot.Pool p = s.pools().get(i);
            PoolOccupancy o = p.occupancy();
            int px = GridImage.cellPixels(p.columns());
            String png = Base64.getEncoder().encodeToString(GridImage.png(p));
            long perRow = o.subnetsPerCell() * p.columns();
            h.append("<figure id=\"pool-").append(i).append("-map\" data-cells=\"").append(o.cells())
                    .append("\" data-subnets-per-cell=\"").append(o.subnetsPerCell()).append("\" data-conflict-cells=\"")
                    .append(p.conflictCells().cardinality()).append(grouped ? "\" data-group=\"" + esc(p.group()) : "")
                    .append("\"><img alt=\"allocation map of ")
                    .append(p.stats().cluster()).append(grouped ? " (group " + esc(p.group()) + ")" : "")
                    .append("\" width=\"").append(p.columns() * px).append("\" height=\"")
                    .append(p.rows() * px).append("\" src=\"data:image/png;base64,").append(png).append("\">")
                    .append("<figcaption>").append(grouped ? "group <b class=\"group\">" + esc(p.group()) + "</b>: "
                            : "").append("<b>").append(p.stats().cluster()).append("</b> cut into /")
                    .append(p.stats().nodePrefixLength()).append(": ").append(String.format(Locale.ROOT, "%,d",
                            p.stats().capacity())).append(" subnets; ");
            if (o.subnetsPerCell() == 1) {
                h.append("one square per subnet");
            } else {
                h.append("each square a block of ").append(String.format(Locale.ROOT, "%,d", o.subnetsPerCell()))
                        .append(" subnets (2<sup>").append(Long.numberOfTrailingZeros(o.subnetsPerCell()))
                        .append("</sup>)");
            }
            h.append(", ").append(p.columns()).append(" per row (").append(String.format(Locale.ROOT, "%,d", perRow))
                    .append(" subnets); first ").append(o.firstSubnet(0)).append(", row 2 starts at ")
                    .append(p.rows() > 1 ? o.firstSubnet(p.columns()).toString() : "(one row)").append(".");
            if (!p.conflictCells().isEmpty()) {
                h.append(" <span class=\"bad\">").append(p.conflictCells().cardinality())
                        .append(" square(s) with a duplicate claim.</span>");
            }
            h.append("</figcaption></figure>");
        }
        h.append("</section>");
    }

    private static void nodes(StringBuilder h, StatusSnapshot s) {
        h.append("<section><h2>Nodes waiting for room: <span id=\"waiting-count\" class=\"")
                .append(s.waiting().total() > 0 ? "warn" : "ok").append("\">").append(s.waiting().total())
                .append("</span></h2>");
        if (s.waiting().total() == 0) {
            h.append("<p class=\"note\">None: every selected node that asked got its subnets.</p>");
        } else {
            h.append("<p class=\"note\">They found every pool of a family full and get a subnet as soon as one is"
                    + " released (delete nodes or add a range to <code>--cluster-cidr</code>).</p>");
            list(h, "waiting", s.waiting(), s.groupOfNode());
        }
        h.append("</section><section><h2>Nodes keeping their taints (failing closed): <span id=\"failing-closed-count\""
                + " class=\"").append(s.failingClosed().total() > 0 ? "bad" : "ok").append("\">")
                .append(s.failingClosed().total()).append("</span></h2>");
        if (s.failingClosed().total() == 0) {
            h.append("<p class=\"note\">None.</p>");
        } else {
            h.append("<p class=\"note\">Their pod CIDR is another node's, outside every cluster CIDR or unreadable;"
                    + " pod CIDRs are immutable: delete and re-register the node to fix it.</p>");
            list(h, "failing-closed", s.failingClosed(), java.util.Map.of());
        }
        h.append("</section>");
    }

    private static void list(StringBuilder h, String id, StatusSnapshot.Capped<String> names,
                             java.util.Map<String, String> groups) {
        h.append("<ul class=\"names\" id=\"").append(id).append("-list\">");
        for (String n : names.items()) {
            String g = groups.get(n);
            h.append("<li><code>").append(esc(n)).append("</code>")
                    .append(g == null ? "" : " <span class=\"note\">(" + esc(g) + ")</span>").append("</li>");
        }
        if (names.more() > 0) {
            h.append("<li class=\"note\">and ").append(String.format(Locale.ROOT, "%,d", names.more()))
                    .append(" more</li>");
        }
        h.append("</ul>");
    }

    private static void problems(StringBuilder h, StatusSnapshot s) {
        int total = s.problemNodes().total();
        h.append("<section><h2>Nodes with pod CIDR problems now: <span id=\"problem-count\" class=\"")
                .append(total > 0 ? "bad" : "ok").append("\">").append(total).append("</span></h2>");
        if (!s.problemsByKind().isEmpty()) {
            h.append("<p>");
            s.problemsByKind().forEach((kind, n) -> h.append("<span id=\"problem-kind-").append(kind.token())
                    .append("\">").append(kind.token()).append(": ").append(n).append("</span> &nbsp; "));
            h.append("</p>");
        }
        if (total > 0) {
            h.append("<table id=\"problem-nodes\"><tr><th>node</th><th>found</th><th>taints</th></tr>");
            for (StatusSnapshot.ProblemNode p : s.problemNodes().items()) {
                h.append("<tr><td><code>").append(esc(p.node())).append("</code></td><td>").append(kinds(p.kinds()))
                        .append("</td><td>").append(p.failingClosed() ? "<span class=\"bad\">kept</span>" : "")
                        .append("</td></tr>");
            }
            if (s.problemNodes().more() > 0) {
                h.append("<tr><td colspan=\"3\" class=\"note\">and ").append(String.format(Locale.ROOT, "%,d",
                        s.problemNodes().more())).append(" more</td></tr>");
            }
            h.append("</table>");
        }
        h.append("<h2 style=\"margin-top:14px\">Latest problems reported (newest first, at most 50)</h2>");
        if (s.latestProblems().isEmpty()) {
            h.append("<p class=\"note\">None in this leader term.</p>");
        } else {
            h.append("<table id=\"latest-problems\"><tr><th>when</th><th>node</th><th>event</th><th>message</th></tr>");
            for (NodeProblem p : s.latestProblems()) {
                h.append("<tr><td>").append(ago(p.at(), s.takenAt())).append("</td><td><code>").append(esc(p.node()))
                        .append("</code></td><td>").append(esc(p.reason())).append("</td><td>").append(esc(p.message()))
                        .append("</td></tr>");
            }
            h.append("</table>");
        }
        h.append("</section>");
    }

    private static void rates(StringBuilder h, StatusSnapshot s) {
        WriteRates.Rates r = s.rates();
        h.append("<section><h2>Writes in the last minute</h2><table><tr><th>subnets assigned</th>")
                .append(cell("rate-assigned", r.assignedLastMinute())).append("</tr><tr><th>subnets released</th>")
                .append(cell("rate-released", r.releasedLastMinute())).append("</tr><tr><th>taints removed</th>")
                .append(cell("rate-taints-removed", r.taintsRemovedLastMinute())).append("</tr><tr><th>failed writes</th>")
                .append(cell("rate-failed", r.failedWritesLastMinute())).append("</tr></table><p class=\"note\">Since this"
                        + " process started: ").append(String.format(Locale.ROOT, "%,d", r.assignedTotal()))
                .append(" subnets assigned, ").append(String.format(Locale.ROOT, "%,d", r.failedWritesTotal()))
                .append(" failed writes.</p></section>");
    }

    private static String kinds(Set<NodeReport.Kind> kinds) {
        return kinds.stream().map(NodeReport.Kind::token).sorted().collect(Collectors.joining(", "));
    }

    private static String cell(String id, long value) {
        return "<td class=\"n\" id=\"" + id + "\">" + String.format(Locale.ROOT, "%,d", value) + "</td>";
    }

    private static String bar(double share) {
        double pct = Math.max(0, Math.min(100, share * 100));
        return "<span class=\"bar\"><i style=\"width:" + String.format(Locale.ROOT, "%.1f", pct) + "%\"></i></span> "
                + String.format(Locale.ROOT, "%.1f%%", pct);
    }

    private static String swatch(int rgb) {
        return "<span class=\"sw\" style=\"background:#" + String.format("%06x", rgb) + "\"></span>";
    }

    static String family(IpFamily f) {
        return f == IpFamily.IPV4 ? "ipv4" : "ipv6";
    }

    private static String time(Instant t) {
        return t.truncatedTo(ChronoUnit.SECONDS).toString();
    }

    private static String ago(Instant t, Instant now) {
        long s = Math.max(0, Duration.between(t, now).getSeconds());
        if (s < 60) {
            return s + " s ago";
        }
        if (s < 3600) {
            return s / 60 + " min ago";
        }
        if (s < 172_800) {
            return s / 3600 + " h " + s % 3600 / 60 + " min ago";
        }
        return s / 86_400 + " days ago";
    }

    /**
     * Escapes text for HTML element content and quoted attribute values.
     *
     * @param text any text, e.g. a node name from the API
     * @return the text with {@code & < > " '} as character references
     */
    static String esc(String text) {
        if (text == null) {
            return "";
        }
        StringBuilder out = new StringBuilder(text.length() + 16);
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '&' -> out.append("&amp;");
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> out.append(c);
            }
        }
        return out.toString();
    }
}
