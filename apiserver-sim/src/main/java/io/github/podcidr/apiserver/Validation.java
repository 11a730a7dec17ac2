package io.github.podcidr.apiserver;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The validation kube-apiserver applies to what our controller writes, with its messages.
 *
 * <p>Sources: {@code pkg/apis/core/validation/validation.go} ({@code ValidateNode}, {@code ValidateNodeUpdate},
 * {@code validateNodeTaints}, {@code ValidateObjectMeta}), {@code pkg/apis/coordination/validation/validation.go}
 * ({@code ValidateLeaseSpec}) and {@code k8s.io/apimachinery/pkg/util/validation/validation.go} (name, label and
 * CIDR checks). The texts are reproduced because clients and tests match on them.
 */
final class Validation {
  private static final Pattern DNS1123_SUBDOMAIN =
      Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
  private static final Pattern DNS1123_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
  private static final Pattern QUALIFIED_NAME_PART = Pattern.compile("([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]");
  private static final Pattern LABEL_VALUE = Pattern.compile("(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?");
  private static final Pattern IPV4 = Pattern.compile("(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})");

  private static final String SUBDOMAIN_MSG = "a lowercase RFC 1123 subdomain must consist of lower case "
      + "alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. "
      + "'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*"
      + "[a-z0-9])?)*')";
  private static final String LABEL_MSG = "a lowercase RFC 1123 label must consist of lower case alphanumeric "
      + "characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or "
      + "'123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
  private static final String QUALIFIED_NAME_MSG = "name part must consist of alphanumeric characters, '-', '_' "
      + "or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or "
      + "'123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
  private static final String LABEL_VALUE_MSG = "a valid label must be an empty string or consist of alphanumeric "
      + "characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
      + "'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
  static final String CIDR_MSG = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)";
  static final String POD_CIDR_FAMILY_MSG = "may specify no more than one CIDR for each IP family";
  static final String POD_CIDR_IMMUTABLE_MSG = "node updates may not change podCIDR except from \"\" to valid";
  static final String NODE_UPDATE_MSG = "node updates may only change labels, taints, or capacity (or configSource, "
      + "if the DynamicKubeletConfig feature gate is enabled)";

  private Validation() {}

  /** Validates a new object (old null) or an update; throws 422 Invalid listing every error. */
  static void validate(ResourceType type, ObjectNode obj, ObjectNode old) {
    List<FieldError> errors = new ArrayList<>();
    ObjectNode meta = (ObjectNode) obj.get("metadata");
    String name = Json.str(meta, "name");
    if (type == ResourceType.NODES) {
      validateNode(obj, old, errors);
    } else if (type == ResourceType.EVENTS || type == ResourceType.EVENTS_V1) {
      validateEvent(type, obj, old, errors);
      if (errors.isEmpty()) {
        // The registry's generic metadata checks run only once the strategy's own validation passed.
        if (old == null) {
          checkName(ResourceType.EVENTS, name, errors);
        }
        checkLabels(meta.get("labels"), errors);
      }
    } else {
      if (old == null) {
        checkName(type, name, errors);
      }
      checkLabels(meta.get("labels"), errors);
      if (type == ResourceType.LEASES) {
        validateLease(obj, errors);
      }
    }
    if (!errors.isEmpty()) {
      throw StatusException.invalid(type, name == null ? "" : name, errors);
    }
  }

  private static void checkName(ResourceType type, String name, List<FieldError> errors) {
    if (name == null || name.isEmpty()) {
      errors.add(FieldError.required("metadata.name", "name or generateName is required"));
      return;
    }
    if (type == ResourceType.EVENTS) {
      // core/v1 Events skip object-meta name validation for backwards compatibility; only events.k8s.io/v1 checks
      // names (pkg/apis/core/validation/events.go, ValidateEventCreate). The Java client's recorder relies on it:
      // its generated names hold upper-case letters ("node-1.hQaPwMm1PyxK").
      return;
    }
    boolean label = type == ResourceType.NAMESPACES;
    int max = label ? 63 : 253;
    if (name.length() > max) {
      errors.add(FieldError.invalid("metadata.name", FieldError.quote(name),
          "must be no more than " + max + " characters"));
    }
    if (!(label ? DNS1123_LABEL : DNS1123_SUBDOMAIN).matcher(name).matches()) {
      errors.add(FieldError.invalid("metadata.name", FieldError.quote(name), label ? LABEL_MSG : SUBDOMAIN_MSG));
    }
  }

  private static void checkLabels(JsonNode labels, List<FieldError> errors) {
    if (labels == null || !labels.isObject()) {
      return;
    }
    for (Map.Entry<String, JsonNode> e : labels.properties()) {
      checkQualifiedName("metadata.labels", e.getKey(), errors);
      String v = e.getValue().asText();
      if (v.length() > 63) {
        errors.add(FieldError.invalid("metadata.labels", FieldError.quote(v), "must be no more than 63 characters"));
      }
      if (!LABEL_VALUE.matcher(v).matches()) {
        errors.add(FieldError.invalid("metadata.labels", FieldError.quote(v), LABEL_VALUE_MSG));
      }
    }
  }

  static void checkQualifiedName(String field, String key, List<FieldError> errors) {
    String name = key;
    int slash = key.indexOf('/');
    if (slash >= 0) {
      String prefix = key.substring(0, slash);
      name = key.substring(slash + 1);
      if (prefix.isEmpty()) {
        errors.add(FieldError.invalid(field, FieldError.quote(key), "prefix part must be non-empty"));
      } else if (prefix.length() > 253 || !DNS1123_SUBDOMAIN.matcher(prefix).matches()) {
        errors.add(FieldError.invalid(field, FieldError.quote(key), "prefix part " + SUBDOMAIN_MSG));
      }
    }
    if (name.isEmpty()) {
      errors.add(FieldError.invalid(field, FieldError.quote(key), "name part must be non-empty"));
    } else if (name.length() > 63) {
      errors.add(FieldError.invalid(field, FieldError.quote(key), "name part must be no more than 63 characters"));
    }
    if (!QUALIFIED_NAME_PART.matcher(name).matches()) {
      errors.add(FieldError.invalid(field, FieldError.quote(key), QUALIFIED_NAME_MSG));
    }
  }

  /**
   * {@code ValidateNode} on create; on update, in the order kube-apiserver runs them: the generic metadata checks
   * of the registry ({@code ValidateObjectMetaAccessor}, {@code ValidateObjectMetaAccessorUpdate}), then
   * {@code ValidateNode} and {@code ValidateNodeUpdate}. Metadata errors therefore repeat in the causes of an update
   * (the message lists each once). Taint errors are reported under {@code metadata.taints}, as kube-apiserver does.
   */
  private static void validateNode(ObjectNode node, ObjectNode old, List<FieldError> errors) {
    ObjectNode meta = (ObjectNode) node.get("metadata");
    String name = Json.str(meta, "name");
    if (old == null) {
      checkName(ResourceType.NODES, name, errors);
      checkLabels(meta.get("labels"), errors);
      validateNodeSpec(node, errors);
      return;
    }
    ObjectNode oldMeta = (ObjectNode) old.get("metadata");
    checkLabels(meta.get("labels"), errors);
    checkMetaUpdate(meta, oldMeta, errors);
    checkLabels(meta.get("labels"), errors);
    validateNodeSpec(node, errors);
    checkMetaUpdate(meta, oldMeta, errors);
    checkLabels(meta.get("labels"), errors);
    JsonNode spec = node.path("spec");
    JsonNode oldSpec = old.path("spec");
    JsonNode cidrs = spec.path("podCIDRs");
    JsonNode oldCidrs = oldSpec.path("podCIDRs");
    boolean protectedChange = false;
    if (oldCidrs.isArray() && oldCidrs.size() > 0) {
      int size = cidrs.isArray() ? cidrs.size() : 0;
      if (size != oldCidrs.size()) {
        errors.add(FieldError.forbidden("spec.podCIDRs", POD_CIDR_IMMUTABLE_MSG));
        protectedChange = true;
      } else {
        for (int i = 0; i < size; i++) {
          if (!oldCidrs.get(i).asText().equals(cidrs.get(i).asText())) {
            errors.add(FieldError.forbidden("spec.podCIDRs", POD_CIDR_IMMUTABLE_MSG));
            protectedChange = true;
          }
        }
      }
    }
    String oldProvider = Json.str(oldSpec, "providerID");
    if (oldProvider != null && !oldProvider.isEmpty() && !oldProvider.equals(Json.str(spec, "providerID"))) {
      errors.add(FieldError.forbidden("spec.providerID",
          "node updates may not change providerID except from \"\" to valid"));
      protectedChange = true;
    }
    validateTaints(spec.path("taints"), errors);
    String externalId = Json.str(spec, "externalID");
    if (!java.util.Objects.equals(Json.str(oldSpec, "externalID"), externalId)) {
      protectedChange = true;
    }
    if (protectedChange) {
      errors.add(FieldError.forbidden("[]", NODE_UPDATE_MSG));
    }
  }

  /** {@code ValidateObjectMetaUpdate}: finalizers cannot be added to an object being deleted. */
  private static void checkMetaUpdate(ObjectNode meta, ObjectNode oldMeta, List<FieldError> errors) {
    if (!oldMeta.has("deletionTimestamp")) {
      return;
    }
    Set<String> old = new HashSet<>();
    oldMeta.path("finalizers").forEach(f -> old.add(f.asText()));
    java.util.TreeSet<String> extra = new java.util.TreeSet<>();
    meta.path("finalizers").forEach(f -> {
      if (!old.contains(f.asText())) {
        extra.add(f.asText());
      }
    });
    if (!extra.isEmpty()) {
      StringBuilder b = new StringBuilder("[]string{");
      int i = 0;
      for (String f : extra) {
        b.append(i++ > 0 ? ", " : "").append(FieldError.quote(f));
      }
      errors.add(FieldError.forbidden("metadata.finalizers",
          "no new finalizers can be added if the object is being deleted, found new finalizers " + b + "}"));
    }
  }

  /** {@code ValidateNode} after the metadata: taints, then {@code spec.podCIDRs}. */
  private static void validateNodeSpec(ObjectNode node, List<FieldError> errors) {
    JsonNode spec = node.path("spec");
    validateTaints(spec.path("taints"), errors);
    JsonNode cidrs = spec.path("podCIDRs");
    if (cidrs.isArray() && cidrs.size() > 0) {
      int v4 = 0;
      int v6 = 0;
      for (int i = 0; i < cidrs.size(); i++) {
        String c = cidrs.get(i).asText();
        Boolean isV6 = cidrFamily(c);
        if (isV6 == null) {
          errors.add(FieldError.invalid("spec.podCIDRs[" + i + "]", FieldError.quote(c), CIDR_MSG));
        } else if (isV6) {
          v6++;
        } else {
          v4++;
        }
      }
      // Two entries must be a dual-stack pair (netutils.IsDualStackCIDRStrings); more than two never are.
      if (cidrs.size() > 1 && (cidrs.size() > 2 || v4 != 1 || v6 != 1)) {
        StringBuilder go = new StringBuilder("[]string{");
        for (int i = 0; i < cidrs.size(); i++) {
          go.append(i > 0 ? ", " : "").append(FieldError.quote(cidrs.get(i).asText()));
        }
        errors.add(FieldError.invalid("spec.podCIDRs", go + "}", POD_CIDR_FAMILY_MSG));
      }
    }
  }

  private static void validateTaints(JsonNode taints, List<FieldError> errors) {
    if (!taints.isArray()) {
      return;
    }
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < taints.size(); i++) {
      JsonNode t = taints.get(i);
      String path = "metadata.taints[" + i + "]";
      String key = Json.str(t, "key");
      checkQualifiedName(path + ".key", key == null ? "" : key, errors);
      String value = Json.str(t, "value");
      if (value != null && !value.isEmpty()) {
        List<String> why = new ArrayList<>();
        if (value.length() > 63) {
          why.add("must be no more than 63 characters");
        }
        if (!LABEL_VALUE.matcher(value).matches()) {
          why.add(LABEL_VALUE_MSG);
        }
        if (!why.isEmpty()) {
          errors.add(FieldError.invalid(path + ".value", FieldError.quote(value), String.join(";", why)));
        }
      }
      String effect = Json.str(t, "effect");
      if (effect == null || effect.isEmpty()) {
        errors.add(FieldError.required(path + ".effect", ""));
      } else if (!List.of("NoSchedule", "PreferNoSchedule", "NoExecute").contains(effect)) {
        errors.add(FieldError.notSupported(path + ".effect", FieldError.quote(effect),
            "\"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\""));
      }
      if (!seen.add(key + ":" + effect)) {
        // Go's %#v of the internal core.Taint
        String value0 = value == null ? "" : value;
        String rendered = "core.Taint{Key:" + FieldError.quote(key == null ? "" : key) + ", Value:"
            + FieldError.quote(value0) + ", Effect:" + FieldError.quote(effect == null ? "" : effect)
            + ", TimeAdded:<nil>}";
        errors.add(new FieldError(path, "Duplicate value", "FieldValueDuplicate", rendered,
            "taints must be unique by key and effect pair"));
      }
    }
  }

  /**
   * {@code ValidateEventCreate} / {@code ValidateEventUpdate} of {@code pkg/apis/core/validation/events.go}: the
   * legacy checks for every Event, then for events.k8s.io/v1 creates the strict ones (metadata, series, eventTime,
   * type, and the deprecated fields unset). Both run on the internal core Event, so errors name its fields
   * ({@code involvedObject}, {@code count}, {@code source}) whichever group the request used. The strict checks of
   * an events.k8s.io update (immutable fields) are not simulated.
   */
  private static void validateEvent(ResourceType type, ObjectNode event, ObjectNode old, List<FieldError> errors) {
    boolean v1 = type == ResourceType.EVENTS_V1;
    String namespace = text(event.path("metadata"), "namespace");
    JsonNode involved = event.path(v1 ? "regarding" : "involvedObject");
    String involvedNs = Json.str(involved, "namespace") == null ? "" : Json.str(involved, "namespace");
    String controller = text(event, v1 ? "reportingController" : "reportingComponent");
    String reason = text(event, "reason");
    if (!isSet(event.get("eventTime"))) {
      boolean ok = involvedNs.isEmpty() ? namespace.isEmpty() || namespace.equals("default")
          : namespace.equals(involvedNs);
      if (!ok) {
        errors.add(FieldError.invalid("involvedObject.namespace", FieldError.quote(involvedNs),
            "does not match event.namespace"));
      }
    } else {
      if (involvedNs.isEmpty() && !namespace.equals("default") && !namespace.equals("kube-system")) {
        errors.add(FieldError.invalid("involvedObject.namespace", FieldError.quote(involvedNs),
            "does not match event.namespace"));
      }
      if (controller.isEmpty()) {
        errors.add(FieldError.required("reportingController", ""));
      }
      checkQualifiedName("reportingController", controller, errors);
      String instance = text(event, "reportingInstance");
      if (instance.isEmpty()) {
        errors.add(FieldError.required("reportingInstance", ""));
      }
      tooLong(errors, "reportingInstance", instance, 128);
      String action = text(event, "action");
      if (action.isEmpty()) {
        errors.add(FieldError.required("action", ""));
      }
      tooLong(errors, "action", action, 128);
      if (reason.isEmpty()) {
        errors.add(FieldError.required("reason", ""));
      }
      tooLong(errors, "reason", reason, 128);
      tooLong(errors, "message", text(event, v1 ? "note" : "message"), 1024);
    }
    if (!v1 || old != null) {
      return;
    }
    checkName(ResourceType.EVENTS_V1, Json.str(event.path("metadata"), "name"), errors);
    checkLabels(event.path("metadata").get("labels"), errors);
    JsonNode series = event.get("series");
    if (series != null && series.isObject()) {
      if (series.path("count").asInt() < 2) {
        errors.add(FieldError.invalid("series.count", FieldError.quote(""), "should be at least 2"));
      }
      if (!isSet(series.get("lastObservedTime"))) {
        errors.add(FieldError.required("series.lastObservedTime", ""));
      }
    }
    if (!isSet(event.get("eventTime"))) {
      errors.add(FieldError.required("eventTime", ""));
    }
    String eventType = text(event, "type");
    if (!eventType.equals("Normal") && !eventType.equals("Warning")) {
      errors.add(FieldError.invalid("type", FieldError.quote(""), "has invalid value: " + eventType));
    }
    if (isSet(event.get("deprecatedFirstTimestamp"))) {
      errors.add(FieldError.invalid("firstTimestamp", FieldError.quote(""), "needs to be unset"));
    }
    if (isSet(event.get("deprecatedLastTimestamp"))) {
      errors.add(FieldError.invalid("lastTimestamp", FieldError.quote(""), "needs to be unset"));
    }
    if (event.path("deprecatedCount").asLong() != 0) {
      errors.add(FieldError.invalid("count", FieldError.quote(""), "needs to be unset"));
    }
    JsonNode source = event.path("deprecatedSource");
    if (!text(source, "component").isEmpty() || !text(source, "host").isEmpty()) {
      errors.add(FieldError.invalid("source", FieldError.quote(""), "needs to be unset"));
    }
  }

  private static String text(JsonNode parent, String field) {
    String v = Json.str(parent, field);
    return v == null ? "" : v;
  }

  private static boolean isSet(JsonNode time) {
    return time != null && time.isTextual() && !time.asText().isEmpty();
  }

  private static void tooLong(List<FieldError> errors, String field, String value, int max) {
    if (value.length() > max) {
      errors.add(FieldError.invalid(field, FieldError.quote(""), "can have at most " + max + " characters"));
    }
  }

  private static void validateLease(ObjectNode lease, List<FieldError> errors) {
    JsonNode spec = lease.path("spec");
    JsonNode duration = spec.get("leaseDurationSeconds");
    if (duration != null && !duration.isNull() && duration.asLong() <= 0) {
      errors.add(FieldError.invalid("spec.leaseDurationSeconds", duration.asText(), "must be greater than 0"));
    }
    JsonNode transitions = spec.get("leaseTransitions");
    if (transitions != null && !transitions.isNull() && transitions.asLong() < 0) {
      errors.add(FieldError.invalid("spec.leaseTransitions", transitions.asText(),
          "must be greater than or equal to 0"));
    }
  }

  /**
   * The family of a CIDR as Go's {@code net.ParseCIDR} accepts it (host bits may be set; IPv4 octets may not have
   * more than three digits): false for IPv4, true for IPv6, null when it is no CIDR. Never resolves names.
   */
  static Boolean cidrFamily(String cidr) {
    int slash = cidr.indexOf('/');
    if (slash <= 0 || slash == cidr.length() - 1) {
      return null;
    }
    String addr = cidr.substring(0, slash);
    String bits = cidr.substring(slash + 1);
    if (!bits.matches("[0-9]{1,3}")) {
      return null;
    }
    int prefix = Integer.parseInt(bits);
    if (IPV4.matcher(addr).matches()) {
      for (String octet : addr.split("\\.")) {
        // Go 1.17+ (which builds kube-apiserver 1.20 here) refuses leading zeros rather than guess octal or decimal
        if (Integer.parseInt(octet) > 255 || octet.length() > 1 && octet.charAt(0) == '0') {
          return null;
        }
      }
      return prefix <= 32 ? Boolean.FALSE : null;
    }
    if (!addr.contains(":") || !addr.matches("[0-9A-Fa-f:.]+")) {
      return null; // a literal only: InetAddress must never be asked to resolve a name
    }
    try {
      return InetAddress.getByName(addr) instanceof Inet6Address && prefix <= 128 ? Boolean.TRUE : null;
    } catch (UnknownHostException e) {
      return null;
    }
  }
}
