package io.github.podcidr.controller;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import io.github.podcidr.ipam.Cidr;
import io.github.podcidr.ipam.InvalidCidrException;
import io.github.podcidr.ipam.InvalidPoolException;
import io.github.podcidr.ipam.IpFamily;
import io.github.podcidr.ipam.NodeGroup;
import io.github.podcidr.ipam.NodeIpam;
import io.github.podcidr.ipam.PoolStats;
import io.github.podcidr.k8s.InvalidSettingException;
import io.github.podcidr.k8s.NodeGroupSettings;
import io.github.podcidr.k8s.NodeSelector;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * The file of {@code --pools-file}: named node groups, each with its own cluster ranges, node masks, reserved
 * ranges and node selector. Read once at start; a change takes a restart.
 *
 * <pre>
 * groups:
 *   - name: idc                                   # a DNS label: metric label and event text
 *     nodeSelector:                               # absent or empty: every node not taken by an earlier group
 *       matchLabels:
 *         node.tke.cloud.tencent.com/type: external
 *       matchExpressions:                         # the same requirements as --node-selector, AND-ed
 *         - {key: kubernetes.io/os, operator: In, values: [linux]}
 *     clusterCIDRs: [10.250.0.0/16, fd00:250::/48] # one or both families, several ranges each, in order
 *     nodeCIDRMaskSizeIPv4: 26                    # default 24
 *     nodeCIDRMaskSizeIPv6: 64                    # default 64
 *     reservedCIDRs: [10.250.255.0/24]            # never handed out (--reserved-cidrs apply to every group too)
 * </pre>
 *
 * <p>A node belongs to the first group whose selector matches its labels, else to the default group formed by
 * {@code --cluster-cidr} (when given, and when {@code --node-selector} matches), else to none: it then gets no pod
 * CIDR and a {@code NodeInNoGroup} event. The YAML is read into a node tree, never into Java objects (SnakeYAML's
 * composer with a {@link SafeConstructor}), so a tag in an untrusted file cannot instantiate a class. Every problem is
 * reported at once with its line: unknown keys (with a "did you mean"), bad CIDRs, masks that do not fit, ranges that
 * overlap within or across groups (and the default group's), duplicate names, a selector-less group before the last.
 */
final class PoolsFile {
    static final String FLAG = "pools-file";
    /** Largest file read: a few groups take a few KiB; this only stops a wrong path from filling the heap. */
    static final int MAX_BYTES = 1 << 20;
    private static final List<String> TOP_KEYS = List.of("groups");
    private static final List<String> GROUP_KEYS = List.of("name", "nodeSelector", "clusterCIDRs",
            "nodeCIDRMaskSizeIPv4", "nodeCIDRMaskSizeIPv6", "reservedCIDRs");
    private static final List<String> SELECTOR_KEYS = List.of("matchLabels", "matchExpressions");
    private static final String EXAMPLE = "e.g.\ngroups:\n  - name: idc\n    nodeSelector:\n      matchLabels:\n"
            + "        node.tke.cloud.tencent.com/type: external\n    clusterCIDRs: [10.250.0.0/16]\n"
            + "    nodeCIDRMaskSizeIPv4: 26";

    private PoolsFile() {
    }

    /**
     * One group as read from the file.
     *
     * @param name the group's name
     * @param line the line of its entry, for messages
     * @param selector its nodes
     * @param catchAll true if it has no selector requirement (it takes every node left)
     * @param ranges its cluster ranges in order
     * @param maskIpv4 IPv4 node prefix length
     * @param maskIpv6 IPv6 node prefix length
     * @param reserved its reserved ranges
     */
    record Group(String name, int line, NodeSelector selector, boolean catchAll, List<Cidr> ranges, int maskIpv4,
                 int maskIpv6, List<Cidr> reserved) {
        int maskOf(Cidr c) {
            return c.family() == IpFamily.IPV4 ? maskIpv4 : maskIpv6;
        }

        NodeGroup nodeGroup() {
            NodeGroup.Builder b = NodeGroup.builder(name);
            ranges.forEach(c -> b.addPool(c, maskOf(c)));
            reserved.forEach(b::reserve);
            return b.build();
        }
    }

    /**
     * Reads and checks the file named by {@code --pools-file}, against the default group's ranges when there is one.
     * Every problem goes to {@code v}'s errors as {@code --pools-file=<path>: line N: ...}.
     *
     * @param v the parsed flags
     * @param defaults the ranges of {@code --cluster-cidr} (possibly without cluster ranges: no default group)
     * @return the groups in file order, or null if there is an error
     */
    static List<NodeGroupSettings> read(FlagSet.Values v, ClusterRanges defaults) {
        String path = v.raw(FLAG);
        String text;
        try {
            Path p = Path.of(path);
            if (Files.size(p) > MAX_BYTES) {
                v.error(FLAG, path, "is larger than " + MAX_BYTES + " bytes; a pools file holds a few groups");
                return null;
            }
            text = Files.readString(p, StandardCharsets.UTF_8);
        } catch (IOException | RuntimeException e) {
            v.error(FLAG, path, "cannot be read (" + e.getClass().getSimpleName() + ": " + e.getMessage() + "); give"
                    + " the path of a YAML file of node groups, e.g. --pools-file=/etc/podcidr/pools.yaml");
            return null;
        }
        int before = v.errors().size();
        List<Group> groups = parse(text, message -> v.error(FLAG, path, message));
        // the groups that could be read are checked against each other even when others could not: all at once
        check(groups, defaults, message -> v.error(FLAG, path, message));
        if (v.errors().size() > before) {
            return null;
        }
        List<NodeGroupSettings> out = new ArrayList<>(groups.size());
        for (Group g : groups) {
            out.add(new NodeGroupSettings(g.nodeGroup(), g.selector()));
        }
        return out;
    }

    /**
     * Parses the text of a pools file into groups, reporting every problem of a single group's entry; problems
     * between groups are for {@link #check}.
     *
     * @param text the YAML text
     * @param error receives one message per problem, each starting with {@code line N:}
     * @return the groups that could be read
     */
    static List<Group> parse(String text, Consumer<String> error) {
        LoaderOptions options = new LoaderOptions();
        options.setAllowDuplicateKeys(false);
        options.setMaxAliasesForCollections(20);
        options.setNestingDepthLimit(20);
        options.setCodePointLimit(MAX_BYTES);
        Yaml yaml = new Yaml(new SafeConstructor(options));
        Node root;
        try {
            root = yaml.compose(new StringReader(text));
        } catch (MarkedYAMLException e) {
            int line = e.getProblemMark() == null ? 1 : e.getProblemMark().getLine() + 1;
            error.accept("line " + line + ": not valid YAML: " + e.getProblem() + (e.getContext() == null ? ""
                    : " (" + e.getContext() + ")"));
            return List.of();
        } catch (YAMLException e) {
            error.accept("not valid YAML: " + e.getMessage());
            return List.of();
        }
        if (root == null) {
            error.accept("is empty; expected a list of node groups under 'groups:', " + EXAMPLE);
            return List.of();
        }
        Map<String, Node> top = mapping(root, "the file", TOP_KEYS, error);
        if (top == null) {
            return List.of();
        }
        Node list = top.get("groups");
        if (!(list instanceof SequenceNode seq) || seq.getValue().isEmpty()) {
            error.accept(at(list == null ? root : list) + "'groups' must be a list of at least one node group, "
                    + EXAMPLE);
            return List.of();
        }
        List<Group> groups = new ArrayList<>();
        for (int i = 0; i < seq.getValue().size(); i++) {
            Group g = group(seq.getValue().get(i), i, error);
            if (g != null) {
                groups.add(g);
            }
        }
        return groups;
    }

    private static Group group(Node node, int index, Consumer<String> sink) {
        String where = "groups[" + index + "]";
        if (node instanceof MappingNode peek) {
            for (NodeTuple t : peek.getValue()) {
                if (t.getKeyNode() instanceof ScalarNode k && k.getValue().equals("name")
                        && t.getValueNode() instanceof ScalarNode n && !isNull(n)) {
                    where = "group " + n.getValue();
                    break;
                }
            }
        }
        ErrorCounter error = new ErrorCounter(sink);
        Map<String, Node> m = mapping(node, where, GROUP_KEYS, error);
        if (m == null) {
            return null;
        }
        String name = scalar(m.get("name"), node, where + ": name", "a name such as idc", error);
        if (name != null) {
            try {
                NodeGroup.builder(name).addPool(Cidr.parse("10.0.0.0/8"), 24).build();
            } catch (InvalidPoolException e) {
                error.accept(at(m.get("name")) + where + ": " + e.getMessage());
            }
        }
        NodeSelector selector = selector(m.get("nodeSelector"), where, error);
        List<Cidr> ranges = cidrs(m.get("clusterCIDRs"), node, where + ": clusterCIDRs", true, error);
        List<Cidr> reserved = cidrs(m.get("reservedCIDRs"), node, where + ": reservedCIDRs", false, error);
        int mask4 = mask(m.get("nodeCIDRMaskSizeIPv4"), 24, where + ": nodeCIDRMaskSizeIPv4", error);
        int mask6 = mask(m.get("nodeCIDRMaskSizeIPv6"), 64, where + ": nodeCIDRMaskSizeIPv6", error);
        for (Cidr c : ranges == null ? List.<Cidr>of() : ranges) {
            boolean v4 = c.family() == IpFamily.IPV4;
            String key = v4 ? "nodeCIDRMaskSizeIPv4" : "nodeCIDRMaskSizeIPv6";
            int mask = v4 ? mask4 : mask6;
            Node maskNode = m.get(key);
            String problem = maskProblem(mask, c);
            if (problem != null) {
                error.accept(at(maskNode == null ? node : maskNode) + where + ": " + key + " " + mask
                        + (maskNode == null ? " (the default)" : "") + " " + problem);
            }
        }
        if (error.count > 0) {
            return null;
        }
        return new Group(name, line(node), selector, selector.requirements().isEmpty(), ranges, mask4, mask6,
                reserved);
    }

    /** Counts the errors passed through, so that a group with any is left out of the cross-group checks. */
    private static final class ErrorCounter implements Consumer<String> {
        private final Consumer<String> delegate;
        private int count;

        ErrorCounter(Consumer<String> delegate) {
            this.delegate = delegate;
        }

        @Override
        public void accept(String s) {
            count++;
            delegate.accept(s);
        }
    }

    private static NodeSelector selector(Node node, String where, Consumer<String> error) {
        if (node == null || isNull(node)) {
            return NodeSelector.all();
        }
        Map<String, Node> m = mapping(node, where + ": nodeSelector", SELECTOR_KEYS, error);
        if (m == null) {
            return null;
        }
        JsonArray requirements = new JsonArray();
        Node expressions = m.get("matchExpressions");
        if (expressions != null && !isNull(expressions)) {
            JsonElement json = json(expressions);
            if (!json.isJsonArray()) {
                error.accept(at(expressions) + where + ": nodeSelector.matchExpressions must be a list of"
                        + " requirements, the same as --node-selector, e.g. [{key: kubernetes.io/os, operator: In,"
                        + " values: [linux]}]");
                return null;
            }
            requirements.addAll(json.getAsJsonArray());
        }
        Node labels = m.get("matchLabels");
        if (labels != null && !isNull(labels)) {
            if (!(labels instanceof MappingNode lm)) {
                error.accept(at(labels) + where + ": nodeSelector.matchLabels must be a map of label keys to"
                        + " values, e.g. {node.tke.cloud.tencent.com/type: external}");
                return null;
            }
            for (NodeTuple t : lm.getValue()) {
                if (!(t.getKeyNode() instanceof ScalarNode k) || !(t.getValueNode() instanceof ScalarNode val)) {
                    error.accept(at(t.getKeyNode()) + where + ": nodeSelector.matchLabels must map each label key to"
                            + " one value, e.g. node.tke.cloud.tencent.com/type: external");
                    return null;
                }
                JsonObject r = new JsonObject();
                r.addProperty("key", k.getValue());
                r.addProperty("operator", "In");
                JsonArray values = new JsonArray();
                values.add(val.getValue());
                r.add("values", values);
                requirements.add(r);
            }
        }
        try {
            return NodeSelector.parse(requirements.toString());
        } catch (InvalidSettingException e) {
            error.accept(at(node) + where + ": nodeSelector: " + e.getMessage());
            return null;
        }
    }

    /** A YAML subtree as JSON, scalars as strings, so that {@link NodeSelector#parse} checks it as it checks the flag. */
    private static JsonElement json(Node node) {
        if (node instanceof ScalarNode s) {
            return isNull(s) ? JsonNull.INSTANCE : new JsonPrimitive(s.getValue());
        }
        if (node instanceof SequenceNode seq) {
            JsonArray a = new JsonArray();
            seq.getValue().forEach(n -> a.add(json(n)));
            return a;
        }
        JsonObject o = new JsonObject();
        for (NodeTuple t : ((MappingNode) node).getValue()) {
            o.add(t.getKeyNode() instanceof ScalarNode k ? k.getValue() : "?", json(t.getValueNode()));
        }
        return o;
    }

    private static List<Cidr> cidrs(Node node, Node parent, String where, boolean required, Consumer<String> error) {
        List<ScalarNode> items = new ArrayList<>();
        if (node == null || isNull(node)) {
            if (required) {
                error.accept(at(parent) + where + " is missing; give one or more ranges, e.g. clusterCIDRs:"
                        + " [10.250.0.0/16] (dual-stack: [10.250.0.0/16, fd00:250::/48])");
                return null;
            }
            return List.of();
        }
        if (node instanceof SequenceNode seq) {
            for (Node n : seq.getValue()) {
                if (!(n instanceof ScalarNode s)) {
                    error.accept(at(n) + where + " must be a list of CIDRs, e.g. [10.250.0.0/16]");
                    return null;
                }
                items.add(s);
            }
        } else if (node instanceof ScalarNode s) {
            items.add(s);
        } else {
            error.accept(at(node) + where + " must be a list of CIDRs, e.g. [10.250.0.0/16]");
            return null;
        }
        if (required && items.isEmpty()) {
            error.accept(at(node) + where + " is empty; give one or more ranges, e.g. [10.250.0.0/16]");
            return null;
        }
        List<Cidr> out = new ArrayList<>();
        boolean bad = false;
        for (ScalarNode s : items) {
            for (String part : s.getValue().split(",", -1)) {
                try {
                    out.add(Cidr.parse(part.strip()));
                } catch (InvalidCidrException e) {
                    error.accept(at(s) + where + ": " + e.getMessage() + "; e.g. 10.250.0.0/16");
                    bad = true;
                }
            }
        }
        return bad ? null : out;
    }

    private static int mask(Node node, int dflt, String where, Consumer<String> error) {
        if (node == null || isNull(node)) {
            return dflt;
        }
        if (node instanceof ScalarNode s) {
            try {
                return Integer.parseInt(s.getValue().strip());
            } catch (NumberFormatException e) {
                // reported below
            }
        }
        error.accept(at(node) + where + " must be a whole number, the prefix length of each node's subnet, e.g. "
                + dflt);
        return dflt;
    }

    /** What is wrong with cutting a range into subnets of a mask, or null. */
    private static String maskProblem(int mask, Cidr range) {
        int max = range.family() == IpFamily.IPV4 ? 32 : 128;
        if (mask < 1 || mask > max) {
            return "is outside 1.." + max + " for " + range + "; e.g. " + (max == 32 ? 24 : 64);
        }
        if (mask < range.prefixLength()) {
            return "does not fit range " + range + ": a node's subnet must lie inside the range, so the mask must be"
                    + " at least /" + range.prefixLength() + ", e.g. " + Math.min(max, range.prefixLength() + 8);
        }
        if (mask - range.prefixLength() > 32) {
            return "cuts " + range + " into 2^" + (mask - range.prefixLength()) + " subnets, more than the 2^32 a"
                    + " pool can hold; e.g. " + (range.prefixLength() + 16);
        }
        return null;
    }

    /**
     * Checks the groups against each other and against the default group: unique names, disjoint ranges, a
     * selector-less group only last (and only without a default group), room left by the reserved ranges.
     *
     * @param groups the groups read
     * @param defaults the flags' ranges; their cluster ranges, when not empty, form the default group
     * @param error receives one message per problem
     */
    static void check(List<Group> groups, ClusterRanges defaults, Consumer<String> sink) {
        ErrorCounter error = new ErrorCounter(sink);
        if (groups.isEmpty()) {
            return; // nothing could be read: the reasons are reported already
        }
        boolean hasDefault = defaults != null && !defaults.cluster().isEmpty();
        Map<String, Group> byName = new HashMap<>();
        for (Group g : groups) {
            Group other = byName.putIfAbsent(g.name(), g);
            if (other != null) {
                error.accept("line " + g.line() + ": group " + g.name() + ": the name is also used by the group at"
                        + " line " + other.line() + "; every group needs its own name");
            } else if (hasDefault && g.name().equals(NodeIpam.DEFAULT_GROUP)) {
                error.accept("line " + g.line() + ": group " + g.name() + ": the name is taken by the default group"
                        + " of --cluster-cidr; give this group another name, e.g. idc");
            }
        }
        for (int i = 0; i < groups.size(); i++) {
            Group g = groups.get(i);
            if (g.catchAll() && i < groups.size() - 1) {
                error.accept("line " + g.line() + ": group " + g.name() + " has no nodeSelector, so it takes every"
                        + " node, and the groups after it (" + String.join(", ", groups.subList(i + 1, groups.size())
                        .stream().map(Group::name).toList()) + ") would get none; give it a nodeSelector or make it"
                        + " the last group");
            } else if (g.catchAll() && hasDefault) {
                error.accept("line " + g.line() + ": group " + g.name() + " has no nodeSelector, so it takes every"
                        + " node, and the default group of --cluster-cidr would get none; give it a nodeSelector or"
                        + " leave out --cluster-cidr");
            }
        }
        // Overlaps: within a group, across groups, and with the default group's ranges.
        record Owned(Cidr range, String owner) {
        }
        List<Owned> all = new ArrayList<>();
        if (hasDefault) {
            defaults.cluster().forEach(c -> all.add(new Owned(c, "the default group (--cluster-cidr)")));
        }
        for (Group g : groups) {
            g.ranges().forEach(c -> all.add(new Owned(c, "group " + g.name() + " (line " + g.line() + ")")));
        }
        for (int i = 0; i < all.size(); i++) {
            for (int j = i + 1; j < all.size(); j++) {
                Owned a = all.get(i);
                Owned b = all.get(j);
                if (a.range().overlaps(b.range())) {
                    error.accept((a.owner().equals(b.owner()) ? a.owner() + " has overlapping ranges " + a.range()
                            + " and " + b.range() : "range " + b.range() + " of " + b.owner() + " overlaps range "
                            + a.range() + " of " + a.owner()) + "; every address may belong to one group only, so"
                            + " that a node's pod CIDR tells its group: give disjoint ranges, e.g. 10.244.0.0/16 and"
                            + " 10.250.0.0/16");
                }
            }
        }
        if (error.count > 0) {
            return; // the checks below build the groups, which would only repeat what is reported already
        }
        NodeIpam.Builder b = NodeIpam.builder();
        if (hasDefault) {
            defaults.cluster().forEach(c -> b.addPool(c, defaults.maskOf(c)));
        }
        if (defaults != null) {
            defaults.reserved().forEach(b::reserve);
        }
        for (Group g : groups) {
            b.addGroup(g.nodeGroup());
        }
        NodeIpam ipam;
        try {
            ipam = b.build();
        } catch (InvalidPoolException e) {
            error.accept(e.getMessage());
            return;
        }
        for (Group g : groups) {
            for (PoolStats s : ipam.stats(g.name())) {
                if (s.free() == 0) {
                    error.accept("line " + g.line() + ": group " + g.name() + ": range " + s.cluster() + " has no"
                            + " subnet left to hand out: reservedCIDRs (or --reserved-cidrs) cover all of it; reserve"
                            + " ranges inside or outside the range, not over it");
                }
            }
        }
    }

    /**
     * The keys of a mapping node; unknown and repeated keys are errors (with the nearest known key), and the known
     * keys are still returned, so that the rest of the entry is checked too: every problem at once.
     */
    private static Map<String, Node> mapping(Node node, String where, List<String> known, Consumer<String> error) {
        if (!(node instanceof MappingNode m)) {
            error.accept(at(node) + where + " must be a map with the keys " + String.join(", ", known) + "; "
                    + EXAMPLE);
            return null;
        }
        Map<String, Node> out = new LinkedHashMap<>();
        for (NodeTuple t : m.getValue()) {
            String key = t.getKeyNode() instanceof ScalarNode k ? k.getValue() : null;
            if (key != null && out.containsKey(key)) {
                error.accept(at(t.getKeyNode()) + where + ": key " + key + " is given twice; give it once");
                continue;
            }
            if (key == null || !known.contains(key)) {
                String near = key == null ? null : nearest(key, known);
                error.accept(at(t.getKeyNode()) + where + ": unknown key " + (key == null ? "(not a text)" : key)
                        + (near == null ? "" : "; did you mean " + near + "?") + " The keys are "
                        + String.join(", ", known));
                continue;
            }
            out.put(key, t.getValueNode());
        }
        return out;
    }

    private static String nearest(String key, List<String> known) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String k : known) {
            int d = FlagSet.editDistance(key.toLowerCase(java.util.Locale.ROOT), k.toLowerCase(java.util.Locale.ROOT));
            if (d < bestDistance) {
                bestDistance = d;
                best = k;
            }
        }
        return bestDistance <= Math.max(2, key.length() / 4) ? best : null;
    }

    private static String scalar(Node node, Node parent, String where, String expected, Consumer<String> error) {
        if (node == null || isNull(node)) {
            error.accept(at(parent) + where + " is missing; give " + expected);
            return null;
        }
        if (!(node instanceof ScalarNode s)) {
            error.accept(at(node) + where + " must be a text; give " + expected);
            return null;
        }
        return s.getValue();
    }

    private static boolean isNull(Node node) {
        return node instanceof ScalarNode s && node.getTag().getValue().endsWith(":null");
    }

    private static int line(Node node) {
        return node.getStartMark() == null ? 1 : node.getStartMark().getLine() + 1;
    }

    private static String at(Node node) {
        return "line " + line(node) + ": ";
    }
}
