package io.github.podcidr.apiserver;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;
import java.util.function.Predicate;

/**
 * The field selector labels each resource supports besides {@code metadata.name} and {@code metadata.namespace},
 * with where their value is read, as the field-label conversion functions and {@code ToSelectableFields} of
 * kube-apiserver define them. A label no resource supports is refused with the message of its registration: core
 * types ({@code field label not supported: x}) and the events group use their own function, other groups
 * (leases) the default one ({@code "x" is not a known field selector: only "metadata.name", "metadata.namespace"}).
 *
 * <p>Value reads are JSON pointers into the stored object; a missing field reads as "". Event's {@code source}
 * reads {@code source.component}, falling back to the reporting controller as upstream does.
 */
final class FieldLabels {
  private static final Map<String, String> CORE_EVENT = Map.ofEntries(
      Map.entry("involvedObject.kind", "/involvedObject/kind"),
      Map.entry("involvedObject.namespace", "/involvedObject/namespace"),
      Map.entry("involvedObject.name", "/involvedObject/name"),
      Map.entry("involvedObject.uid", "/involvedObject/uid"),
      Map.entry("involvedObject.apiVersion", "/involvedObject/apiVersion"),
      Map.entry("involvedObject.resourceVersion", "/involvedObject/resourceVersion"),
      Map.entry("involvedObject.fieldPath", "/involvedObject/fieldPath"),
      Map.entry("reason", "/reason"),
      Map.entry("reportingComponent", "/reportingComponent"),
      Map.entry("type", "/type"));
  private static final Map<String, String> EVENT_V1 = Map.ofEntries(
      Map.entry("regarding.kind", "/regarding/kind"),
      Map.entry("regarding.namespace", "/regarding/namespace"),
      Map.entry("regarding.name", "/regarding/name"),
      Map.entry("regarding.uid", "/regarding/uid"),
      Map.entry("regarding.apiVersion", "/regarding/apiVersion"),
      Map.entry("regarding.resourceVersion", "/regarding/resourceVersion"),
      Map.entry("regarding.fieldPath", "/regarding/fieldPath"),
      Map.entry("reason", "/reason"),
      Map.entry("reportingController", "/reportingController"),
      Map.entry("type", "/type"));
  private static final Map<String, String> NAMESPACE = Map.of("status.phase", "/status/phase");

  private FieldLabels() {}

  /**
   * A predicate for {@code label=value} on {@code type}, or throws 400 when the label is not supported.
   *
   * @param type the resource listed, or null when unknown (the core message is used)
   */
  static Predicate<StoredObject> predicate(ResourceType type, String label, String value) {
    if (type == ResourceType.EVENTS || type == ResourceType.EVENTS_V1) {
      if (label.equals("source")) {
        String fallback = type == ResourceType.EVENTS ? "/reportingComponent" : "/reportingController";
        String component = type == ResourceType.EVENTS ? "/source/component" : "/deprecatedSource/component";
        return o -> {
          JsonNode tree = o.tree();
          String v = tree.at(component).asText("");
          return value.equals(v.isEmpty() ? tree.at(fallback).asText("") : v);
        };
      }
      String pointer = (type == ResourceType.EVENTS ? CORE_EVENT : EVENT_V1).get(label);
      if (pointer != null) {
        return o -> value.equals(o.tree().at(pointer).asText(""));
      }
    } else if (type == ResourceType.NODES && label.equals("spec.unschedulable")) {
      // nodes' selectable fields: metadata.name and spec.unschedulable, formatted as Go prints a bool
      return o -> value.equals(Boolean.toString(o.tree().at("/spec/unschedulable").asBoolean(false)));
    } else if (type == ResourceType.NAMESPACES && NAMESPACE.containsKey(label)) {
      String pointer = NAMESPACE.get(label);
      return o -> value.equals(o.tree().at(pointer).asText(""));
    }
    if (type != null && !type.group().isEmpty() && type != ResourceType.EVENTS_V1) {
      throw StatusException.badRequest("\"" + label + "\" is not a known field selector: only \"metadata.name\", "
          + "\"metadata.namespace\"");
    }
    throw StatusException.badRequest("field label not supported: " + label);
  }
}
