package io.github.podcidr.apiserver;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The Go structs of the resources {@link TypedDecoder} decodes, as declared in {@code k8s.io/api} (field order,
 * JSON names, {@code omitempty}, pointers) and named as json-iterator names them in errors ({@code v1.LeaseSpec},
 * field {@code RenewTime}). Nodes are not described here: they are stored as sent.
 */
final class GoSchema {
  /** The Go kinds that matter for decoding and for zero values. */
  enum Type { STRING, INT32, INT64, BOOL, TIME, MICRO_TIME, STRING_MAP, STRUCT, LIST }

  /**
   * One struct field.
   *
   * @param json its JSON name
   * @param goName its Go name, as errors print it
   * @param type its kind
   * @param pointer true for {@code *T}: null and absent stay unset, zero values are kept
   * @param omitEmpty true when the tag has {@code omitempty} (which Go ignores for structs)
   * @param struct the element or field struct for STRUCT and lists of structs, else null
   * @param goType for lists, the slice type as errors print it ({@code []string})
   */
  record Field(String json, String goName, Type type, boolean pointer, boolean omitEmpty, Struct struct,
      String goType) {

    /** The value Go writes for an unset field, or null when nothing is written. */
    JsonNode zeroValue() {
      if (pointer) {
        return null;
      }
      switch (type) {
        case STRING:
          return Json.NODES.textNode("");
        case INT32:
        case INT64:
          return Json.NODES.numberNode(0);
        case BOOL:
          return Json.NODES.booleanNode(false);
        case TIME:
        case MICRO_TIME:
          return Json.NODES.nullNode(); // metav1.Time's MarshalJSON writes null for the zero time
        case STRUCT:
          return struct.zeroObject();
        default:
          return null; // nil map or slice: omitted when omitempty, else null (none here)
      }
    }
  }

  /**
   * A struct: its Go type name and its fields in declaration order. {@code general}: json-iterator decodes it
   * with its general decoder (more than ten fields, counting the inline TypeMeta's two), which goes on reading
   * the fields after a failed one; structs of up to ten fields get a specialised decoder that stops.
   */
  record Struct(String goName, Map<String, Field> fields, boolean general) {
    ObjectNode zeroObject() {
      ObjectNode o = Json.object();
      for (Field f : fields.values()) {
        JsonNode z = f.zeroValue();
        if (z != null && !(f.omitEmpty() && isEmpty(f, z))) {
          o.set(f.json(), z);
        }
      }
      return o;
    }
  }

  /** Go's omitempty test (structs are never empty; Time is a struct). */
  static boolean isEmpty(Field f, JsonNode v) {
    switch (f.type()) {
      case STRUCT:
      case TIME:
      case MICRO_TIME:
        return false;
      default:
        break;
    }
    if (f.pointer()) {
      return v == null || v.isNull();
    }
    if (v.isTextual()) {
      return v.asText().isEmpty();
    }
    if (v.isNumber()) {
      return v.asLong() == 0;
    }
    if (v.isBoolean()) {
      return !v.asBoolean();
    }
    return v.isContainerNode() && v.isEmpty();
  }

  private static final class Builder {
    private final String goName;
    private final Map<String, Field> fields = new LinkedHashMap<>();
    /** Go fields not listed here (TypeMeta's kind and apiVersion, ObjectMeta's managedFields). */
    private int unlisted;

    Builder(String goName) {
      this.goName = goName;
    }

    Builder field(String json, Type type, boolean omitEmpty) {
      fields.put(json, new Field(json, goFieldName(json), type, false, omitEmpty, null, null));
      return this;
    }

    Builder pointer(String json, Type type) {
      fields.put(json, new Field(json, goFieldName(json), type, true, true, null, null));
      return this;
    }

    Builder struct(String json, String goField, Struct s, boolean pointer) {
      fields.put(json, new Field(json, goField, Type.STRUCT, pointer, true, s, null));
      return this;
    }

    Builder list(String json, String goField, String goType, Struct element) {
      fields.put(json, new Field(json, goField, Type.LIST, false, true, element, goType));
      return this;
    }

    Builder renamed(String json, String goField, Type type, boolean omitEmpty) {
      fields.put(json, new Field(json, goField, type, false, omitEmpty, null, null));
      return this;
    }

    Builder unlisted(int n) {
      unlisted += n;
      return this;
    }

    Struct build() {
      return new Struct(goName, Collections.unmodifiableMap(new LinkedHashMap<>(fields)),
          fields.size() + unlisted > 10);
    }
  }

  private static String goFieldName(String json) {
    return Character.toUpperCase(json.charAt(0)) + json.substring(1);
  }

  static final Struct OWNER_REFERENCE = new Builder("v1.OwnerReference")
      .renamed("apiVersion", "APIVersion", Type.STRING, false)
      .field("kind", Type.STRING, false)
      .field("name", Type.STRING, false)
      .renamed("uid", "UID", Type.STRING, false)
      .pointer("controller", Type.BOOL)
      .pointer("blockOwnerDeletion", Type.BOOL)
      .build();

  static final Struct OBJECT_META = new Builder("v1.ObjectMeta")
      .field("name", Type.STRING, true)
      .field("generateName", Type.STRING, true)
      .field("namespace", Type.STRING, true)
      .field("selfLink", Type.STRING, true)
      .renamed("uid", "UID", Type.STRING, true)
      .field("resourceVersion", Type.STRING, true)
      .field("generation", Type.INT64, true)
      .field("creationTimestamp", Type.TIME, true)
      .pointer("deletionTimestamp", Type.TIME)
      .pointer("deletionGracePeriodSeconds", Type.INT64)
      .field("labels", Type.STRING_MAP, true)
      .field("annotations", Type.STRING_MAP, true)
      .list("ownerReferences", "OwnerReferences", "[]v1.OwnerReference", OWNER_REFERENCE)
      .list("finalizers", "Finalizers", "[]string", null)
      .field("clusterName", Type.STRING, true)
      .unlisted(1)
      .build();

