package io.github.podcidr.apiserver;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The REST front end: routes a request to discovery or to a resource verb, counts it, applies faults, and writes
 * JSON (objects, lists, Status errors) or a chunked watch stream.
 *
 * <p>Paths and verbs follow https://kubernetes.io/docs/reference/using-api/api-concepts/: {@code GET} on an object is
 * get, on a collection list (or watch with {@code ?watch=true}), {@code POST} create, {@code PUT} update,
 * {@code PATCH} patch, {@code DELETE} delete or deletecollection. Everything answers {@code application/json}
 * whatever the {@code Accept} header asks (protobuf, Table): clients then decode JSON.
 */
final class HttpApi implements HttpHandler {
  private static final Logger LOG = Logger.getLogger(HttpApi.class.getName());

  private final Registry registry;
  private final ListPager pager;
  private final Faults faults;
  private final RequestCounters counters;
  private final CountDownLatch stopped;
  private final WatchStream watches;
  private volatile String serverAddress = "127.0.0.1:0";

  HttpApi(Registry registry, ListPager pager, Faults faults, RequestCounters counters, CountDownLatch stopped,
      SimSettings settings) {
    this.registry = registry;
    this.pager = pager;
    this.faults = faults;
    this.counters = counters;
    this.stopped = stopped;
    this.watches = new WatchStream(registry.store(), faults, stopped, settings);
  }

  void serverAddress(String address) {
    this.serverAddress = address;
  }

