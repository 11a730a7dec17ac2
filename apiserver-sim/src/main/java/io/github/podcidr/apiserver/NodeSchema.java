package io.github.podcidr.apiserver;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a Node looks like after kube-apiserver decoded it into the Go type {@code k8s.io/api/core/v1.Node} and
 * encoded it again: unknown fields are dropped, fields without {@code omitempty} are always written (an empty
 * {@code spec}, {@code status.daemonEndpoints.kubeletEndpoint.Port: 0}, the ten strings of {@code status.nodeInfo},
 * {@code creationTimestamp: null}), fields with {@code omitempty} are dropped when empty ({@code ""}, 0, false,
 * empty list or map), and the defaulting of {@code SetDefaults_NodeStatus} copies {@code capacity} into a missing
 * {@code allocatable}.
 *
 * <p>The field list is the v1 Node the simulator serves (1.34): it includes fields added after 1.20
 * ({@code status.runtimeHandlers}, {@code status.features}, {@code status.nodeInfo.swap}); {@code spec.configSource}
 * and {@code status.config} pass through unchanged.
 */
final class NodeSchema {
  /** How a field is written back. */
  private sealed interface Field permits Scalar, Struct, ListOf, MapOf, Raw {}

  /**
   * A string, number or boolean. {@code omitEmpty}: dropped when "", 0 or false; otherwise written with
   * {@code zero} when missing. {@code pointer}: dropped only when missing or null.
   */
  private record Scalar(boolean omitEmpty, boolean pointer, JsonNode zero) implements Field {}

  /** A Go struct; {@code pointer}: dropped when missing or null, else always written (omitempty never drops a struct). */
  private record Struct(Map<String, Field> fields, boolean pointer) implements Field {}

  /** A list; {@code omitEmpty}: dropped when empty; without it a missing list is written as null. */
  private record ListOf(Field item, boolean omitEmpty) implements Field {}

  /** A map of strings (labels, annotations, quantities), dropped when empty. */
  private record MapOf() implements Field {}

  /** Kept as sent (raw JSON fields, structures the simulator does not model). */
  private record Raw() implements Field {}

  private static final Scalar STR = new Scalar(true, false, null);
  private static final Scalar STR_REQUIRED = new Scalar(false, false, Json.NODES.textNode(""));
  private static final Scalar INT_REQUIRED = new Scalar(false, false, Json.NODES.numberNode(0));
  private static final Scalar POINTER = new Scalar(false, true, null);
  /** metav1.Time as a struct field: written as null when unset. */
  private static final Scalar TIME = new Scalar(false, false, NullNode.getInstance());
  private static final MapOf MAP = new MapOf();
  private static final Raw RAW = new Raw();

  private static final Struct NODE = struct(false,
      "metadata", struct(false,
          "name", STR, "generateName", STR, "namespace", STR, "selfLink", STR, "uid", STR, "resourceVersion", STR,
          "generation", STR, "creationTimestamp", TIME, "deletionTimestamp", POINTER,
          "deletionGracePeriodSeconds", POINTER, "labels", MAP, "annotations", MAP,
          "ownerReferences", list(struct(false, "apiVersion", STR_REQUIRED, "kind", STR_REQUIRED,
              "name", STR_REQUIRED, "uid", STR_REQUIRED, "controller", POINTER, "blockOwnerDeletion", POINTER)),
          "finalizers", list(STR_REQUIRED),
          "managedFields", list(RAW)),
      "spec", struct(false,
          "podCIDR", STR, "podCIDRs", list(STR_REQUIRED), "providerID", STR, "unschedulable", STR,
          "taints", list(struct(false, "key", STR_REQUIRED, "value", STR, "effect", STR_REQUIRED,
              "timeAdded", POINTER)),
          "configSource", RAW, "externalID", STR),
      "status", struct(false,
          "capacity", MAP, "allocatable", MAP, "phase", STR,
          "conditions", list(struct(false, "type", STR_REQUIRED, "status", STR_REQUIRED,
              "lastHeartbeatTime", TIME, "lastTransitionTime", TIME, "reason", STR, "message", STR)),
          "addresses", list(struct(false, "type", STR_REQUIRED, "address", STR_REQUIRED)),
          "daemonEndpoints", struct(false, "kubeletEndpoint", struct(false, "Port", INT_REQUIRED)),
          "nodeInfo", struct(false, "machineID", STR_REQUIRED, "systemUUID", STR_REQUIRED,
              "bootID", STR_REQUIRED, "kernelVersion", STR_REQUIRED, "osImage", STR_REQUIRED,
              "containerRuntimeVersion", STR_REQUIRED, "kubeletVersion", STR_REQUIRED,
              "kubeProxyVersion", STR_REQUIRED, "operatingSystem", STR_REQUIRED, "architecture", STR_REQUIRED,
              "swap", struct(true, "capacity", POINTER)),
          "images", list(struct(false, "names", new ListOf(STR_REQUIRED, false), "sizeBytes", STR)),
          "volumesInUse", list(STR_REQUIRED),
          "volumesAttached", list(struct(false, "name", STR_REQUIRED, "devicePath", STR_REQUIRED)),
          "config", RAW,
          "runtimeHandlers", list(struct(false, "name", STR_REQUIRED,
              "features", struct(true, "recursiveReadOnlyMounts", POINTER, "userNamespaces", POINTER))),
          "features", struct(true, "supplementalGroupsPolicy", POINTER)));

