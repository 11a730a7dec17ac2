package io.github.podcidr.apiserver;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * JSON Patch as kube-apiserver applies it: with the library it vendors (evanphx/json-patch v4), whose semantics
 * differ from RFC 6902 in ways clients notice:
 *
 * <ul>
 *   <li>{@code replace} of a missing object member adds it; {@code remove} of one fails;
 *   <li>{@code test} of a missing member passes when the expected value is {@code null}; a test of a present
 *       member against {@code null} fails;
 *   <li>a missing {@code value} is {@code null}; an unknown {@code op}, a missing or non-string {@code path}, the
 *       path {@code ""}, a path whose parent does not exist: the operation does not apply;
 *   <li>the first token of a path is not read (the library splits on {@code /} and skips the first part, so
 *       {@code a/b} means {@code /b});
 *   <li>array indices may be negative (counted from the end) for {@code add} and {@code remove}; {@code -}
 *       appends.
 * </ul>
 *
 * <p>A document that is not a JSON array of objects answers 400 BadRequest ({@code json: cannot unmarshal ... into
 * Go value of type jsonpatch.Patch}); any operation that does not apply answers 422 with the generic message and
 * empty details ({@code staging/src/k8s.io/apiserver/pkg/endpoints/handlers/patch.go}, {@code applyJSPatch}). The
 * operations run in order on a copy: all or nothing.
 */
final class JsonPatch {
  private JsonPatch() {}

  static JsonNode apply(JsonNode document, byte[] patchBody) {
    JsonNode patch = Json.parse(patchBody);
    if (!patch.isArray()) {
      throw StatusException.badRequest("json: cannot unmarshal " + goKind(patch)
          + " into Go value of type jsonpatch.Patch");
    }
    for (JsonNode op : patch) {
      if (!op.isObject() && !op.isNull()) {
        throw StatusException.badRequest("json: cannot unmarshal " + goKind(op)
            + " into Go value of type jsonpatch.Operation");
      }
    }
    JsonNode doc = document.deepCopy();
    for (JsonNode op : patch) {
      applyOne(doc, op.isNull() ? Json.object() : (ObjectNode) op);
    }
    return doc;
  }

  private static String goKind(JsonNode n) {
    if (n.isObject()) {
      return "object";
    }
    if (n.isArray()) {
      return "array";
    }
    if (n.isTextual()) {
      return "string";
    }
    if (n.isNumber()) {
      return "number";
    }
    return n.isBoolean() ? "bool" : "null";
  }

  private static StatusException notApplicable(String why) {
    return StatusException.jsonPatchNotApplicable(why);
  }

  private static void applyOne(JsonNode doc, ObjectNode op) {
    JsonNode kindNode = op.get("op");
    String kind = kindNode != null && kindNode.isTextual() ? kindNode.asText() : "Unknown";
    JsonNode pathNode = op.get("path");
    JsonNode value = op.has("value") ? op.get("value").deepCopy() : NullNode.getInstance();
    switch (kind) {
      case "add":
        add(doc, path(pathNode, kind), value);
        break;
      case "remove":
        remove(doc, path(pathNode, kind));
        break;
      case "replace":
        replace(doc, path(pathNode, kind), value);
        break;
      case "move": {
        String from = path(op.get("from"), kind);
        String to = path(pathNode, kind);
        JsonNode moved = get(doc, from, kind);
        remove(doc, from);
        add(doc, to, moved);
        break;
      }
      case "copy": {
        String from = path(op.get("from"), kind);
        add(doc, path(pathNode, kind), get(doc, from, kind).deepCopy());
        break;
      }
      case "test":
        test(doc, path(pathNode, kind), op.has("value") ? value : null);
        break;
      default:
        throw notApplicable("Unexpected kind: " + kind);
    }
  }

  private static String path(JsonNode node, String op) {
    if (node == null || !node.isTextual()) {
      throw notApplicable(op + " operation missing path field");
    }
    return node.asText();
  }

  /** The container holding the last token of {@code path}, and that token; null when it does not exist. */
  private record Location(JsonNode container, String key) {}

