package io.github.podcidr.apiserver;

import java.util.List;

/**
 * The resources the simulator serves. Names, kinds, scopes and short names are those of kube-apiserver's discovery
 * documents ({@code kubectl api-resources}); verbs are the ones the simulator implements.
 */
public enum ResourceType {
  /** core/v1 Node, cluster-scoped, with the {@code status} subresource. */
  NODES("", "v1", "nodes", "node", "Node", false, List.of("no"), true,
      List.of("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")),
  /** coordination.k8s.io/v1 Lease, namespaced. */
  LEASES("coordination.k8s.io", "v1", "leases", "lease", "Lease", true, List.of(), false,
      List.of("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")),
  /** core/v1 Event, namespaced. */
  EVENTS("", "v1", "events", "event", "Event", true, List.of("ev"), false,
      List.of("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")),
  /** events.k8s.io/v1 Event, namespaced (a separate store here; the real server shares one). */
  EVENTS_V1("events.k8s.io", "v1", "events", "event", "Event", true, List.of("ev"), false,
      List.of("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")),
  /** core/v1 Namespace, cluster-scoped; {@code default}, {@code kube-system}, {@code kube-public} and
   * {@code kube-node-lease} exist from the start. */
  NAMESPACES("", "v1", "namespaces", "namespace", "Namespace", false, List.of("ns"), false,
      List.of("create", "get", "list", "watch"));

  private final String group;
  private final String version;
  private final String plural;
  private final String singular;
  private final String kind;
  private final boolean namespaced;
  private final List<String> shortNames;
  private final boolean hasStatus;
  private final List<String> verbs;

  ResourceType(String group, String version, String plural, String singular, String kind, boolean namespaced,
      List<String> shortNames, boolean hasStatus, List<String> verbs) {
    this.group = group;
    this.version = version;
    this.plural = plural;
    this.singular = singular;
    this.kind = kind;
    this.namespaced = namespaced;
    this.shortNames = shortNames;
    this.hasStatus = hasStatus;
    this.verbs = verbs;
  }

  /** API group, empty for core. */
  public String group() {
    return group;
  }

  /** API version, {@code v1} for all served types. */
  public String version() {
    return version;
  }

  /** {@code v1} or {@code group/v1}, the {@code apiVersion} of objects. */
  public String apiVersion() {
    return group.isEmpty() ? version : group + "/" + version;
  }

  /** Resource name in paths, counters and faults: {@code nodes}, {@code leases}, {@code events}... */
  public String plural() {
    return plural;
  }

  String singular() {
    return singular;
  }

  /** Object kind: {@code Node}, {@code Lease}, {@code Event}, {@code Namespace}. */
  public String kind() {
    return kind;
  }

  String listKind() {
    return kind + "List";
  }

  /** True for leases and events; nodes and namespaces are cluster-scoped. */
  public boolean namespaced() {
    return namespaced;
  }

  List<String> shortNames() {
    return shortNames;
  }

  boolean hasStatus() {
    return hasStatus;
  }

  List<String> verbs() {
    return verbs;
  }

  /** {@code nodes} or {@code leases.coordination.k8s.io}, as error messages name a resource. */
  String qualifiedPlural() {
    return group.isEmpty() ? plural : plural + "." + group;
  }

  /** The path prefix of the group version: {@code /api/v1} or {@code /apis/<group>/v1}. */
  String groupVersionPath() {
    return group.isEmpty() ? "/api/" + version : "/apis/" + group + "/" + version;
  }

  static ResourceType find(String group, String version, String plural) {
    for (ResourceType t : values()) {
      if (t.group.equals(group) && t.version.equals(version) && t.plural.equals(plural)) {
        return t;
      }
    }
    return null;
  }
}
