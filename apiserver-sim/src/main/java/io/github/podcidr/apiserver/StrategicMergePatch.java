package io.github.podcidr.apiserver;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Strategic merge patch ({@code application/strategic-merge-patch+json}) for the served types, following
 * {@code k8s.io/apimachinery/pkg/util/strategicpatch/patch.go} and the struct tags of {@code k8s.io/api}.
 *
 * <p>Maps merge as in a merge patch. A list is merged only where its field carries {@code patchStrategy:"merge"};
 * every other list is replaced by the patch's list as sent (directives in its items are not read). Lists of objects merge by their {@code patchMergeKey}; lists of scalars merge as a
 * union keeping order. Directives: {@code $patch: replace|delete} on a map or a list item,
 * {@code $deleteFromPrimitiveList/<field>}, {@code $retainKeys}; {@code $setElementOrder/<field>} is accepted and
 * ignored (merged lists keep the server's order, new items appended).
 */
final class StrategicMergePatch {
  /** How one list field is merged. {@code mergeKey} null with {@code merge} true: a set of scalars. */
  private record ListStrategy(boolean merge, String mergeKey) {}

  private static final ListStrategy REPLACE = new ListStrategy(false, null);

  /**
   * Field path (dot-separated, list items not counted) to its strategy, from the {@code patchStrategy} and
   * {@code patchMergeKey} tags in {@code k8s.io/api/core/v1/types.go}, {@code coordination/v1/types.go} and
   * {@code k8s.io/apimachinery/pkg/apis/meta/v1/types.go}. Notably {@code spec.podCIDRs} is a merged set and
   * {@code spec.taints} carries no strategy, so a patch replaces the whole taint list.
   */
  private static final Map<String, ListStrategy> STRATEGIES = Map.ofEntries(
      Map.entry("metadata.finalizers", new ListStrategy(true, null)),
      Map.entry("metadata.ownerReferences", new ListStrategy(true, "uid")),
      Map.entry("spec.podCIDRs", new ListStrategy(true, null)),
      Map.entry("status.conditions", new ListStrategy(true, "type")),
      Map.entry("status.addresses", new ListStrategy(true, "type")));

  private StrategicMergePatch() {}

  static JsonNode apply(ResourceType type, JsonNode original, JsonNode patch) {
    if (!patch.isObject()) {
      throw StatusException.badRequest("a strategic merge patch must be a JSON object");
    }
    JsonNode merged = mergeMap((ObjectNode) original.deepCopy(), (ObjectNode) patch, "");
    return merged == null ? Json.object() : merged;
  }

  private static ListStrategy strategy(String path) {
    return STRATEGIES.getOrDefault(path, REPLACE);
  }

  private static String join(String path, String field) {
    return path.isEmpty() ? field : path + "." + field;
  }

  /** Returns the merged map, or null when the patch deletes it. */
  private static ObjectNode mergeMap(ObjectNode original, ObjectNode patch, String path) {
    String directive = Json.str(patch, "$patch");
    if ("delete".equals(directive)) {
      return null;
    }
    if ("replace".equals(directive)) {
      ObjectNode replaced = patch.deepCopy();
      replaced.remove("$patch");
      stripDirectives(replaced);
      return replaced;
    }
    if (directive != null && !"merge".equals(directive)) {
      throw StatusException.badRequest("Unknown patch type: " + directive + " in map: " + Json.text(patch));
    }
    JsonNode retainKeys = patch.get("$retainKeys");
    for (Map.Entry<String, JsonNode> e : patch.properties()) {
      String key = e.getKey();
      JsonNode value = e.getValue();
      if (key.equals("$patch") || key.equals("$retainKeys") || key.startsWith("$setElementOrder/")) {
        continue;
      }
      if (key.startsWith("$deleteFromPrimitiveList/")) {
        String field = key.substring("$deleteFromPrimitiveList/".length());
        JsonNode list = original.get(field);
        if (list instanceof ArrayNode && value.isArray()) {
          Set<JsonNode> drop = new HashSet<>();
          value.forEach(drop::add);
          ArrayNode kept = Json.NODES.arrayNode();
          list.forEach(v -> {
            if (!drop.contains(v)) {
              kept.add(v);
            }
          });
          original.set(field, kept);
        }
        continue;
      }
      if (value.isNull()) {
        original.remove(key);
        continue;
      }
      JsonNode current = original.get(key);
      String childPath = join(path, key);
      if (current == null || current.isNull() || current.getNodeType() != value.getNodeType()) {
        // Not in the original (or of another type): the patch value is taken as it is, directives included;
        // decoding into the Go type then drops the keys it does not know.
        original.set(key, value.deepCopy());
      } else if (value.isObject()) {
        if (current instanceof ObjectNode) {
          ObjectNode merged = mergeMap((ObjectNode) current, (ObjectNode) value, childPath);
          if (merged == null) {
            original.remove(key);
          } else {
            original.set(key, merged);
          }
        } else {
          ObjectNode fresh = mergeMap(Json.object(), (ObjectNode) value, childPath);
          if (fresh != null) {
            original.set(key, fresh);
          }
        }
      } else if (value.isArray()) {
        original.set(key, mergeList(current instanceof ArrayNode ? (ArrayNode) current : null, (ArrayNode) value,
            strategy(childPath), childPath));
      } else {
        original.set(key, value.deepCopy());
      }
    }
    if (retainKeys != null && retainKeys.isArray()) {
      Set<String> keep = new HashSet<>();
      retainKeys.forEach(k -> keep.add(k.asText()));
      original.properties().removeIf(e -> !keep.contains(e.getKey()));
    }
    return original;
  }

  private static ArrayNode mergeList(ArrayNode original, ArrayNode patch, ListStrategy strategy, String path) {
    if (!strategy.merge() || original == null) {
      // mergeSliceHandler: a list without the merge strategy is replaced by the patch's list as it is; a directive
      // inside an item ({"$patch":"delete"}) is not read, and decoding drops it as an unknown field (so
      // {"$patch":"delete"} alone in spec.taints leaves a taint without key and effect: 422).
      return patch.deepCopy();
    }
    for (JsonNode item : patch) {
      if (item.isObject() && "replace".equals(Json.str(item, "$patch"))) {
        ArrayNode replaced = Json.NODES.arrayNode();
        for (JsonNode i : patch) {
          if (!(i.isObject() && i.has("$patch"))) {
            replaced.add(i.deepCopy());
          }
        }
        return replaced;
      }
    }
    ArrayNode result = original.deepCopy();
    if (strategy.mergeKey() == null) {
      Set<JsonNode> present = new HashSet<>();
      result.forEach(present::add);
      for (JsonNode i : patch) {
        if (present.add(i)) {
          result.add(i.deepCopy());
        }
      }
      return normalizeOrder(result, patch, null);
    }
    String mergeKey = strategy.mergeKey();
    for (JsonNode item : patch) {
      if (!item.isObject() || !item.has(mergeKey)) {
        throw StatusException.badRequest("map: " + Json.text(item) + " does not contain declared merge key: "
            + mergeKey);
      }
      JsonNode keyValue = item.get(mergeKey);
      int found = -1;
      for (int i = 0; i < result.size(); i++) {
        if (keyValue.equals(result.get(i).get(mergeKey))) {
          found = i;
          break;
        }
      }
      if ("delete".equals(Json.str(item, "$patch"))) {
        if (found >= 0) {
          result.remove(found);
        }
        continue;
      }
      if (found >= 0) {
        ObjectNode merged = mergeMap((ObjectNode) result.get(found), (ObjectNode) item, path);
        result.set(found, merged);
      } else {
        ObjectNode fresh = mergeMap(Json.object(), (ObjectNode) item, path);
        if (fresh != null) {
          result.add(fresh);
        }
      }
    }
    return normalizeOrder(result, patch, mergeKey);
  }

  /** The identity of a list item: its merge key's value, or the item itself for a list of scalars. */
  private static JsonNode identity(JsonNode item, String mergeKey) {
    return mergeKey == null ? item : item.get(mergeKey);
  }

  private static int indexIn(List<JsonNode> order, JsonNode item, String mergeKey) {
    return order.indexOf(identity(item, mergeKey));
  }

  /**
   * The order of a merged list ({@code normalizeElementOrder} in {@code strategicpatch/patch.go}): the items the
   * patch names come in the patch's order, the items only the server has keep theirs, and the two are interleaved
   * so that a server-only item stays in front of a patch item it preceded in the merged list.
   */
  private static ArrayNode normalizeOrder(ArrayNode merged, ArrayNode patch, String mergeKey) {
    List<JsonNode> patchOrder = new ArrayList<>();
    for (JsonNode p : patch) {
      if (!(p.isObject() && p.has("$patch")) && identity(p, mergeKey) != null) {
        patchOrder.add(identity(p, mergeKey));
      }
    }
    List<JsonNode> serverOrder = new ArrayList<>();
    merged.forEach(m -> serverOrder.add(identity(m, mergeKey)));
    List<JsonNode> fromPatch = new ArrayList<>();
    List<JsonNode> serverOnly = new ArrayList<>();
    for (JsonNode m : merged) {
      (indexIn(patchOrder, m, mergeKey) >= 0 ? fromPatch : serverOnly).add(m);
    }
    fromPatch.sort((x, y) -> Integer.compare(indexIn(patchOrder, x, mergeKey), indexIn(patchOrder, y, mergeKey)));
    ArrayNode out = Json.NODES.arrayNode();
    int i = 0;
    int j = 0;
    while (i < serverOnly.size() || j < fromPatch.size()) {
      if (j >= fromPatch.size()) {
        out.add(serverOnly.get(i++));
      } else if (i >= serverOnly.size()) {
        out.add(fromPatch.get(j++));
      } else {
        int li = indexIn(serverOrder, serverOnly.get(i), mergeKey);
        int ri = indexIn(serverOrder, fromPatch.get(j), mergeKey);
        out.add(li >= 0 && ri >= 0 && li < ri ? serverOnly.get(i++) : fromPatch.get(j++));
      }
    }
    return out;
  }

  private static void stripDirectives(ObjectNode node) {
    List<String> drop = new ArrayList<>();
    node.fieldNames().forEachRemaining(n -> {
      if (n.startsWith("$")) {
        drop.add(n);
      }
    });
    node.remove(drop);
  }
}
