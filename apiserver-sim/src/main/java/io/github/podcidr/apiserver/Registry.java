package io.github.podcidr.apiserver;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The semantics of the verbs on top of the {@link Store}, as the generic registry of kube-apiserver implements them
 * ({@code staging/src/k8s.io/apiserver/pkg/registry/generic/registry/store.go}) together with the Node and Lease
 * strategies ({@code pkg/registry/core/node/strategy.go}, {@code pkg/registry/coordination/lease/strategy.go}).
 *
 * <p>Every read-modify-write runs under the store lock, so an update or patch is atomic and a stale
 * resourceVersion is always detected.
 */
final class Registry {
  /** Which part of an object an update writes: the main resource, the status subresource, or both (direct access). */
  enum Part { MAIN, STATUS, ALL }

  /** Namespaces that exist in every cluster. */
  static final List<String> INITIAL_NAMESPACES = List.of("default", "kube-system", "kube-public", "kube-node-lease");
  /** The taint admission puts on every new node. */
  static final String NOT_READY_TAINT = "node.kubernetes.io/not-ready";
  private static final char[] GENERATE_NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789".toCharArray();

  private final Store store;
  private final Clock clock;
  private final SecureRandom random = new SecureRandom();

  Registry(Store store, Clock clock) {
    this.store = store;
    this.clock = clock;
    for (String ns : INITIAL_NAMESPACES) {
      ObjectNode n = Json.object();
      n.putObject("metadata").put("name", ns);
      create(ResourceType.NAMESPACES, "", n, false);
    }
  }

  Store store() {
    return store;
  }

  // ---------------------------------------------------------------------------------------------- create

  StoredObject create(ResourceType type, String namespace, ObjectNode body, boolean dryRun) {
    checkKind(type, body);
    ObjectNode obj = body.deepCopy();
    ObjectNode meta = Json.child(obj, "metadata");
    setNamespace(type, namespace, meta);
    String name = Json.str(meta, "name");
    String generateName = Json.str(meta, "generateName");
    if ((name == null || name.isEmpty()) && generateName != null && !generateName.isEmpty()) {
      name = generateName + randomSuffix();
      meta.put("name", name);
    }
    meta.put("uid", UUID.randomUUID().toString());
    meta.put("creationTimestamp", Json.timestamp(clock.instant()));
    meta.remove(List.of("resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds", "managedFields",
        "selfLink"));
    if (type == ResourceType.NODES) {
      obj = NodeSchema.canonical(obj);
      meta = (ObjectNode) obj.get("metadata");
      addNotReadyTaint(obj);
    }
    prepareForCreate(type, obj);
    Validation.validate(type, obj, null);
    String ns = type.namespaced() ? Json.str(meta, "namespace") : "";
    String finalName = name;
    ObjectNode created = obj;
    return store.atomically(() -> {
      if (type.namespaced() && store.get(ResourceType.NAMESPACES, "", ns) == null) {
        throw StatusException.notFound(ResourceType.NAMESPACES, ns);
      }
      if (store.get(type, ns, finalName) != null) {
        throw StatusException.alreadyExists(type, finalName);
      }
      return commit(type, created, dryRun, false);
    });
  }

  /**
   * The admission plugin TaintNodesByCondition ({@code plugin/pkg/admission/nodetaint}): every node created through
   * the API gets {@code node.kubernetes.io/not-ready:NoSchedule} appended to its taints, unless a taint with that
   * key and effect is already there. The node lifecycle controller removes it once the node reports Ready; the
   * simulator runs no such controller.
   */
  private static void addNotReadyTaint(ObjectNode node) {
    ObjectNode spec = Json.child(node, "spec");
    JsonNode taints = spec.get("taints");
    ArrayNode list = taints instanceof ArrayNode a ? a : spec.putArray("taints");
    for (JsonNode t : list) {
      if (NOT_READY_TAINT.equals(Json.str(t, "key")) && "NoSchedule".equals(Json.str(t, "effect"))) {
        return;
      }
    }
    list.addObject().put("key", NOT_READY_TAINT).put("effect", "NoSchedule");
  }

