package io.github.podcidr.apiserver;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An in-memory Kubernetes API server speaking the real REST protocol over HTTP on 127.0.0.1, faithful enough that
 * the official Java client cannot tell it from kube-apiserver for Nodes, Leases, Events and Namespaces: discovery,
 * get/list/watch/create/update/patch/delete, chunked lists, watches with bookmarks and 410s, the three patch types,
 * optimistic concurrency, finalizers, and the validation our controller meets.
 *
 * <h2>Usage</h2>
 * <pre>{@code
 * try (ApiServerSim sim = ApiServerSim.start()) {
 *   ApiClient client = Config.fromConfig(new StringReader(sim.kubeconfig()));   // or sim.writeKubeconfig(path)
 *   new NodeGenerator(1).populate(sim, 100, 10);                               // set up state directly
 *   new CoreV1Api(client).patchNode(...);                                      // exercise over HTTP
 *   assertEquals("10.244.0.0/24", sim.getNode(NodeGenerator.name(0)).at("/spec/podCIDR").asText());
 *   assertEquals(1, sim.requests().count("patch", "nodes"));
 *   sim.faults().failNext("patch", "nodes", 1, 500);                          // inject faults
 * }
 * }</pre>
 * Tunables: {@code ApiServerSim.builder().port(0).historyCapacity(10_000).bookmarkInterval(...).start()}.
 * The command line ({@link Main}) runs the same server standalone.
 *
 * <p>Objects are JSON trees ({@link ObjectNode}); direct access goes through the same validation and produces the
 * same watch events as HTTP requests, so it does not count as a request. The simulator depends only on Jackson;
 * the official client is used by its tests, not by the simulator itself, so it can serve any client version.
 */
public final class ApiServerSim implements AutoCloseable {
  static {
    // The JDK's HTTP server writes a response's headers and body apart; with Nagle's algorithm on, each response
    // then waits for the client's delayed ACK, about 40 ms per request. Read once, when the first server starts.
    if (System.getProperty("sun.net.httpserver.nodelay") == null) {
      System.setProperty("sun.net.httpserver.nodelay", "true");
    }
  }

  private final SimSettings settings;
  private final Store store;
  private final Registry registry;
  private final ListPager pager;
  private final Faults faults;
  private final RequestCounters counters = new RequestCounters();
  private final CountDownLatch stopped = new CountDownLatch(1);
  private final HttpServer server;
  private final ExecutorService executor;

