package io.github.podcidr.apiserver;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * The discovery documents ({@code /version}, {@code /api}, {@code /api/v1}, {@code /apis}, {@code /apis/<group>},
 * {@code /apis/<group>/<version>}) describing exactly what is served, in the shapes of {@code meta/v1} APIVersions,
 * APIGroupList, APIGroup and APIResourceList. Aggregated discovery (apidiscovery.k8s.io/v2) is not offered; clients
 * that ask for it accept the plain documents, as they do from servers older than 1.26.
 */
final class Discovery {
  /** The Kubernetes version reported; client-java 25 targets Kubernetes 1.34. */
  static final String GIT_VERSION = "v1.34.0";

  private Discovery() {}

  static ObjectNode version() {
    ObjectNode v = Json.object();
    v.put("major", "1");
    v.put("minor", "34");
    v.put("gitVersion", GIT_VERSION);
    v.put("gitCommit", "0000000000000000000000000000000000000000");
    v.put("gitTreeState", "clean");
    v.put("buildDate", "2025-08-27T00:00:00Z");
    v.put("goVersion", "go1.24.6");
    v.put("compiler", "gc");
    v.put("platform", "linux/amd64");
    return v;
  }

  /** {@code GET /}: the served paths, as the real root document lists them. */
  static ObjectNode rootPaths() {
    ObjectNode root = Json.object();
    ArrayNode paths = root.putArray("paths");
    paths.add("/api").add("/api/v1").add("/apis");
    for (String g : groups()) {
      paths.add("/apis/" + g).add("/apis/" + g + "/v1");
    }
    paths.add("/healthz").add("/livez").add("/readyz").add("/version");
    return root;
  }

  static ObjectNode apiVersions(String serverAddress) {
    ObjectNode v = Json.object();
    v.put("kind", "APIVersions");
    v.putArray("versions").add("v1");
    ObjectNode cidr = v.putArray("serverAddressByClientCIDRs").addObject();
    cidr.put("clientCIDR", "0.0.0.0/0");
    cidr.put("serverAddress", serverAddress);
    return v;
  }

  /**
   * The served groups in kube-apiserver's order, which is its group priority (events.k8s.io ranks above
   * coordination.k8s.io), not the alphabet.
   */
  private static Set<String> groups() {
    Set<String> groups = new LinkedHashSet<>();
    groups.add(ResourceType.EVENTS_V1.group());
    for (ResourceType t : ResourceType.values()) {
      if (!t.group().isEmpty()) {
        groups.add(t.group());
      }
    }
    return groups;
  }

  static boolean servesGroup(String group) {
    return groups().contains(group);
  }

  static ObjectNode groupList() {
    ObjectNode list = Json.object();
    list.put("kind", "APIGroupList");
    list.put("apiVersion", "v1");
    ArrayNode groups = list.putArray("groups");
    for (String g : groups()) {
      groups.add(group(g, false));
    }
    return list;
  }

  static ObjectNode group(String name, boolean withKind) {
    ObjectNode g = Json.object();
    if (withKind) {
      g.put("kind", "APIGroup");
      g.put("apiVersion", "v1");
    }
    g.put("name", name);
    ObjectNode version = Json.object();
    version.put("groupVersion", name + "/v1");
    version.put("version", "v1");
    g.putArray("versions").add(version);
    g.set("preferredVersion", version.deepCopy());
    return g;
  }

  /**
   * {@code StorageVersionHash}: the first 8 bytes of the SHA-256 of {@code <group>/<version>/<kind>} of the version
   * objects are stored as, base64. Events of both groups are stored as core/v1 Events, so they share one hash;
   * leases are stored as coordination.k8s.io/v1 (kube-apiserver 1.20 still stored them as v1beta1).
   */
  static String storageVersionHash(ResourceType t) {
    String gvk = t == ResourceType.EVENTS_V1 ? "/v1/Event" : t.group() + "/" + t.version() + "/" + t.kind();
    try {
      byte[] sha = MessageDigest.getInstance("SHA-256").digest(gvk.getBytes(StandardCharsets.UTF_8));
      return Base64.getEncoder().encodeToString(Arrays.copyOf(sha, 8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JRE", e);
    }
  }

  /** The APIResourceList of a group version, or null when nothing is served there. */
  static ObjectNode resourceList(String group, String version) {
    ObjectNode list = Json.object();
    list.put("kind", "APIResourceList");
    if (!group.isEmpty()) {
      list.put("apiVersion", "v1"); // the legacy /api/v1 list carries no apiVersion
    }
    list.put("groupVersion", group.isEmpty() ? version : group + "/" + version);
    ArrayNode resources = list.putArray("resources");
    java.util.List<ResourceType> sorted = new java.util.ArrayList<>(java.util.List.of(ResourceType.values()));
    sorted.sort(java.util.Comparator.comparing(ResourceType::plural)); // resources are listed by name
    for (ResourceType t : sorted) {
      if (!t.group().equals(group) || !t.version().equals(version)) {
        continue;
      }
      ObjectNode r = resources.addObject();
      r.put("name", t.plural());
      r.put("singularName", t.singular());
      r.put("namespaced", t.namespaced());
      r.put("kind", t.kind());
      ArrayNode verbs = r.putArray("verbs");
      t.verbs().forEach(verbs::add);
      if (!t.shortNames().isEmpty()) {
        ArrayNode sn = r.putArray("shortNames");
        t.shortNames().forEach(sn::add);
      }
      r.put("storageVersionHash", storageVersionHash(t));
      if (t.hasStatus()) {
        ObjectNode s = resources.addObject();
        s.put("name", t.plural() + "/status");
        s.put("singularName", "");
        s.put("namespaced", t.namespaced());
        s.put("kind", t.kind());
        s.putArray("verbs").add("get").add("patch").add("update");
      }
    }
    return resources.isEmpty() ? null : list;
  }
}