  static final Struct LEASE_SPEC = new Builder("v1.LeaseSpec")
      .pointer("holderIdentity", Type.STRING)
      .pointer("leaseDurationSeconds", Type.INT32)
      .pointer("acquireTime", Type.MICRO_TIME)
      .pointer("renewTime", Type.MICRO_TIME)
      .pointer("leaseTransitions", Type.INT32)
      .build();

  static final Struct LEASE = new Builder("v1.Lease")
      .unlisted(2)
      .struct("metadata", "ObjectMeta", OBJECT_META, false)
      .struct("spec", "Spec", LEASE_SPEC, false)
      .build();

  static final Struct OBJECT_REFERENCE = new Builder("v1.ObjectReference")
      .field("kind", Type.STRING, true)
      .field("namespace", Type.STRING, true)
      .field("name", Type.STRING, true)
      .renamed("uid", "UID", Type.STRING, true)
      .renamed("apiVersion", "APIVersion", Type.STRING, true)
      .field("resourceVersion", Type.STRING, true)
      .field("fieldPath", Type.STRING, true)
      .build();

  static final Struct EVENT_SOURCE = new Builder("v1.EventSource")
      .field("component", Type.STRING, true)
      .field("host", Type.STRING, true)
      .build();

  static final Struct CORE_EVENT_SERIES = new Builder("v1.EventSeries")
      .field("count", Type.INT32, true)
      .field("lastObservedTime", Type.MICRO_TIME, true)
      .build();

  static final Struct CORE_EVENT = new Builder("v1.Event")
      .unlisted(2)
      .struct("metadata", "ObjectMeta", OBJECT_META, false)
      .struct("involvedObject", "InvolvedObject", OBJECT_REFERENCE, false)
      .field("reason", Type.STRING, true)
      .field("message", Type.STRING, true)
      .struct("source", "Source", EVENT_SOURCE, false)
      .field("firstTimestamp", Type.TIME, true)
      .field("lastTimestamp", Type.TIME, true)
      .field("count", Type.INT32, true)
      .field("type", Type.STRING, true)
      .field("eventTime", Type.MICRO_TIME, true)
      .struct("series", "Series", CORE_EVENT_SERIES, true)
      .field("action", Type.STRING, true)
      .struct("related", "Related", OBJECT_REFERENCE, true)
      .renamed("reportingComponent", "ReportingController", Type.STRING, false)
      .field("reportingInstance", Type.STRING, false)
      .build();

  static final Struct EVENT_SERIES_V1 = new Builder("v1.EventSeries")
      .field("count", Type.INT32, false)
      .field("lastObservedTime", Type.MICRO_TIME, false)
      .build();

  static final Struct EVENT_V1 = new Builder("v1.Event")
      .unlisted(2)
      .struct("metadata", "ObjectMeta", OBJECT_META, false)
      .field("eventTime", Type.MICRO_TIME, false)
      .struct("series", "Series", EVENT_SERIES_V1, true)
      .field("reportingController", Type.STRING, true)
      .field("reportingInstance", Type.STRING, true)
      .field("action", Type.STRING, true)
      .field("reason", Type.STRING, true)
      .struct("regarding", "Regarding", OBJECT_REFERENCE, false)
      .struct("related", "Related", OBJECT_REFERENCE, true)
      .field("note", Type.STRING, true)
      .field("type", Type.STRING, true)
      .struct("deprecatedSource", "DeprecatedSource", EVENT_SOURCE, false)
      .field("deprecatedFirstTimestamp", Type.TIME, true)
      .field("deprecatedLastTimestamp", Type.TIME, true)
      .field("deprecatedCount", Type.INT32, true)
      .build();

  static final Struct NAMESPACE_CONDITION = new Builder("v1.NamespaceCondition")
      .field("type", Type.STRING, false)
      .field("status", Type.STRING, false)
      .field("lastTransitionTime", Type.TIME, true)
      .field("reason", Type.STRING, true)
      .field("message", Type.STRING, true)
      .build();

  static final Struct NAMESPACE_SPEC = new Builder("v1.NamespaceSpec")
      .list("finalizers", "Finalizers", "[]v1.FinalizerName", null)
      .build();

  static final Struct NAMESPACE_STATUS = new Builder("v1.NamespaceStatus")
      .field("phase", Type.STRING, true)
      .list("conditions", "Conditions", "[]v1.NamespaceCondition", NAMESPACE_CONDITION)
      .build();

  static final Struct NAMESPACE = new Builder("v1.Namespace")
      .unlisted(2)
      .struct("metadata", "ObjectMeta", OBJECT_META, false)
      .struct("spec", "Spec", NAMESPACE_SPEC, false)
      .struct("status", "Status", NAMESPACE_STATUS, false)
      .build();

  private GoSchema() {}

  /** The struct of a resource, or null when the simulator stores it as sent. */
  static Struct of(ResourceType type) {
    switch (type) {
      case LEASES:
        return LEASE;
      case EVENTS:
        return CORE_EVENT;
      case EVENTS_V1:
        return EVENT_V1;
      case NAMESPACES:
        return NAMESPACE;
      default:
        return null;
    }
  }
}
