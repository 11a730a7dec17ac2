package io.github.podcidr.apiserver;

import java.util.List;
import java.util.Map;

/**
 * What a resource request path names, and its verb, following
 * https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-uris: {@code /api/v1/<plural>[/<name>[/<sub>]]},
 * {@code /api/v1/namespaces/<ns>/<plural>[/<name>[/<sub>]]} and the same under {@code /apis/<group>/<version>}.
 * A namespaced plural without a namespace is the list/watch across all namespaces.
 *
 * @param type the resource
 * @param namespace the namespace, or "" for cluster-scoped resources and all-namespace collections
 * @param name the object name, or null for the collection
 * @param subresource {@code status}, or null
 */
record ApiPath(ResourceType type, String namespace, String name, String subresource) {

  /** The resource as counters and faults name it: {@code nodes} or {@code nodes/status}. */
  String resourceLabel() {
    return subresource == null ? type.plural() : type.plural() + "/" + subresource;
  }

  static ApiPath parse(List<String> seg) {
    String group;
    String version;
    List<String> rest;
    if (seg.get(0).equals("api") && seg.size() >= 3) {
      group = "";
      version = seg.get(1);
      rest = seg.subList(2, seg.size());
    } else if (seg.get(0).equals("apis") && seg.size() >= 4) {
      group = seg.get(1);
      version = seg.get(2);
      rest = seg.subList(3, seg.size());
    } else {
      throw StatusException.pathNotFound();
    }
    if (rest.size() >= 3 && rest.get(0).equals("namespaces")) {
      ResourceType t = ResourceType.find(group, version, rest.get(2));
      if (t != null && t.namespaced() && rest.size() <= 5) {
        String name = rest.size() >= 4 ? rest.get(3) : null;
        String sub = rest.size() == 5 ? rest.get(4) : null;
        return checkSub(new ApiPath(t, rest.get(1), name, sub));
      }
      if (t == null && rest.size() == 3 && group.isEmpty()) {
        // namespaces/<name>/<subresource>
        return checkSub(new ApiPath(ResourceType.NAMESPACES, "", rest.get(1), rest.get(2)));
      }
      throw StatusException.pathNotFound();
    }
    ResourceType t = ResourceType.find(group, version, rest.get(0));
    if (t == null || rest.size() > 3 || (t.namespaced() && rest.size() > 1)) {
      throw StatusException.pathNotFound();
    }
    return checkSub(new ApiPath(t, "", rest.size() >= 2 ? rest.get(1) : null, rest.size() == 3 ? rest.get(2) : null));
  }

  private static ApiPath checkSub(ApiPath t) {
    if (t.subresource != null && !(t.subresource.equals("status") && t.type.hasStatus())) {
      throw StatusException.pathNotFound();
    }
    return t;
  }

  /** The Kubernetes verb of an HTTP method on this path; 405 MethodNotAllowed for combinations not served. */
  String verb(String method, Map<String, String> query) {
    boolean collection = name == null;
    switch (method) {
      case "GET":
        if (collection) {
          return "true".equals(query.get("watch")) || "1".equals(query.get("watch")) ? "watch" : "list";
        }
        return "get";
      case "POST":
        if (!collection) {
          throw StatusException.methodNotAllowed();
        }
        return "create";
      case "PUT":
        if (collection) {
          throw StatusException.methodNotAllowed();
        }
        return "update";
      case "PATCH":
        if (collection) {
          throw StatusException.methodNotAllowed();
        }
        return "patch";
      case "DELETE":
        if (subresource != null) {
          throw StatusException.methodNotAllowed();
        }
        return collection ? "deletecollection" : "delete";
      default:
        throw StatusException.methodNotAllowed();
    }
  }
}
