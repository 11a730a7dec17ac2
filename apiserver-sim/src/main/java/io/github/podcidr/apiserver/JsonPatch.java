package io.github.podcidr.apiserver;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;

/**
 * RFC 6902 JSON Patch: add, remove, replace, move, copy, test, applied in order to a copy, all or nothing.
 *
 * <p>kube-apiserver ({@code staging/src/k8s.io/apiserver/pkg/endpoints/handlers/patch.go}, {@code applyJSPatch})
 * answers a patch document it cannot decode with 400 BadRequest, and one whose operations do not apply (a failed
 * {@code test}, a missing path) with 422 via {@code NewGenericServerResponse}; the operation errors below keep the
 * wording of the patch library it uses (evanphx/json-patch), e.g. {@code testing value /spec/podCIDR failed: test
 * failed}.
 */
final class JsonPatch {
  private JsonPatch() {}

  static JsonNode apply(JsonNode document, byte[] patchBody) {
    JsonNode patch = Json.parse(patchBody);
    if (!patch.isArray()) {
      throw StatusException.badRequest("json: cannot unmarshal " + patch.getNodeType().toString().toLowerCase()
          + " into Go value of type jsonpatch.Patch");
    }
    List<ObjectNode> ops = new ArrayList<>();
    for (JsonNode op : patch) {
      if (!op.isObject() || Json.str(op, "op") == null || Json.str(op, "path") == null) {
        throw StatusException.badRequest("invalid JSON patch operation: " + Json.text(op));
      }
      String kind = Json.str(op, "op");
      if (!List.of("add", "remove", "replace", "move", "copy", "test").contains(kind)) {
        throw StatusException.badRequest("Unexpected kind: " + kind);
      }
      if (List.of("add", "replace", "test").contains(kind) && !op.has("value")) {
        throw StatusException.badRequest("missing value for op " + kind);
      }
      if (List.of("move", "copy").contains(kind) && Json.str(op, "from") == null) {
        throw StatusException.badRequest("missing from for op " + kind);
      }
      ops.add((ObjectNode) op);
    }
    JsonNode doc = document.deepCopy();
    for (ObjectNode op : ops) {
      doc = applyOne(doc, op);
    }
    return doc;
  }

  private static JsonNode applyOne(JsonNode doc, ObjectNode op) {
    String kind = Json.str(op, "op");
    String path = Json.str(op, "path");
    switch (kind) {
      case "add":
        return add(doc, path, op.get("value").deepCopy(), "add");
      case "remove":
        remove(doc, path, "remove");
        return doc;
      case "replace": {
        if (path.isEmpty()) {
          return op.get("value").deepCopy();
        }
        Location loc = locate(doc, path, "replace");
        if (!loc.exists()) {
          throw notApplicable("replace operation does not apply: doc is missing key: " + path + ": missing value");
        }
        loc.set(op.get("value").deepCopy());
        return doc;
      }
      case "move": {
        String from = Json.str(op, "from");
        JsonNode value = get(doc, from, "move");
        remove(doc, from, "move");
        return add(doc, path, value, "move");
      }
      case "copy": {
        JsonNode value = get(doc, Json.str(op, "from"), "copy").deepCopy();
        return add(doc, path, value, "copy");
      }
      default: { // test
        JsonNode actual = path.isEmpty() ? doc : locateOrNull(doc, path);
        JsonNode expected = op.get("value");
        boolean equal = actual == null ? expected.isNull() : actual.equals(expected);
        if (!equal) {
          throw notApplicable("testing value " + path + " failed: test failed");
        }
        return doc;
      }
    }
  }

  private static StatusException notApplicable(String message) {
    return StatusException.jsonPatchNotApplicable(message);
  }