  @Override
  public void handle(HttpExchange ex) throws IOException {
    try {
      byte[] body = readAll(ex.getRequestBody());
      Map<String, String> q = query(ex.getRequestURI().getRawQuery());
      String path = ex.getRequestURI().getPath();
      List<String> seg = new ArrayList<>();
      for (String s : path.split("/")) {
        if (!s.isEmpty()) {
          seg.add(s);
        }
      }
      if (handleNonResource(ex, seg)) {
        return;
      }
      ApiPath target = ApiPath.parse(seg);
      String verb = target.verb(ex.getRequestMethod(), q);
      counters.increment(verb, target.resourceLabel());
      Duration delay = faults.latencyFor(verb, target.resourceLabel(), ex.getRequestHeaders().getFirst("User-Agent"));
      if (!delay.isZero()) {
        Duration limit = verb.equals("watch") ? null : RequestTimeout.parse(q.get("timeout"));
        if (limit != null && limit.compareTo(delay) < 0) {
          Thread.sleep(limit.toMillis());
          throw RequestTimeout.exceeded(limit); // abandoned at its deadline: nothing is carried out
        }
        Thread.sleep(delay.toMillis());
      }
      StatusException injected = faults.errorFor(verb, target.resourceLabel());
      if (injected != null) {
        throw injected;
      }
      Faults.LateWrites late = verb.equals("list") || verb.equals("watch") || verb.equals("get") ? null
          : faults.applyLate(verb, target.resourceLabel());
      if (late != null) {
        late.hold(() -> {
          try {
            serve(ex, verb, target, q, body); // the answer went out already: only the change remains
            return true;
          } catch (StatusException refused) {
            return false; // judged against the objects as they are now, e.g. a JSON patch test no longer holds
          }
        });
        Duration limit = RequestTimeout.parse(q.get("timeout"));
        sendStatus(ex, RequestTimeout.exceeded(limit == null ? Duration.ofSeconds(60) : limit));
        return;
      }
      if (faults.neverAnswer(verb, target.resourceLabel())) {
        try {
          if (!verb.equals("list") && !verb.equals("watch")) { // those stream their own answer: just hold them
            serve(ex, verb, target, q, body);
          }
        } catch (StatusException failed) {
          // the client learns nothing either way
        }
        // The work is done; hold the connection without a response until the client gives up or we stop.
        stopped.await();
        ex.close();
        return;
      }
      Response response = serve(ex, verb, target, q, body);
      if (response != null) {
        send(ex, response.code, response.body);
      }
    } catch (StatusException e) {
      sendStatus(ex, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      ex.close();
    } catch (IOException e) {
      ex.close(); // the client went away
    } catch (RuntimeException e) {
      LOG.log(Level.WARNING, "internal error serving " + ex.getRequestMethod() + " " + ex.getRequestURI(), e);
      sendStatus(ex, StatusException.internalError(String.valueOf(e)));
    }
  }

  private record Response(int code, byte[] body) {}

  // ------------------------------------------------------------------------------------------------ routing

  private boolean handleNonResource(HttpExchange ex, List<String> seg) throws IOException {
    if (seg.isEmpty()) {
      send(ex, 200, Json.bytes(Discovery.rootPaths()));
      return true;
    }
    String first = seg.get(0);
    if (seg.size() == 1 && List.of("healthz", "readyz", "livez").contains(first)) {
      sendText(ex, 200, "ok");
      return true;
    }
    if (!first.equals("api") && !first.equals("apis") && !first.equals("version")) {
      // Outside the API groups the last handler of kube-apiserver's chain answers 404 with the list of paths.
      send(ex, 404, Json.bytes(Discovery.rootPaths()));
      return true;
    }
    if (first.equals("apis") && seg.size() >= 2 && !Discovery.servesGroup(seg.get(1))) {
      // An unknown group falls through the aggregator to Go's plain-text 404, not a Status.
      sendText(ex, 404, "404 page not found\n");
      return true;
    }
    boolean discoveryPath = (first.equals("version") && seg.size() == 1) || (first.equals("api") && seg.size() <= 2)
        || (first.equals("apis") && seg.size() <= 3);
    if (!ex.getRequestMethod().equals("GET")) {
      if (discoveryPath) {
        throw StatusException.methodNotAllowed();
      }
      return false;
    }
    ObjectNode doc = null;
    if (seg.size() == 1 && first.equals("version")) {
      doc = Discovery.version();
    } else if (seg.size() == 1 && first.equals("api")) {
      doc = Discovery.apiVersions(serverAddress);
    } else if (seg.size() == 2 && first.equals("api") && seg.get(1).equals("v1")) {
      doc = Discovery.resourceList("", "v1");
    } else if (seg.size() == 1 && first.equals("apis")) {
      doc = Discovery.groupList();
    } else if (seg.size() == 2 && first.equals("apis")) {
      if (!Discovery.servesGroup(seg.get(1))) {
        throw StatusException.pathNotFound();
      }
      doc = Discovery.group(seg.get(1), true);
    } else if (seg.size() == 3 && first.equals("apis")) {
      doc = Discovery.resourceList(seg.get(1), seg.get(2));
      if (doc == null) {
        throw StatusException.pathNotFound();
      }
    }
    if (doc == null) {
      return false;
    }
    send(ex, 200, Json.bytes(doc));
    return true;
  }

  // ------------------------------------------------------------------------------------------------ verbs

  private Response serve(HttpExchange ex, String verb, ApiPath t, Map<String, String> q, byte[] body)
      throws IOException, InterruptedException {
    boolean allowed = t.subresource() == null ? t.type().verbs().contains(verb)
        : List.of("get", "update", "patch").contains(verb);
    if (!allowed) {
      throw StatusException.methodNotAllowed();
    }
    checkAccept(ex.getRequestHeaders().getFirst("Accept"));
    boolean dryRun = dryRun(verb, q);
    Registry.Part part = "status".equals(t.subresource()) ? Registry.Part.STATUS : Registry.Part.MAIN;
    String ns = t.type().namespaced() ? t.namespace() : "";
    switch (verb) {
      case "get": {
        StoredObject o = registry.store().get(t.type(), ns, t.name());
        if (o == null) {
          throw StatusException.notFound(t.type(), t.name());
        }
        return new Response(200, withKind(o));
      }
      case "list":
        writeList(ex, t, ns, q);
        return null;
      case "watch":
        watches.serve(ex, t, ns, q);
        return null;
      case "create": {
        if (t.subresource() != null) {
          throw StatusException.methodNotAllowed();
        }
        ObjectNode obj = RequestBody.read(t.type(), ex.getRequestHeaders().getFirst("Content-Type"), body);
        return created(create(t.type(), ns, obj, dryRun), dryRun);
      }
      case "update":
        return update(t, ns, RequestBody.read(t.type(), ex.getRequestHeaders().getFirst("Content-Type"), body),
            part, dryRun);
      case "patch": {
        String contentType = ex.getRequestHeaders().getFirst("Content-Type");
        return new Response(200, withKind(registry.patch(t.type(), ns, t.name(), contentType, body, part, dryRun)));
      }
      case "delete": {
        JsonNode options = body.length == 0 ? null : Json.parse(body);
        Registry.Deletion d = registry.delete(t.type(), ns, t.name(), options, dryRun);
        if (d.pending()) {
          return new Response(200, withKind(d.object()));
        }
        return new Response(200, Json.bytes(success(t.type(), d.object())));
      }
      case "deletecollection": {
        Selector sel = Selector.parse(t.type(), q.get("labelSelector"), q.get("fieldSelector"));
        List<Registry.Deletion> gone = registry.deleteCollection(t.type(), ns, sel, dryRun);
        List<StoredObject> objs = new ArrayList<>();
        gone.forEach(d -> objs.add(d.object()));
        ObjectNode list = Json.object();
        list.put("kind", t.type().listKind());
        list.put("apiVersion", t.type().apiVersion());
        list.putObject("metadata").put("resourceVersion", Long.toString(registry.store().resourceVersion()));
        list.set("items", Registry.itemsArray(objs));
        return new Response(200, Json.bytes(list));
      }
      default:
        throw StatusException.methodNotAllowed();
    }
  }

  /**
   * Admission (NamespaceLifecycle) refuses a create in a namespace that does not exist before the object is
   * validated: 404 for the namespace.
   */
  private StoredObject create(ResourceType type, String ns, ObjectNode obj, boolean dryRun) {
    if (type.namespaced() && registry.store().get(ResourceType.NAMESPACES, "", ns) == null) {
      throw StatusException.notFound(ResourceType.NAMESPACES, ns);
    }
    return registry.create(type, ns, obj, dryRun);
  }

  /** 201 with the new object; a dry-run create has no resourceVersion, as nothing was stored. */
  private static Response created(StoredObject o, boolean dryRun) {
    if (!dryRun) {
      return new Response(201, withKind(o));
    }
    ObjectNode obj = Json.parseObject(withKind(o));
    Json.child(obj, "metadata").remove("resourceVersion");
    return new Response(201, Json.bytes(obj));
  }

  /**
   * PUT. Leases and events are created by an update of a missing object ({@code AllowCreateOnUpdate}), whatever
   * resourceVersion the body names. A Lease update must name the resourceVersion it replaces
   * ({@code AllowUnconditionalUpdate} is false for leases: 422), so that two candidates never both take it.
   */
  private Response update(ApiPath t, String ns, ObjectNode obj, Registry.Part part, boolean dryRun) {
    ResourceType type = t.type();
    String rv = Json.str(obj.path("metadata"), "resourceVersion");
    boolean unconditional = rv == null || rv.isEmpty();
    boolean createsOnUpdate = type == ResourceType.LEASES || type == ResourceType.EVENTS
        || type == ResourceType.EVENTS_V1;
    if (t.subresource() == null && createsOnUpdate && registry.store().get(type, ns, t.name()) == null) {
      String bodyName = Json.str(obj.path("metadata"), "name");
      if (bodyName != null && !bodyName.equals(t.name())) {
        throw StatusException.badRequest("the name of the object (" + bodyName + ") does not match the name on the "
            + "URL (" + t.name() + ")");
      }
      Json.child(obj, "metadata").put("name", t.name()); // a resourceVersion in the body is ignored here
      return created(create(type, ns, obj, dryRun), dryRun);
    }
    if (type == ResourceType.LEASES && unconditional && registry.store().get(type, ns, t.name()) != null) {
      throw StatusException.invalid(type.plural(), type.group(), t.name(), List.of(FieldError.invalid(
          "metadata.resourceVersion", "0x0", "must be specified for an update")));
    }
    return new Response(200, withKind(registry.update(type, ns, t.name(), obj, part, dryRun)));
  }

  /**
   * The {@code dryRun} parameter: absent, or {@code All} (422 for anything else, as the options' validation
   * answers).
   */
  private static boolean dryRun(String verb, Map<String, String> q) {
    String v = q.get("dryRun");
    if (v == null) {
      return false;
    }
    if (!v.equals("All")) {
      String options = switch (verb) {
        case "create" -> "CreateOptions";
        case "update" -> "UpdateOptions";
        case "patch" -> "PatchOptions";
        case "delete", "deletecollection" -> "DeleteOptions";
        default -> null;
      };
      if (options != null) {
        throw StatusException.invalid(options, "meta.k8s.io", "", List.of(FieldError.notSupported("dryRun",
            "[]string{" + FieldError.quote(v) + "}", "\"All\"")));
      }
      return false;
    }
    return true;
  }

  /**
   * 406 when the Accept header names no media type the server can write. JSON is always written: protobuf and
   * YAML requests are answered in JSON, and so are Table requests (not simulated).
   */
  static void checkAccept(String accept) {
    if (accept == null || accept.isBlank()) {
      return;
    }
    for (String range : accept.split(",")) {
      String[] parts = range.split(";");
      String media = parts[0].trim().toLowerCase();
      boolean refused = false;
      for (int i = 1; i < parts.length; i++) {
        String p = parts[i].trim();
        if (p.startsWith("q=")) {
          try {
            refused = Double.parseDouble(p.substring(2)) <= 0;
          } catch (NumberFormatException e) {
            refused = true;
          }
        }
      }
      if (!refused && (media.equals("*/*") || media.equals("application/*") || media.equals("application/json")
          || media.equals("application/yaml") || media.equals("application/vnd.kubernetes.protobuf"))) {
        return;
      }
    }
    throw StatusException.notAcceptable();
  }

  private static ObjectNode success(ResourceType type, StoredObject gone) {
    ObjectNode s = Json.object();
    s.put("kind", "Status");
    s.put("apiVersion", "v1");
    s.putObject("metadata");
    s.put("status", "Success");
    ObjectNode d = s.putObject("details");
    d.put("name", gone.name);
    if (!type.group().isEmpty()) {
      d.put("group", type.group());
    }
    d.put("kind", type.plural());
    JsonNode uid = Json.parseObject(gone.json()).path("metadata").get("uid");
    if (uid != null) {
      d.set("uid", uid);
    }
    return s;
  }

  private void writeList(HttpExchange ex, ApiPath t, String ns, Map<String, String> q) throws IOException {
    Selector sel = Selector.parse(t.type(), q.get("labelSelector"), q.get("fieldSelector"));
    long limit = 0;
    if (q.get("limit") != null && !q.get("limit").isEmpty()) {
      try {
        limit = Long.parseLong(q.get("limit"));
      } catch (NumberFormatException e) {
        throw StatusException.badRequest("limit: invalid value \"" + q.get("limit") + "\"");
      }
    }
    ListPager.Page page = pager.list(t.type(), ns, sel, q.get("resourceVersion"), q.get("resourceVersionMatch"),
        limit, q.get("continue"));
    ObjectNode meta = Json.object();
    meta.put("resourceVersion", Long.toString(page.resourceVersion()));
    if (page.continueToken() != null) {
      meta.put("continue", page.continueToken());
      if (page.remaining() >= 0) {
        meta.put("remainingItemCount", page.remaining());
      }
    }
    String head = "{\"kind\":\"" + t.type().listKind() + "\",\"apiVersion\":\"" + t.type().apiVersion()
        + "\",\"metadata\":" + Json.text(meta) + ",\"items\":[";
    ex.getResponseHeaders().set("Content-Type", "application/json");
    ex.sendResponseHeaders(200, 0);
    try (OutputStream out = new BufferedOutputStream(ex.getResponseBody(), 1 << 16)) {
      out.write(head.getBytes(StandardCharsets.UTF_8));
      boolean first = true;
      for (StoredObject o : page.items()) {
        if (!first) {
          out.write(',');
        }
        first = false;
        out.write(o.json());
      }
      out.write("]}".getBytes(StandardCharsets.UTF_8));
    }
  }

  // ------------------------------------------------------------------------------------------------ output

  /** The stored JSON with kind and apiVersion put first, as a single object is served. */
  static byte[] withKind(StoredObject o) {
    byte[] json = o.json();
    byte[] head = ("{\"kind\":\"" + o.type.kind() + "\",\"apiVersion\":\"" + o.type.apiVersion() + "\"")
        .getBytes(StandardCharsets.UTF_8);
    boolean empty = json.length <= 2;
    ByteArrayOutputStream b = new ByteArrayOutputStream(json.length + head.length + 1);
    b.write(head, 0, head.length);
    if (!empty) {
      b.write(',');
      b.write(json, 1, json.length - 1);
    } else {
      b.write('}');
    }
    return b.toByteArray();
  }

  private static void send(HttpExchange ex, int code, byte[] body) throws IOException {
    ex.getResponseHeaders().set("Content-Type", "application/json");
    ex.sendResponseHeaders(code, body.length == 0 ? -1 : body.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(body);
    }
  }

  private static void sendText(HttpExchange ex, int code, String text) throws IOException {
    byte[] body = text.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
    ex.sendResponseHeaders(code, body.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(body);
    }
  }

  private static void sendStatus(HttpExchange ex, StatusException e) {
    try {
      if (e.retryAfterSeconds > 0) {
        ex.getResponseHeaders().set("Retry-After", Integer.toString(e.retryAfterSeconds));
      }
      send(ex, e.code, Json.bytes(e.toStatus()));
    } catch (IOException | RuntimeException ignored) {
      ex.close(); // headers already sent (a failure mid-stream) or the client is gone
    }
  }

  private static byte[] readAll(InputStream in) throws IOException {
    try (in) {
      return in.readAllBytes();
    }
  }

  private static Map<String, String> query(String raw) {
    Map<String, String> q = new HashMap<>();
    if (raw == null || raw.isEmpty()) {
      return q;
    }
    for (String pair : raw.split("&")) {
      int eq = pair.indexOf('=');
      String k = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
      String v = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
      q.putIfAbsent(k, v);
    }
    return q;
  }
}