  private String randomSuffix() {
    char[] c = new char[5];
    for (int i = 0; i < c.length; i++) {
      c[i] = GENERATE_NAME_ALPHABET[random.nextInt(GENERATE_NAME_ALPHABET.length)];
    }
    return new String(c);
  }

  private static void checkKind(ResourceType type, ObjectNode body) {
    String kind = Json.str(body, "kind");
    String apiVersion = Json.str(body, "apiVersion");
    // Bodies without kind/apiVersion are defaulted from the path, as the real decoder does for typed endpoints.
    if ((kind != null && !kind.isEmpty() && !kind.equals(type.kind()))
        || (apiVersion != null && !apiVersion.isEmpty() && !apiVersion.equals(type.apiVersion()))) {
      throw StatusException.badRequest(kind + " in version \"" + apiVersion + "\" cannot be handled as a "
          + type.kind() + ": the object's kind or apiVersion does not match the request path");
    }
  }

  private static void setNamespace(ResourceType type, String namespace, ObjectNode meta) {
    String bodyNs = Json.str(meta, "namespace");
    if (!type.namespaced()) {
      meta.remove("namespace");
      return;
    }
    if (bodyNs != null && !bodyNs.isEmpty() && !bodyNs.equals(namespace)) {
      throw StatusException.badRequest("the namespace of the provided object does not match the namespace sent on "
          + "the request");
    }
    meta.put("namespace", namespace);
  }

  private static void prepareForCreate(ResourceType type, ObjectNode obj) {
    if (type == ResourceType.NODES) {
      normalizePodCidrs(obj);
    } else if (type == ResourceType.NAMESPACES) {
      ObjectNode meta = (ObjectNode) obj.get("metadata");
      Json.child(meta, "labels").put("kubernetes.io/metadata.name", Json.str(meta, "name"));
      // Namespace strategy PrepareForCreate: the "kubernetes" finalizer is appended to those sent; status reset.
      ObjectNode spec = Json.child(obj, "spec");
      JsonNode finalizers = spec.get("finalizers");
      ArrayNode list = finalizers instanceof ArrayNode a ? a : spec.putArray("finalizers");
      boolean present = false;
      for (JsonNode f : list) {
        present |= f.asText().equals("kubernetes");
      }
      if (!present) {
        list.add("kubernetes");
      }
      obj.putObject("status").put("phase", "Active");
    }
  }

  /**
   * The v1 Node carries both {@code podCIDR} and {@code podCIDRs}; the internal type only the list. Conversion
   * ({@code pkg/apis/core/v1/conversion.go}, {@code Convert_v1_NodeSpec_To_core_NodeSpec} and back, as changed by
   * kubernetes#88505) treats a request whose {@code podCIDR} is set and disagrees with {@code podCIDRs[0]} as coming
   * from an old client: the singular rules and the list becomes {@code [podCIDR]}. Otherwise the list rules and
   * {@code podCIDR} is written back as {@code podCIDRs[0]}. A mismatch is thus never rejected as such, but a
   * {@code podCIDR} that disagrees with an assigned list fails the immutability rule of the update.
   */
  private static void normalizePodCidrs(ObjectNode node) {
    JsonNode specNode = node.get("spec");
    if (!(specNode instanceof ObjectNode)) {
      return;
    }
    ObjectNode spec = (ObjectNode) specNode;
    JsonNode list = spec.get("podCIDRs");
    boolean hasList = list != null && list.isArray() && list.size() > 0;
    String single = Json.str(spec, "podCIDR");
    if (single != null && !single.isEmpty() && (!hasList || !single.equals(list.get(0).asText()))) {
      spec.putArray("podCIDRs").add(single);
    } else if (hasList) {
      spec.set("podCIDR", list.get(0).deepCopy());
    } else {
      spec.remove("podCIDRs");
    }
  }

