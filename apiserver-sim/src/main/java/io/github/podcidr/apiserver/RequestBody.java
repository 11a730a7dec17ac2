package io.github.podcidr.apiserver;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;

/**
 * The body of a create or update, read as kube-apiserver's handlers read it: the media type is checked first
 * (415), then the body must be JSON whose {@code kind}/{@code apiVersion} can be read (400, with Go's
 * {@code encoding/json} message and a summary of the body), then the named kind must be the resource's own (400
 * {@code ... cannot be handled as a Lease: ...}), then the typed decode runs ({@link TypedDecoder}).
 *
 * <p>Accepted media types: {@code application/json} (also when the header is missing). {@code application/yaml}
 * and protobuf, which kube-apiserver also accepts, are not simulated and fail as malformed JSON.
 */
final class RequestBody {
  private static final String FIND_KIND_TYPE = "struct { APIVersion string \"json:\\\"apiVersion,omitempty\\\"\"; "
      + "Kind string \"json:\\\"kind,omitempty\\\"\" }";
  private static final String SCHEME = "k8s.io/kubernetes/pkg/api/legacyscheme/scheme.go:30";
  private static final List<String> ACCEPTED = List.of("application/json", "application/yaml",
      "application/vnd.kubernetes.protobuf");

  private RequestBody() {}

  /** The decoded object to create or update as {@code type}. */
  static ObjectNode read(ResourceType type, String contentType, byte[] body) {
    String media = contentType == null ? "" : contentType.split(";")[0].trim().toLowerCase();
    if (!media.isEmpty() && !ACCEPTED.contains(media)) {
      throw StatusException.unsupportedBodyMediaType();
    }
    GoJson.Value doc;
    try {
      doc = GoJson.parse(body);
    } catch (GoJson.SyntaxError e) {
      throw unrecognized(type, e.getMessage(), body);
    }
    if (doc.kind() == GoJson.Kind.NULL) {
      // encoding/json leaves the find-kind struct empty and json-iterator decodes nothing: an empty object
      body = "{}".getBytes(StandardCharsets.UTF_8);
      doc = GoJson.parse(body);
    }
    if (doc.kind() != GoJson.Kind.OBJECT) {
      throw unrecognized(type, "json: cannot unmarshal " + doc.kind().goName + " into Go value of type "
          + FIND_KIND_TYPE, body);
    }
    String kind = header(type, doc, "kind", "Kind", body);
    String apiVersion = header(type, doc, "apiVersion", "APIVersion", body);
    String bodyKind = kind.isEmpty() ? type.kind() : kind;
    String bodyVersion = apiVersion.isEmpty() ? type.apiVersion() : apiVersion;
    if (!bodyKind.equals(type.kind()) || !bodyVersion.equals(type.apiVersion())) {
      throw cannotHandle(type, bodyKind, bodyVersion, otherType(type, bodyKind, bodyVersion));
    }
    if (!TypedDecoder.decodes(type)) {
      return Json.parseObject(body);
    }
    try {
      return TypedDecoder.decode(type, body, doc);
    } catch (TypedDecoder.DecodeError e) {
      throw cannotHandle(type, bodyKind, bodyVersion, e.getMessage());
    }
  }

  /** kind or apiVersion as {@code encoding/json} reads them into the find-kind struct (null is ""). */
  private static String header(ResourceType type, GoJson.Value doc, String field, String goField, byte[] body) {
    GoJson.Value v = doc.fields().get(field);
    if (v == null || v.kind() == GoJson.Kind.NULL) {
      return "";
    }
    if (v.kind() != GoJson.Kind.STRING) {
      throw unrecognized(type, "json: cannot unmarshal " + v.kind().goName + " into Go struct field ." + field
          + " of type string", body);
    }
    return v.text();
  }

  /** Why a body of another kind cannot be decoded as {@code type}: another served type, or an unknown one. */
  private static String otherType(ResourceType type, String kind, String apiVersion) {
    for (ResourceType t : ResourceType.values()) {
      if (t.kind().equals(kind) && t.apiVersion().equals(apiVersion)) {
        return "converting (" + t.version() + "." + kind + ") to (" + internalGroup(type) + "." + type.kind()
            + "): unknown conversion";
      }
    }
    return "no kind \"" + kind + "\" is registered for version \"" + apiVersion + "\" in scheme \"" + SCHEME + "\"";
  }

  /** The Go package of the internal type kube-apiserver converts to: events of both groups are core Events. */
  private static String internalGroup(ResourceType type) {
    return type.group().isEmpty() || type == ResourceType.EVENTS_V1 ? "core" : type.group().split("\\.")[0];
  }

  private static StatusException cannotHandle(ResourceType type, String kind, String apiVersion, String why) {
    String version = apiVersion.contains("/") ? apiVersion.substring(apiVersion.indexOf('/') + 1) : apiVersion;
    return StatusException.badRequest(kind + " in version \"" + version + "\" cannot be handled as a " + type.kind()
        + ": " + why);
  }

  private static StatusException unrecognized(ResourceType type, String why, byte[] body) {
    return StatusException.badRequest("the object provided is unrecognized (must be of type " + type.kind() + "): "
        + "couldn't get version/kind; json parse error: " + why + " (" + summary(body) + ")");
  }

  /** The apiserver's {@code summarizeData}: up to 30 bytes, as text when the body starts with '{', else hex. */
  static String summary(byte[] body) {
    if (body.length == 0) {
      return "<empty>";
    }
    int n = Math.min(body.length, 30);
    String more = body.length > 30 ? " ..." : "";
    if (body[0] == '{') {
      return new String(body, 0, n, StandardCharsets.UTF_8) + more;
    }
    return HexFormat.of().formatHex(body, 0, n) + more;
  }
}
