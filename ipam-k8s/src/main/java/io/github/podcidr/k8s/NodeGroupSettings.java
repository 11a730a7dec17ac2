package io.github.podcidr.k8s;

import io.github.podcidr.ipam.NodeGroup;
import java.util.Objects;

/**
 * A named node group and the nodes that belong to it: the group's ranges (see {@link NodeGroup}) and the label
 * selector that picks its nodes. A node belongs to the first group of {@link ControllerSettings#nodeGroups()} whose
 * selector matches its labels, else to the default group (the settings' cluster CIDRs) if its selector matches.
 *
 * <pre>{@code
 * NodeGroupSettings idc = new NodeGroupSettings(
 *         NodeGroup.builder("idc").addPool(Cidr.parse("10.250.0.0/16"), 26).build(),
 *         NodeSelector.parse("[{\"key\":\"node.tke.cloud.tencent.com/type\",\"operator\":\"In\","
 *                 + "\"values\":[\"external\"]}]"));
 * }</pre>
 *
 * @param group the group's name and ranges
 * @param selector the nodes of the group; {@link NodeSelector#all()} takes every node not taken by an earlier group
 */
public record NodeGroupSettings(NodeGroup group, NodeSelector selector) {

    /**
     * Creates a group setting.
     *
     * @param group the group
     * @param selector its selector
     */
    public NodeGroupSettings {
        Objects.requireNonNull(group, "group");
        Objects.requireNonNull(selector, "selector");
    }

    /**
     * Returns the group's name.
     *
     * @return the name of {@link #group()}
     */
    public String name() {
        return group.name();
    }
}