  // ---------------------------------------------------------------------------------------------- update

  /** PUT: full replacement of the main resource or of the status subresource. */
  StoredObject update(ResourceType type, String namespace, String name, ObjectNode body, Part part,
      boolean dryRun) {
    checkKind(type, body);
    ObjectNode meta = Json.child(body, "metadata");
    String bodyName = Json.str(meta, "name");
    if (bodyName != null && !bodyName.equals(name)) {
      throw StatusException.badRequest("the name of the object (" + bodyName + ") does not match the name on the "
          + "URL (" + name + ")");
    }
    if (type.namespaced()) {
      setNamespace(type, namespace, meta);
    }
    return store.atomically(() -> {
      StoredObject current = require(type, namespace, name);
      String rv = Json.str(meta, "resourceVersion");
      if (rv != null && !rv.isEmpty() && !rv.equals(Long.toString(current.resourceVersion))) {
        throw StatusException.staleResourceVersion(type, name);
      }
      return writeUpdate(type, current, body.deepCopy(), part, dryRun);
    });
  }

  /** PATCH of the three types; the patched result is then handled exactly as an update. */
  StoredObject patch(ResourceType type, String namespace, String name, String contentType, byte[] patchBody,
      Part part, boolean dryRun) {
    String mediaType = contentType == null ? "" : contentType.split(";")[0].trim().toLowerCase();
    if (!mediaType.equals("application/json-patch+json") && !mediaType.equals("application/merge-patch+json")
        && !mediaType.equals("application/strategic-merge-patch+json")) {
      throw StatusException.unsupportedMediaType(mediaType);
    }
    if (mediaType.equals("application/strategic-merge-patch+json")) {
      JsonNode p = Json.parse(patchBody);
      if (!p.isObject()) {
        throw StatusException.badRequest("json: cannot unmarshal " + goKind(p)
            + " into Go value of type map[string]interface {}");
      }
    } else if (mediaType.equals("application/merge-patch+json")) {
      JsonNode p = Json.parse(patchBody);
      if (!p.isObject()) {
        // The merge patch replaces the whole document, which then cannot be decoded as an object.
        throw StatusException.invalid("", "", "", List.of(FieldError.invalid("patch",
            FieldError.quote(Json.text(p)), "couldn't get version/kind; json parse error: json: cannot unmarshal "
            + goKind(p) + " into Go value of type struct { APIVersion string \"json:\\\"apiVersion,omitempty\\\"\"; "
            + "Kind string \"json:\\\"kind,omitempty\\\"\" }")));
      }
    }
    return store.atomically(() -> {
      StoredObject current = require(type, namespace, name);
      ObjectNode original = current.tree();
      JsonNode patched;
      switch (mediaType) {
        case "application/json-patch+json":
          patched = JsonPatch.apply(original, patchBody);
          break;
        case "application/merge-patch+json":
          patched = MergePatch.apply(original, Json.parse(patchBody));
          break;
        default:
          patched = StrategicMergePatch.apply(type, original, Json.parse(patchBody));
          break;
      }
      if (!patched.isObject()) {
        throw StatusException.badRequest("the patch produced a " + patched.getNodeType() + ", not an object");
      }
      ObjectNode result = (ObjectNode) patched;
      if (TypedDecoder.decodes(type)) {
        result = TypedDecoder.decodePatched(type, result); // leases, events, namespaces: pruned, times re-written
      }
      checkKind(type, result);
      ObjectNode meta = Json.child(result, "metadata");
      String rv = Json.str(meta, "resourceVersion");
      // A resourceVersion set by the patch itself is a precondition, as with update.
      if (rv != null && !rv.isEmpty() && !rv.equals(Long.toString(current.resourceVersion))) {
        throw StatusException.staleResourceVersion(type, name);
      }
      String patchedName = Json.str(meta, "name");
      if (patchedName != null && !patchedName.equals(name)) {
        throw StatusException.badRequest("the name of the object (" + patchedName + ") does not match the name on "
            + "the URL (" + name + ")");
      }
      return writeUpdate(type, current, result, part, dryRun);
    });
  }

