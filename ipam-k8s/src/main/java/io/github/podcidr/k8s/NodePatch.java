package io.github.podcidr.k8s;

import com.google.gson.JsonArray;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import io.kubernetes.client.openapi.models.V1Taint;
import java.util.ArrayList;
import java.util.List;

/**
 * The one write the controller makes to a node: a JSON patch (RFC 6902) that sets {@code spec.podCIDR} and
 * {@code spec.podCIDRs} and removes matching taints, guarded by {@code test} operations so that a concurrent writer
 * makes the whole patch fail (422) instead of being overwritten:
 * <ul>
 *   <li>{@code metadata.uid} is the uid read, so a node deleted and re-created under the same name is not written;</li>
 *   <li>{@code spec.podCIDR} and {@code spec.podCIDRs} are null (absent): kube-apiserver's JSON patch treats a
 *       missing member as null in a test (evanphx/json-patch), so this checks "not set yet";</li>
 *   <li>each removed taint is tested at its index (key, effect and value as read) and removed from the highest index
 *       down, so taints added or removed by others are never dropped: a shifted index fails the test.</li>
 * </ul>
 */
final class NodePatch {
    private final JsonArray ops = new JsonArray();
    private int removedTaints;
    private List<String> podCidrs = List.of();

    private NodePatch() {
    }

    /**
     * Builds the patch for a node.
     *
     * @param uid the node's uid as read
     * @param podCidrs the pod CIDRs to set, or empty to set none
     * @param taints the node's taints as read (null for none)
     * @param rules the taint rules
     * @return the patch; {@link #isEmpty()} if there is nothing to write
     */
    static NodePatch forNode(String uid, List<String> podCidrs, List<V1Taint> taints, List<TaintRule> rules) {
        NodePatch p = new NodePatch();
        List<Integer> remove = new ArrayList<>();
        if (taints != null) {
            for (int i = 0; i < taints.size(); i++) {
                for (TaintRule r : rules) {
                    if (r.matches(taints.get(i))) {
                        remove.add(i);
                        break;
                    }
                }
            }
        }
        if (podCidrs.isEmpty() && remove.isEmpty()) {
            return p;
        }
        p.test("/metadata/uid", new JsonPrimitive(uid));
        if (!podCidrs.isEmpty()) {
            p.podCidrs = List.copyOf(podCidrs);
            p.test("/spec/podCIDR", JsonNull.INSTANCE);
            p.test("/spec/podCIDRs", JsonNull.INSTANCE);
            p.op("add", "/spec/podCIDR", new JsonPrimitive(podCidrs.get(0)));
            JsonArray list = new JsonArray();
            podCidrs.forEach(list::add);
            p.op("add", "/spec/podCIDRs", list);
        }
        for (int k = remove.size() - 1; k >= 0; k--) {
            int i = remove.get(k);
            V1Taint t = taints.get(i);
            String at = "/spec/taints/" + i;
            p.test(at + "/key", new JsonPrimitive(t.getKey()));
            p.test(at + "/effect", t.getEffect() == null ? JsonNull.INSTANCE : new JsonPrimitive(t.getEffect()));
            p.test(at + "/value", t.getValue() == null ? JsonNull.INSTANCE : new JsonPrimitive(t.getValue()));
            JsonObject op = new JsonObject();
            op.addProperty("op", "remove");
            op.addProperty("path", at);
            p.ops.add(op);
        }
        p.removedTaints = remove.size();
        return p;
    }

    private void test(String path, com.google.gson.JsonElement value) {
        op("test", path, value);
    }

    private void op(String kind, String path, com.google.gson.JsonElement value) {
        JsonObject op = new JsonObject();
        op.addProperty("op", kind);
        op.addProperty("path", path);
        op.add("value", value);
        ops.add(op);
    }

    boolean isEmpty() {
        return ops.isEmpty();
    }

    /** Number of taints the patch removes. */
    int removedTaints() {
        return removedTaints;
    }

    /** The pod CIDRs the patch sets, empty if none. */
    List<String> podCidrs() {
        return podCidrs;
    }

    /** The patch document. */
    String json() {
        return ops.toString();
    }

    @Override
    public String toString() {
        return json();
    }
}