  private static Location find(JsonNode doc, String path) {
    String[] split = path.split("/", -1);
    if (split.length < 2) {
      return null;
    }
    JsonNode cur = doc;
    for (int i = 1; i < split.length - 1; i++) {
      String part = decode(split[i]);
      JsonNode next;
      if (cur.isObject()) {
        next = cur.get(part);
      } else {
        Integer idx = index(part);
        next = idx == null || idx < 0 || idx >= cur.size() ? null : cur.get(idx);
      }
      if (next == null || !(next.isObject() || next.isArray())) {
        return null;
      }
      cur = next;
    }
    return new Location(cur, decode(split[split.length - 1]));
  }

  private static String decode(String token) {
    return token.replace("~1", "/").replace("~0", "~");
  }

  private static Integer index(String token) {
    try {
      return Integer.parseInt(token);
    } catch (NumberFormatException e) {
      return null;
    }
  }

  private static Location require(JsonNode doc, String path, String op) {
    Location loc = find(doc, path);
    if (loc == null) {
      throw notApplicable(op + " operation does not apply: doc is missing path: " + path);
    }
    return loc;
  }

  /** The member or element, null when an object lacks it (or holds null); out-of-range indices fail. */
  private static JsonNode member(Location loc, String path, String op) {
    if (loc.container().isObject()) {
      JsonNode v = loc.container().get(loc.key());
      return v == null || v.isNull() ? null : v;
    }
    Integer idx = index(loc.key());
    if (idx == null || idx < 0 || idx >= loc.container().size()) {
      throw notApplicable(op + " operation does not apply: invalid index in " + path);
    }
    JsonNode v = loc.container().get(idx);
    return v.isNull() ? null : v;
  }

  private static void add(JsonNode doc, String path, JsonNode value) {
    Location loc = require(doc, path, "add");
    if (loc.container().isObject()) {
      ((ObjectNode) loc.container()).set(loc.key(), value);
      return;
    }
    ArrayNode array = (ArrayNode) loc.container();
    if (loc.key().equals("-")) {
      array.add(value);
      return;
    }
    Integer idx = index(loc.key());
    int size = array.size() + 1;
    if (idx == null || idx >= size || idx < -size) {
      throw notApplicable("add operation does not apply: invalid index in " + path);
    }
    array.insert(idx < 0 ? idx + size : idx, value);
  }

  private static void remove(JsonNode doc, String path) {
    Location loc = require(doc, path, "remove");
    if (loc.container().isObject()) {
      if (!loc.container().has(loc.key())) {
        throw notApplicable("remove operation does not apply: doc is missing key: " + path);
      }
      ((ObjectNode) loc.container()).remove(loc.key());
      return;
    }
    ArrayNode array = (ArrayNode) loc.container();
    Integer idx = index(loc.key());
    if (idx == null || idx >= array.size() || idx < -array.size()) {
      throw notApplicable("remove operation does not apply: invalid index in " + path);
    }
    array.remove(idx < 0 ? idx + array.size() : idx);
  }

  private static void replace(JsonNode doc, String path, JsonNode value) {
    Location loc = require(doc, path, "replace");
    if (loc.container().isObject()) {
      ((ObjectNode) loc.container()).set(loc.key(), value); // a missing member is added
      return;
    }
    member(loc, path, "replace");
    ((ArrayNode) loc.container()).set(index(loc.key()), value);
  }

  private static JsonNode get(JsonNode doc, String path, String op) {
    Location loc = require(doc, path, op);
    JsonNode v = member(loc, path, op);
    if (v == null) {
      throw notApplicable(op + " operation does not apply: doc is missing from path: " + path);
    }
    return v;
  }

  /** {@code expected} null: the operation had no value (treated as null). */
  private static void test(JsonNode doc, String path, JsonNode expected) {
    Location loc = require(doc, path, "test");
    JsonNode actual = member(loc, path, "test");
    boolean expectNull = expected == null || expected.isNull();
    if (actual == null ? expectNull : !expectNull && actual.equals(expected)) {
      return;
    }
    throw notApplicable("testing value " + path + " failed");
  }
}