  private static JsonNode add(JsonNode doc, String path, JsonNode value, String op) {
    if (path.isEmpty()) {
      return value;
    }
    Location loc = locate(doc, path, op);
    if (loc.parent.isArray()) {
      ArrayNode array = (ArrayNode) loc.parent;
      int index = loc.token.equals("-") ? array.size() : parseIndex(loc.token, path, op);
      if (index < 0 || index > array.size()) {
        throw notApplicable(op + " operation does not apply: doc is missing path: \"" + path
            + "\": invalid index");
      }
      array.insert(index, value);
    } else {
      ((ObjectNode) loc.parent).set(loc.token, value);
    }
    return doc;
  }

  private static void remove(JsonNode doc, String path, String op) {
    Location loc = locate(doc, path, op);
    if (!loc.exists()) {
      throw notApplicable(op + " operation does not apply: doc is missing path: \"" + path + "\": missing value");
    }
    if (loc.parent.isArray()) {
      ((ArrayNode) loc.parent).remove(parseIndex(loc.token, path, op));
    } else {
      ((ObjectNode) loc.parent).remove(loc.token);
    }
  }

  private static JsonNode get(JsonNode doc, String path, String op) {
    JsonNode v = path.isEmpty() ? doc : locateOrNull(doc, path);
    if (v == null) {
      throw notApplicable(op + " operation does not apply: doc is missing from path: \"" + path
          + "\": missing value");
    }
    return v;
  }

  private static JsonNode locateOrNull(JsonNode doc, String path) {
    try {
      Location loc = locate(doc, path, "test");
      return loc.exists() ? loc.value() : null;
    } catch (StatusException e) {
      return null;
    }
  }

  private static int parseIndex(String token, String path, String op) {
    if (!token.matches("0|[1-9][0-9]*")) {
      throw notApplicable(op + " operation does not apply: doc is missing path: \"" + path + "\": invalid index");
    }
    try {
      return Integer.parseInt(token);
    } catch (NumberFormatException e) {
      throw notApplicable(op + " operation does not apply: doc is missing path: \"" + path + "\": invalid index");
    }
  }

  /** Walks to the parent of the last token; the parent must exist and be a container. */
  private static Location locate(JsonNode doc, String path, String op) {
    if (!path.startsWith("/")) {
      throw StatusException.badRequest("JSON pointer must be empty or start with a \"/\": \"" + path + "\"");
    }
    String[] raw = path.substring(1).split("/", -1);
    JsonNode cur = doc;
    for (int i = 0; i < raw.length - 1; i++) {
      String t = unescape(raw[i]);
      JsonNode next = null;
      if (cur.isObject()) {
        next = cur.get(t);
      } else if (cur.isArray() && t.matches("0|[1-9][0-9]*") && Integer.parseInt(t) < cur.size()) {
        next = cur.get(Integer.parseInt(t));
      }
      if (next == null || !(next.isObject() || next.isArray())) {
        throw notApplicable(op + " operation does not apply: doc is missing path: \"" + path
            + "\": missing value");
      }
      cur = next;
    }
    if (!(cur.isObject() || cur.isArray())) {
      throw notApplicable(op + " operation does not apply: doc is missing path: \"" + path + "\": missing value");
    }
    return new Location(cur, unescape(raw[raw.length - 1]));
  }

  private static String unescape(String token) {
    return token.replace("~1", "/").replace("~0", "~");
  }

  /** A container and the token naming a member (or index) in it. */
  private record Location(JsonNode parent, String token) {
    boolean exists() {
      if (parent.isObject()) {
        return parent.has(token);
      }
      return token.matches("0|[1-9][0-9]*") && token.length() < 10 && Integer.parseInt(token) < parent.size();
    }

    JsonNode value() {
      return parent.isObject() ? parent.get(token) : parent.get(Integer.parseInt(token));
    }

    void set(JsonNode value) {
      if (parent.isObject()) {
        ((ObjectNode) parent).set(token, value);
      } else {
        ((ArrayNode) parent).set(Integer.parseInt(token), value);
      }
    }
  }
}
