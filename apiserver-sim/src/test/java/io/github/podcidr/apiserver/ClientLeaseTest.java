package io.github.podcidr.apiserver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kubernetes.client.extended.event.EventType;
import io.kubernetes.client.extended.event.legacy.EventRecorder;
import io.kubernetes.client.extended.event.legacy.LegacyEventBroadcaster;
import io.kubernetes.client.extended.leaderelection.LeaderElectionConfig;
import io.kubernetes.client.extended.leaderelection.LeaderElector;
import io.kubernetes.client.extended.leaderelection.resourcelock.LeaseLock;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.CoordinationV1Api;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.apis.EventsV1Api;
import io.kubernetes.client.openapi.models.CoreV1Event;
import io.kubernetes.client.openapi.models.EventsV1Event;
import io.kubernetes.client.openapi.models.V1Lease;
import io.kubernetes.client.openapi.models.V1LeaseSpec;
import io.kubernetes.client.openapi.models.V1EventSource;
import io.kubernetes.client.openapi.models.V1Namespace;
import io.kubernetes.client.openapi.models.V1Node;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1ObjectReference;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Leases (and leader election on them), Events and Namespaces through the official client. */
class ClientLeaseTest {
  private ApiServerSim sim;
  private ApiClient client;

  @BeforeEach
  void start() {
    sim = ApiServerSim.start();
    client = Clients.client(sim);
  }

  @AfterEach
  void stop() {
    sim.close();
  }

  @Test
  void leaseCrudAndValidation() throws ApiException {
    CoordinationV1Api api = new CoordinationV1Api(client);
    V1Lease created = api.createNamespacedLease("kube-system", new V1Lease()
        .metadata(new V1ObjectMeta().name("lock"))
        .spec(new V1LeaseSpec().holderIdentity("a").leaseDurationSeconds(15).renewTime(OffsetDateTime.now())))
        .execute();
    assertEquals("Lease", created.getKind());
    assertEquals("kube-system", created.getMetadata().getNamespace());
    assertEquals("a", api.readNamespacedLease("lock", "kube-system").execute().getSpec().getHolderIdentity());
    assertEquals(1, api.listLeaseForAllNamespaces().execute().getItems().size());

    ApiException invalid = assertThrows(ApiException.class, () -> api.createNamespacedLease("default",
        new V1Lease().metadata(new V1ObjectMeta().name("bad")).spec(new V1LeaseSpec().leaseDurationSeconds(0)))
        .execute());
    assertEquals(422, invalid.getCode());
    assertEquals("Lease.coordination.k8s.io \"bad\" is invalid: spec.leaseDurationSeconds: Invalid value: 0: "
        + "must be greater than 0",
        Clients.message(invalid));

    ApiException noNamespace = assertThrows(ApiException.class, () -> api.createNamespacedLease("nowhere",
        new V1Lease().metadata(new V1ObjectMeta().name("x"))).execute());
    assertEquals(404, noNamespace.getCode());
    assertEquals("namespaces \"nowhere\" not found", Clients.message(noNamespace));

    ApiException missing = assertThrows(ApiException.class,
        () -> api.readNamespacedLease("missing", "default").execute());
    assertEquals("leases.coordination.k8s.io \"missing\" not found", Clients.message(missing));
  }

  @Test
  void twoElectorsAndAFailover() throws Exception {
    AtomicReference<String> leader = new AtomicReference<>();
    ExecutorService pool = Executors.newFixedThreadPool(2);
    LeaderElector a = elector("a", leader);
    LeaderElector b = elector("b", leader);
    try {
      pool.submit(() -> a.run(() -> leader.compareAndSet(null, "a"), () -> leader.compareAndSet("a", null)));
      Clients.await("a leads", () -> "a".equals(leader.get()));
      pool.submit(() -> b.run(() -> leader.set("b"), () -> { }));
      Thread.sleep(1500);
      assertEquals("a", leader.get(), "b cannot take a lease that a renews");
      assertEquals("a", holder());

      a.close(); // a dies without releasing; b must take over once the lease expires
      Clients.await("b leads", () -> "b".equals(leader.get()));
      assertEquals("b", holder());
      V1Lease lease = new CoordinationV1Api(client).readNamespacedLease("podcidr", "kube-system").execute();
      assertEquals(1, lease.getSpec().getLeaseTransitions());
      assertTrue(sim.requests().count("update", "leases") > 0, sim.requests().toString());
    } finally {
      a.close();
      b.close();
      pool.shutdownNow();
    }
  }