  /** A JSON kind as Go's json errors name it. */
  private static String goKind(JsonNode n) {
    if (n.isArray()) {
      return "array";
    }
    if (n.isTextual()) {
      return "string";
    }
    if (n.isNumber()) {
      return "number";
    }
    return n.isBoolean() ? "bool" : n.isObject() ? "object" : "null";
  }

  private StoredObject require(ResourceType type, String namespace, String name) {
    StoredObject current = store.get(type, type.namespaced() ? namespace : "", name);
    if (current == null) {
      throw StatusException.notFound(type, name);
    }
    return current;
  }

  /** Applies the strategy's update rules to {@code obj}, validates, and stores it unless nothing changed. */
  private StoredObject writeUpdate(ResourceType type, StoredObject current, ObjectNode obj, Part part,
      boolean dryRun) {
    ObjectNode old = current.tree();
    ObjectNode oldMeta = (ObjectNode) old.get("metadata");
    ObjectNode meta = Json.child(obj, "metadata");
    obj.put("kind", type.kind());
    obj.put("apiVersion", type.apiVersion());
    // System fields are owned by the server (rest.FillObjectMetaSystemFields / BeforeUpdate).
    for (String f : List.of("uid", "creationTimestamp", "name", "namespace", "deletionTimestamp",
        "deletionGracePeriodSeconds")) {
      copyField(oldMeta, meta, f);
    }
    meta.remove("managedFields");
    if (type.hasStatus() && part != Part.ALL) {
      if (part == Part.STATUS) {
        // Status subresource: only the spec comes from the stored object (nodeStatusStrategy.PrepareForUpdate);
        // metadata such as labels is written as sent.
        copyField(old, obj, "spec");
      } else {
        copyField(old, obj, "status"); // nodeStrategy.PrepareForUpdate: newNode.Status = oldNode.Status
      }
    }
    if (type == ResourceType.NODES) {
      normalizePodCidrs(obj);
      obj = NodeSchema.canonical(obj);
      meta = (ObjectNode) obj.get("metadata");
    }
    Validation.validate(type, obj, old);
    meta.put("resourceVersion", Long.toString(current.resourceVersion));
    if (obj.equals(old)) {
      return current; // a no-op update does not write and keeps the resourceVersion
    }
    boolean finalized = meta.has("deletionTimestamp") && finalizers(meta).isEmpty();
    if (finalized && !dryRun) {
      long rv = store.nextResourceVersion();
      StoredObject last = freeze(type, obj, rv);
      store.remove(last);
      return last;
    }
    return commit(type, obj, dryRun, true);
  }

  private static void copyField(ObjectNode from, ObjectNode to, String field) {
    JsonNode v = from.get(field);
    if (v == null) {
      to.remove(field);
    } else {
      to.set(field, v.deepCopy());
    }
  }

  private static List<String> finalizers(ObjectNode meta) {
    List<String> out = new ArrayList<>();
    JsonNode f = meta.get("finalizers");
    if (f != null && f.isArray()) {
      f.forEach(x -> out.add(x.asText()));
    }
    return out;
  }

  // ---------------------------------------------------------------------------------------------- delete

  /** Result of a delete: the object now gone, or still present with a deletionTimestamp (finalizers pending). */
  record Deletion(StoredObject object, boolean pending) {}