  private ApiServerSim(SimSettings settings) {
    this.settings = settings;
    Clock clock = Clock.systemUTC();
    this.store = new Store(settings.historyCapacity,
        settings.compressObjects ? new ObjectCodec(true) : ObjectCodec.PLAIN);
    this.registry = new Registry(store, clock);
    this.pager = new ListPager(store, clock, settings.continueTtl);
    this.faults = new Faults(store);
    HttpApi api = new HttpApi(registry, pager, faults, counters, stopped, settings);
    AtomicInteger threads = new AtomicInteger();
    ThreadFactory factory = r -> {
      Thread t = new Thread(r, "apiserver-sim-" + threads.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
    this.executor = Executors.newCachedThreadPool(factory);
    try {
      server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), settings.port), 512);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot listen on 127.0.0.1:" + settings.port, e);
    }
    server.createContext("/", api);
    server.setExecutor(executor);
    server.start();
    api.serverAddress("127.0.0.1:" + port());
  }

  /** Starts a simulator on a free port with default settings. */
  public static ApiServerSim start() {
    return builder().start();
  }

  /** Settings for a simulator: {@code ApiServerSim.builder().historyCapacity(100).start()}. */
  public static Builder builder() {
    return new Builder();
  }

  /** Settings for a simulator; every one has a sensible default. */
  public static final class Builder {
    private final SimSettings s = new SimSettings();

    private Builder() {}

    /** TCP port on 127.0.0.1 (default 0: a free port). */
    public Builder port(int port) {
      s.port = port;
      return this;
    }

    /**
     * Changes retained per resource for watches resuming from a past resourceVersion (default 10,000). Each holds
     * the object's version of that time, so under churn of large nodes this window costs up to its length times
     * the object size.
     */
    public Builder historyCapacity(int events) {
      if (events < 1) {
        throw new IllegalArgumentException("historyCapacity must be at least 1, got " + events);
      }
      s.historyCapacity = events;
      return this;
    }

    /** Interval of the periodic BOOKMARK on watches that allow them (default 1 minute). */
    public Builder bookmarkInterval(Duration interval) {
      s.bookmarkInterval = interval;
      return this;
    }

    /** Length of a watch whose client sets no timeoutSeconds (default 30 minutes). */
    public Builder defaultWatchTimeout(Duration timeout) {
      s.defaultWatchTimeout = timeout;
      return this;
    }

    /** How long a continue token stays valid (default 5 minutes). */
    public Builder continueTtl(Duration ttl) {
      s.continueTtl = ttl;
      return this;
    }

    /**
     * Holds every stored object DEFLATE-compressed against a per-type dictionary (default off): about a quarter
     * of the heap for generated nodes, for an inflate on every read (get, list, watch event).
     */
    public Builder compressObjects(boolean compress) {
      s.compressObjects = compress;
      return this;
    }

    /** Starts the server; it listens as soon as this returns. */
    public ApiServerSim start() {
      return new ApiServerSim(s);
    }
  }

  // ------------------------------------------------------------------------------------------ endpoints

  /** The TCP port listened on (127.0.0.1). */
  public int port() {
    return server.getAddress().getPort();
  }

  /** {@code http://127.0.0.1:<port>}, without a trailing slash. */
  public String baseUrl() {
    return "http://127.0.0.1:" + port();
  }

  /** {@link #baseUrl()} as a URI. */
  public URI baseUri() {
    return URI.create(baseUrl());
  }

  /**
   * A kubeconfig for this server (one cluster, one context {@code apiserver-sim}, namespace {@code default}, a dummy
   * bearer token), for {@code Config.fromConfig(new StringReader(sim.kubeconfig()))} or a file.
   */
  public String kubeconfig() {
    return "apiVersion: v1\n"
        + "kind: Config\n"
        + "clusters:\n"
        + "- name: apiserver-sim\n"
        + "  cluster:\n"
        + "    server: " + baseUrl() + "\n"
        + "contexts:\n"
        + "- name: apiserver-sim\n"
        + "  context:\n"
        + "    cluster: apiserver-sim\n"
        + "    user: apiserver-sim\n"
        + "    namespace: default\n"
        + "current-context: apiserver-sim\n"
        + "users:\n"
        + "- name: apiserver-sim\n"
        + "  user:\n"
        + "    token: apiserver-sim\n";
  }

  /** Writes {@link #kubeconfig()} to {@code file} (parent directories created) and returns the file. */
  public Path writeKubeconfig(Path file) {
    try {
      if (file.toAbsolutePath().getParent() != null) {
        Files.createDirectories(file.toAbsolutePath().getParent());
      }
      Files.writeString(file, kubeconfig(), StandardCharsets.UTF_8);
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write kubeconfig " + file, e);
    }
  }

  /** Requests received per verb and resource. */
  public RequestCounters requests() {
    return counters;
  }

  /** Fault injection. */
  public Faults faults() {
    return faults;
  }

  // ------------------------------------------------------------------------------------------ direct access

  /**
   * A copy of the object (with kind and apiVersion), or null. {@code namespace} is ignored if cluster-scoped and
   * means {@code default} when null for a namespaced type (as in {@link #patch} and {@link #delete}).
   */
  public ObjectNode get(ResourceType type, String namespace, String name) {
    StoredObject o = store.get(type, ns(type, namespace), name);
    return o == null ? null : o.tree();
  }

  /** A copy of the node, or null. */
  public ObjectNode getNode(String name) {
    return get(ResourceType.NODES, "", name);
  }

  /** Copies of all objects of a type in key order; {@code namespace} null or "" for all namespaces. */
  public List<ObjectNode> list(ResourceType type, String namespace) {
    List<ObjectNode> out = new ArrayList<>();
    for (StoredObject o : store.list(type, namespace == null ? "" : namespace, Selector.EVERYTHING).items()) {
      out.add(o.tree());
    }
    return out;
  }

  /** Number of objects of a type. */
  public int count(ResourceType type) {
    return store.count(type);
  }

  /**
   * Creates an object as a POST would (defaults, validation, watch event); the namespace of a namespaced object
   * comes from its {@code metadata.namespace}. Returns the stored object.
   *
   * @throws SimException with the Status the HTTP request would have answered (e.g. 409 AlreadyExists)
   */
  public ObjectNode create(ResourceType type, ObjectNode object) {
    String ns = type.namespaced() ? textOr(object.path("metadata").get("namespace"), "default") : "";
    return call(() -> registry.create(type, ns, object, false)).tree();
  }

  /** {@link #create} of a node. */
  public ObjectNode createNode(ObjectNode node) {
    return create(ResourceType.NODES, node);
  }

  /**
   * Replaces an object as a PUT would, except that spec, metadata and (for nodes) status are all written in one
   * change, so tests can set any state with a single watch event; a {@code metadata.resourceVersion} in it is a
   * precondition, none means unconditional.
   */
  public ObjectNode update(ResourceType type, ObjectNode object) {
    JsonNode meta = object.path("metadata");
    String ns = type.namespaced() ? textOr(meta.get("namespace"), "default") : "";
    String name = textOr(meta.get("name"), "");
    return call(() -> registry.update(type, ns, name, object, Registry.Part.ALL, false)).tree();
  }

  /**
   * Patches an object as a PATCH would (spec, metadata and status alike). {@code contentType}: {@code application/json-patch+json},
   * {@code application/merge-patch+json} or {@code application/strategic-merge-patch+json}.
   */
  public ObjectNode patch(ResourceType type, String namespace, String name, String contentType, String patch) {
    return call(() -> registry.patch(type, ns(type, namespace), name, contentType,
        patch.getBytes(StandardCharsets.UTF_8), Registry.Part.ALL, false)).tree();
  }

  /** Deletes as a DELETE would; with finalizers the object stays, marked with a deletionTimestamp. */
  public void delete(ResourceType type, String namespace, String name) {
    call(() -> registry.delete(type, ns(type, namespace), name, null, false));
  }

  /** {@link #delete} of a node. */
  public void deleteNode(String name) {
    delete(ResourceType.NODES, "", name);
  }

  /** The current global resourceVersion. */
  public long resourceVersion() {
    return store.resourceVersion();
  }

  /** Number of watches currently open. */
  public int openWatches() {
    return store.watcherCount();
  }

  /** Sends a BOOKMARK now on every open watch that allows bookmarks. */
  public void sendBookmarks() {
    store.atomically(() -> {
      long rv = store.resourceVersion();
      store.forEachWatcher(w -> w.bookmark(rv));
      return null;
    });
  }

  /** Forgets all retained change history: a watch from any earlier resourceVersion now gets 410 Expired. */
  public void compactHistory() {
    store.compactHistory();
  }

  /** Drops all list snapshots: a continue token now answers 410 Expired unless nothing changed since. */
  public void expireContinueTokens() {
    pager.expireAll();
  }

  /**
   * Stored bytes of all objects of a type (JSON, as held in the heap), for memory reports.
   */
  public long storedBytes(ResourceType type) {
    long total = 0;
    for (StoredObject o : store.list(type, "", Selector.EVERYTHING).items()) {
      total += o.encodedSize();
    }
    return total;
  }

  /** Stops the server: open watches end, connections held by faults are closed. Idempotent. */
  @Override
  public void close() {
    if (stopped.getCount() == 0) {
      return;
    }
    stopped.countDown();
    store.forEachWatcher(Watcher::close);
    server.stop(0);
    executor.shutdownNow();
  }

  private static String ns(ResourceType type, String namespace) {
    if (!type.namespaced()) {
      return "";
    }
    return namespace == null || namespace.isEmpty() ? "default" : namespace;
  }

  private static String textOr(JsonNode n, String fallback) {
    return n != null && n.isTextual() && !n.asText().isEmpty() ? n.asText() : fallback;
  }

  private static <T> T call(java.util.function.Supplier<T> action) {
    try {
      return action.get();
    } catch (StatusException e) {
      throw new SimException(e);
    }
  }
}