  private String holder() throws ApiException {
    return new CoordinationV1Api(client).readNamespacedLease("podcidr", "kube-system").execute().getSpec()
        .getHolderIdentity();
  }

  private LeaderElector elector(String id, AtomicReference<String> unused) {
    LeaseLock lock = new LeaseLock("kube-system", "podcidr", id, Clients.client(sim));
    // Generous margins so that a loaded 2-core CI machine does not lose a renewal by accident.
    return new LeaderElector(new LeaderElectionConfig(lock, Duration.ofSeconds(4), Duration.ofSeconds(3),
        Duration.ofMillis(400)));
  }

  @Test
  void legacyEventRecorderCreatesThenAggregatesByStrategicMergePatch() throws Exception {
    sim.createNode(Clients.node("n1"));
    V1Node node = new CoreV1Api(client).readNode("n1").execute();
    LegacyEventBroadcaster broadcaster = new LegacyEventBroadcaster(new CoreV1Api(client));
    EventRecorder recorder = broadcaster.newRecorder(new V1EventSource().component("podcidr-controller"));
    broadcaster.startRecording();
    try {
      recorder.event(node, EventType.Warning, "CIDRNotAvailable", "no CIDR left for %s", "n1");
      Clients.await("event created", () -> sim.count(ResourceType.EVENTS) == 1);
      recorder.event(node, EventType.Warning, "CIDRNotAvailable", "no CIDR left for %s", "n1");
      Clients.await("event aggregated", () -> sim.list(ResourceType.EVENTS, "default").get(0).path("count")
          .asInt() == 2);
    } finally {
      broadcaster.shutdown();
    }
    var event = sim.list(ResourceType.EVENTS, "default").get(0);
    assertEquals("Node", event.at("/involvedObject/kind").asText());
    assertEquals("no CIDR left for n1", event.path("message").asText());
    assertEquals(1, sim.requests().count("create", "events"));
    assertEquals(1, sim.requests().count("patch", "events"));
  }

  @Test
  void eventsInBothGroupsAndNamespaces() throws ApiException {
    CoreV1Api core = new CoreV1Api(client);
    CoreV1Event event = core.createNamespacedEvent("default", new CoreV1Event()
        .metadata(new V1ObjectMeta().generateName("10.0.0.1."))
        .involvedObject(new V1ObjectReference().kind("Node").name("10.0.0.1"))
        .reason("CIDRNotAvailable").message("no CIDR left").type("Warning")).execute();
    assertNotNull(event.getMetadata().getName());
    assertEquals(1, core.listNamespacedEvent("default").execute().getItems().size());

    EventsV1Api events = new EventsV1Api(client);
    EventsV1Event e = events.createNamespacedEvent("default", new EventsV1Event()
        .metadata(new V1ObjectMeta().name("e1")).reason("CIDRAssignmentFailed").note("x").type("Warning")
        .eventTime(OffsetDateTime.now()).reportingController("podcidr").reportingInstance("p-1").action("Assign"))
        .execute();
    assertEquals("e1", e.getMetadata().getName());
    assertEquals(1, events.listEventForAllNamespaces().execute().getItems().size());

    List<String> namespaces = core.listNamespace().execute().getItems().stream()
        .map(n -> n.getMetadata().getName()).collect(Collectors.toList());
    assertTrue(namespaces.containsAll(List.of("default", "kube-system")), namespaces.toString());
    V1Namespace ks = core.readNamespace("kube-system").execute();
    assertEquals("Active", ks.getStatus().getPhase());
  }
}