  private NodeSchema() {}

  private static Struct struct(boolean pointer, Object... nameAndField) {
    Map<String, Field> fields = new LinkedHashMap<>();
    for (int i = 0; i < nameAndField.length; i += 2) {
      fields.put((String) nameAndField[i], (Field) nameAndField[i + 1]);
    }
    return new Struct(fields, pointer);
  }

  private static ListOf list(Field item) {
    return new ListOf(item, true);
  }

  /**
   * The node as kube-apiserver stores it: {@code kind} and {@code apiVersion} kept, everything else written back
   * through the v1 Node type, then defaulted.
   */
  static ObjectNode canonical(ObjectNode node) {
    ObjectNode out = (ObjectNode) write(node, NODE);
    JsonNode kind = node.get("kind");
    JsonNode apiVersion = node.get("apiVersion");
    ObjectNode result = Json.object();
    if (kind != null && !kind.isNull()) {
      result.set("kind", kind);
    }
    if (apiVersion != null && !apiVersion.isNull()) {
      result.set("apiVersion", apiVersion);
    }
    result.setAll(out);
    ObjectNode status = (ObjectNode) result.get("status");
    if (!status.has("allocatable") && status.has("capacity")) {
      status.set("allocatable", status.get("capacity").deepCopy());
    }
    return result;
  }

  /** An empty Node as the Go type encodes it (the object of a watch BOOKMARK), with a resourceVersion. */
  static ObjectNode empty(long resourceVersion) {
    ObjectNode n = Json.object();
    n.put("kind", ResourceType.NODES.kind());
    n.put("apiVersion", ResourceType.NODES.apiVersion());
    n.putObject("metadata").put("resourceVersion", Long.toString(resourceVersion));
    return canonical(n);
  }

  /** The written value, or null when the field is omitted. */
  private static JsonNode write(JsonNode value, Field field) {
    boolean missing = value == null || value.isNull();
    if (field instanceof Raw) {
      return missing ? null : value.deepCopy();
    }
    if (field instanceof Scalar s) {
      if (missing) {
        return s.zero();
      }
      if (s.pointer()) {
        return value.deepCopy();
      }
      if (s.omitEmpty() && isZero(value)) {
        return null;
      }
      return value.deepCopy();
    }
    if (field instanceof MapOf) {
      return missing || (value.isObject() && value.isEmpty()) ? null : value.deepCopy();
    }
    if (field instanceof ListOf l) {
      if (missing || (value.isArray() && value.isEmpty())) {
        return l.omitEmpty() ? null : NullNode.getInstance();
      }
      if (!value.isArray()) {
        return value.deepCopy();
      }
      ArrayNode out = Json.NODES.arrayNode();
      for (JsonNode item : value) {
        JsonNode w = write(item, l.item());
        out.add(w == null ? NullNode.getInstance() : w);
      }
      return out;
    }
    Struct st = (Struct) field;
    if (missing && st.pointer()) {
      return null;
    }
    if (!missing && !value.isObject()) {
      return value.deepCopy(); // a type error the decoder would refuse; left for validation to see
    }
    ObjectNode out = Json.object();
    for (Map.Entry<String, Field> f : st.fields().entrySet()) {
      JsonNode w = write(missing ? null : value.get(f.getKey()), f.getValue());
      if (w != null) {
        out.set(f.getKey(), w);
      }
    }
    return out;
  }

  private static boolean isZero(JsonNode v) {
    return (v.isTextual() && v.asText().isEmpty()) || (v.isNumber() && v.asDouble() == 0)
        || (v.isBoolean() && !v.asBoolean());
  }
}