  Deletion delete(ResourceType type, String namespace, String name, JsonNode options, boolean dryRun) {
    return store.atomically(() -> {
      StoredObject current = require(type, namespace, name);
      JsonNode pre = options == null ? null : options.get("preconditions");
      if (pre != null && pre.isObject()) {
        String uidPre = Json.str(pre, "uid");
        String rvPre = Json.str(pre, "resourceVersion");
        ObjectNode meta = (ObjectNode) current.tree().get("metadata");
        // storage.NewInvalidObjError turned into a Conflict that names the kind (the registry's Delete).
        if (uidPre != null && !uidPre.equals(Json.str(meta, "uid"))) {
          throw preconditionFailed(type, name, "the UID in the precondition (" + uidPre + ") does not match the UID "
              + "in record (" + Json.str(meta, "uid") + "). The object might have been deleted and then recreated");
        }
        if (rvPre != null && !rvPre.equals(Long.toString(current.resourceVersion))) {
          throw preconditionFailed(type, name, "the ResourceVersion in the precondition (" + rvPre + ") does not "
              + "match the ResourceVersion in record (" + current.resourceVersion + "). The object might have been "
              + "modified");
        }
      }
      ObjectNode obj = current.tree();
      ObjectNode meta = (ObjectNode) obj.get("metadata");
      if (!finalizers(meta).isEmpty()) {
        if (meta.has("deletionTimestamp")) {
          return new Deletion(current, true);
        }
        meta.put("deletionTimestamp", Json.timestamp(clock.instant()));
        meta.put("deletionGracePeriodSeconds", 0);
        return new Deletion(commit(type, obj, dryRun, true), true);
      }
      if (dryRun) {
        return new Deletion(current, false);
      }
      long rv = store.nextResourceVersion();
      StoredObject last = freeze(type, obj, rv);
      store.remove(last);
      return new Deletion(last, false);
    });
  }

  private static StatusException preconditionFailed(ResourceType type, String name, String why) {
    ObjectNode d = Json.object();
    d.put("name", name);
    if (!type.group().isEmpty()) {
      d.put("group", type.group());
    }
    d.put("kind", type.kind());
    String qualified = type.group().isEmpty() ? type.kind() : type.kind() + "." + type.group();
    return new StatusException(409, "Conflict", "Operation cannot be fulfilled on " + qualified + " \"" + name
        + "\": " + why, d, 0);
  }

  List<Deletion> deleteCollection(ResourceType type, String namespace, Selector selector, boolean dryRun) {
    return store.atomically(() -> {
      List<Deletion> out = new ArrayList<>();
      for (StoredObject o : store.list(type, namespace, selector).items()) {
        out.add(delete(type, o.namespace, o.name, null, dryRun));
      }
      return out;
    });
  }

  // ---------------------------------------------------------------------------------------------- storage

  private StoredObject commit(ResourceType type, ObjectNode obj, boolean dryRun, boolean update) {
    if (dryRun) {
      return freeze(type, obj, update ? Long.parseLong(Json.str(obj.get("metadata"), "resourceVersion")) : 0);
    }
    StoredObject frozen = freeze(type, obj, store.nextResourceVersion());
    store.put(frozen);
    return frozen;
  }

  /** Serialises {@code obj} with {@code rv} into an immutable stored version (kind/apiVersion dropped). */
  StoredObject freeze(ResourceType type, ObjectNode obj, long rv) {
    ObjectNode copy = obj.deepCopy();
    copy.remove("kind");
    copy.remove("apiVersion");
    ObjectNode meta = Json.child(copy, "metadata");
    meta.put("resourceVersion", Long.toString(rv));
    Map<String, String> labels = new HashMap<>();
    JsonNode l = meta.get("labels");
    if (l != null && l.isObject()) {
      for (Map.Entry<String, JsonNode> e : l.properties()) {
        labels.put(store.intern(e.getKey()), store.intern(e.getValue().asText()));
      }
    }
    String ns = type.namespaced() ? Json.str(meta, "namespace") : "";
    return new StoredObject(type, ns == null ? "" : store.intern(ns), Json.str(meta, "name"), rv,
        Map.copyOf(labels), store.codec(), store.codec().encode(type, Json.bytes(copy)));
  }

  static ArrayNode itemsArray(List<StoredObject> objects) {
    ArrayNode a = Json.NODES.arrayNode();
    objects.forEach(o -> a.add(Json.parseObject(o.json())));
    return a;
  }
}
