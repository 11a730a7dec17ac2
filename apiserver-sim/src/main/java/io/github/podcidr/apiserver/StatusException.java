package io.github.podcidr.apiserver;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/**
 * A failure answered as a {@code meta/v1 Status} object, with the {@code reason}, {@code code} and message shapes
 * of kube-apiserver.
 *
 * <p>The factories follow {@code k8s.io/apimachinery/pkg/api/errors/errors.go} ({@code NewNotFound},
 * {@code NewAlreadyExists}, {@code NewConflict}, {@code NewInvalid}, {@code NewBadRequest},
 * {@code NewResourceExpired}, {@code NewTooManyRequests}...): details carry the resource name and the resource
 * (plural) as {@code kind}, except for Invalid which carries the object's Kind.
 */
final class StatusException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  final int code;
  final String reason;
  /** The {@code details} object, or null. */
  final transient ObjectNode details;
  /** Seconds for a {@code Retry-After} header, or 0 for none. */
  final int retryAfterSeconds;
  /** A continue token for the Status's list metadata (an expired continue), or null. */
  transient String listContinue;

  StatusException(int code, String reason, String message, ObjectNode details, int retryAfterSeconds) {
    super(message, null, false, false);
    this.code = code;
    this.reason = reason;
    this.details = details;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  /** The Status body as the real server writes it. */
  ObjectNode toStatus() {
    ObjectNode s = Json.object();
    s.put("kind", "Status");
    s.put("apiVersion", "v1");
    ObjectNode listMeta = s.putObject("metadata");
    if (listContinue != null) {
      listMeta.put("continue", listContinue);
    }
    s.put("status", "Failure");
    s.put("message", getMessage());
    if (reason != null) {
      s.put("reason", reason);
    }
    if (details != null) {
      s.set("details", details);
    }
    s.put("code", code);
    return s;
  }

  private static ObjectNode details(ResourceType type, String name) {
    ObjectNode d = Json.object();
    if (name != null) {
      d.put("name", name);
    }
    if (type != null) {
      if (!type.group().isEmpty()) {
        d.put("group", type.group());
      }
      d.put("kind", type.plural());
    }
    return d;
  }

  static StatusException notFound(ResourceType type, String name) {
    return new StatusException(404, "NotFound", type.qualifiedPlural() + " \"" + name + "\" not found",
        details(type, name), 0);
  }

  static StatusException alreadyExists(ResourceType type, String name) {
    return new StatusException(409, "AlreadyExists", type.qualifiedPlural() + " \"" + name + "\" already exists",
        details(type, name), 0);
  }

  /** The optimistic-concurrency failure of an update or patch with a stale resourceVersion. */
  static StatusException conflict(ResourceType type, String name, String why) {
    return new StatusException(409, "Conflict",
        "Operation cannot be fulfilled on " + type.qualifiedPlural() + " \"" + name + "\": " + why,
        details(type, name), 0);
  }

  static StatusException staleResourceVersion(ResourceType type, String name) {
    return conflict(type, name,
        "the object has been modified; please apply your changes to the latest version and try again");
  }

  static StatusException badRequest(String message) {
    return new StatusException(400, "BadRequest", message, null, 0);
  }

  /** 404 for a path that names nothing served (no details, as the real mux answers). */
  static StatusException pathNotFound() {
    return new StatusException(404, "NotFound", "the server could not find the requested resource",
        Json.object(), 0);
  }

  static StatusException methodNotAllowed() {
    return new StatusException(405, "MethodNotAllowed",
        "the server does not allow this method on the requested resource", Json.object(), 0);
  }

  /** 415 for a create or update body that is not JSON, YAML or protobuf. */
  static StatusException unsupportedBodyMediaType() {
    return new StatusException(415, "UnsupportedMediaType",
        "the body of the request was in an unknown format - accepted media types include: application/json, "
            + "application/yaml, application/vnd.kubernetes.protobuf",
        null, 0);
  }

  /** 406 when the Accept header names nothing the server writes. */
  static StatusException notAcceptable() {
    return new StatusException(406, "NotAcceptable", "406: Not Acceptable", Json.object(), 0);
  }

  static StatusException unsupportedMediaType(String contentType) {
    return new StatusException(415, "UnsupportedMediaType",
        "the body of the request was in an unknown format - accepted media types include: "
            + "application/json-patch+json, application/merge-patch+json, "
            + "application/strategic-merge-patch+json (got " + contentType + ")",
        null, 0);
  }

  /** 410 Gone with reason Expired: a watch or list from a resourceVersion no longer retained. */
  static StatusException tooOldResourceVersion(long requested, long oldest) {
    return new StatusException(410, "Expired",
        "too old resource version: " + requested + " (" + oldest + ")", null, 0);
  }

  /**
   * 410 for a continue token whose revision is gone (etcd compacted it): as the etcd3 store answers it
   * ({@code handleCompactedErrorForPaging}), with a token in the Status's list metadata that continues the list at
   * the latest revision.
   */
  static StatusException continueExpired(String latestToken) {
    StatusException e = new StatusException(410, "Expired",
        "The provided continue parameter is too old to display a consistent list result. You can start a new list "
            + "without the continue parameter, or use the continue token in this response to retrieve the "
            + "remainder of the results. Continuing with the provided token results in an inconsistent list - "
            + "objects that were created, modified, or deleted between the time the first chunk was returned and "
            + "now may show up in the list.",
        null, 0);
    e.listContinue = latestToken;
    return e;
  }

  /**
   * 422 Invalid with one cause per field error, message {@code Kind.group "name" is invalid: ...}. Events of both
   * groups are validated as the internal core Event, so events.k8s.io errors name no group.
   */
  static StatusException invalid(ResourceType type, String name, List<FieldError> errors) {
    return invalid(type.kind(), type == ResourceType.EVENTS_V1 ? "" : type.group(), name, errors);
  }

  /**
   * 422 Invalid for any group and kind, as {@code errors.NewInvalid} writes it: the message starts with the
   * qualified kind ({@code Lease.coordination.k8s.io}, {@code leases.coordination.k8s.io} when the registry names
   * the resource, or nothing), and details leave out empty name, group and kind.
   */
  static StatusException invalid(String kind, String group, String name, List<FieldError> errors) {
    ObjectNode d = Json.object();
    if (!name.isEmpty()) {
      d.put("name", name);
    }
    if (!group.isEmpty()) {
      d.put("group", group);
    }
    if (!kind.isEmpty()) {
      d.put("kind", kind);
    }
    String qualified = group.isEmpty() ? kind : kind + "." + group;
    ArrayNode causes = d.putArray("causes");
    StringBuilder all = new StringBuilder();
    // Every error is a cause; the message names each distinct error once (field.ErrorList.ToAggregate).
    java.util.Set<String> distinct = new java.util.LinkedHashSet<>();
    for (FieldError e : errors) {
      ObjectNode c = causes.addObject();
      c.put("reason", e.causeType());
      c.put("message", e.detailMessage());
      c.put("field", e.field());
      distinct.add(e.toString());
    }
    all.append(String.join(", ", distinct));
    String list = distinct.size() == 1 ? all.toString() : "[" + all + "]";
    return new StatusException(422, "Invalid", qualified + " \"" + name + "\" is invalid: " + list, d, 0);
  }

  /**
   * A JSON patch whose operations do not apply (a failed {@code test}, a missing path, an unknown op): the patch
   * handler answers 422 through {@code NewGenericServerResponse(..., isUnexpectedResponse=false)}, so the message is
   * generic and {@code details} is empty: the patch library's own error text is not sent.
   */
  static StatusException jsonPatchNotApplicable(String libraryMessage) {
    return new StatusException(422, "Invalid", "the server rejected our request due to an error in our request",
        Json.object(), 0);
  }

  static StatusException internalError(String why) {
    ObjectNode d = Json.object();
    d.putArray("causes").addObject().put("message", why);
    return new StatusException(500, "InternalError", "Internal error occurred: " + why, d, 0);
  }

  static StatusException serviceUnavailable(String why) {
    return new StatusException(503, "ServiceUnavailable", why, null, 0);
  }

  /** 429 as API Priority and Fairness answers it, with a Retry-After header. */
  static StatusException tooManyRequests(int retryAfterSeconds) {
    ObjectNode d = Json.object();
    d.put("retryAfterSeconds", retryAfterSeconds);
    return new StatusException(429, "TooManyRequests", "Too many requests, please try again later.", d,
        retryAfterSeconds);
  }

  /** 504 for a list at a resourceVersion newer than any the server has seen. */
  static StatusException tooLargeResourceVersion(long requested, long current) {
    ObjectNode d = Json.object();
    ObjectNode cause = d.putArray("causes").addObject();
    cause.put("reason", "ResourceVersionTooLarge");
    cause.put("message", "Too large resource version");
    d.put("retryAfterSeconds", 1);
    return new StatusException(504, "Timeout",
        "Too large resource version: " + requested + ", current: " + current, d, 1);
  }

  /** A Status with an arbitrary code, for fault injection. */
  static StatusException injected(int code) {
    switch (code) {
      case 422:
        // a validation refusal, as errors.NewInvalid writes it (one cause naming the field), unlike the empty
        // details of a JSON patch whose test failed (jsonPatchNotApplicable)
        return invalid("Node", "", "", List.of(FieldError.forbidden("spec.podCIDRs",
            Validation.POD_CIDR_IMMUTABLE_MSG)));
      case 429:
        return tooManyRequests(1);
      case 500:
        return internalError("injected fault");
      case 503:
        return serviceUnavailable("injected fault: the server is currently unable to handle the request");
      case 504:
        return new StatusException(504, "Timeout", "injected fault: the server was unable to return a response "
            + "in the time allotted, but may still be processing the request", null, 0);
      default:
        return new StatusException(code, code >= 500 ? "InternalError" : "BadRequest",
            "injected fault with code " + code, null, 0);
    }
  }
}
