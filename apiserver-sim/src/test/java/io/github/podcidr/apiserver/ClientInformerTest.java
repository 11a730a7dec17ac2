package io.github.podcidr.apiserver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kubernetes.client.custom.V1Patch;
import io.kubernetes.client.informer.ResourceEventHandler;
import io.kubernetes.client.informer.SharedIndexInformer;
import io.kubernetes.client.informer.SharedInformerFactory;
import io.kubernetes.client.informer.cache.Lister;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.models.V1Lease;
import io.kubernetes.client.openapi.models.V1LeaseList;
import io.kubernetes.client.openapi.models.V1Node;
import io.kubernetes.client.openapi.models.V1NodeList;
import io.kubernetes.client.util.PatchUtils;
import io.kubernetes.client.util.generic.GenericKubernetesApi;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A SharedInformerFactory node informer: initial sync, updates, re-watch after a dropped watch, relist after 410. */
class ClientInformerTest {
  private ApiServerSim sim;
  private ApiClient client;
  private CoreV1Api api;
  private SharedInformerFactory factory;

  @BeforeEach
  void start() {
    sim = ApiServerSim.builder().historyCapacity(50).start();
    client = Clients.client(sim);
    api = new CoreV1Api(client);
    client.setReadTimeout(0); // informers require it: watches are long-lived
    factory = new SharedInformerFactory(client);
  }

  @AfterEach
  void stop() {
    factory.stopAllRegisteredInformers();
    sim.close();
  }

  @Test
  void informerOnGenericKubernetesApiSyncsLeases() throws Exception {
    for (int i = 0; i < 3; i++) {
      ObjectNode lease = Json.object();
      lease.putObject("metadata").put("name", "l" + i).put("namespace", i == 0 ? "default" : "kube-system");
      sim.create(ResourceType.LEASES, lease);
    }
    SharedIndexInformer<V1Lease> informer = factory.sharedIndexInformerFor(
        new GenericKubernetesApi<>(V1Lease.class,
            V1LeaseList.class, "coordination.k8s.io", "v1", "leases", client),
        V1Lease.class, 0);
    factory.startAllRegisteredInformers();
    Clients.await("lease informer synced", informer::hasSynced);
    assertEquals(3, informer.getIndexer().list().size());
    sim.delete(ResourceType.LEASES, "kube-system", "l1");
    Clients.await("lease deletion seen", () -> informer.getIndexer().list().size() == 2);
  }

  @Test
  void informerSyncsAndFollowsChangesAcrossDroppedAndExpiredWatches() throws Exception {
    new NodeGenerator(11).populate(sim, 30, 5);
    SharedIndexInformer<V1Node> informer = factory.sharedIndexInformerFor(
        params -> api.listNode().resourceVersion(params.resourceVersion).watch(params.watch)
            .timeoutSeconds(params.timeoutSeconds).allowWatchBookmarks(true).buildCall(null),
        V1Node.class, V1NodeList.class);
    Set<String> updated = ConcurrentHashMap.newKeySet();
    Set<String> deleted = ConcurrentHashMap.newKeySet();
    informer.addEventHandler(new ResourceEventHandler<>() {
      @Override
      public void onAdd(V1Node obj) {}

      @Override
      public void onUpdate(V1Node oldObj, V1Node newObj) {
        if (newObj.getSpec().getPodCIDR() != null) {
          updated.add(newObj.getMetadata().getName());
        }
      }

      @Override
      public void onDelete(V1Node obj, boolean deletedFinalStateUnknown) {
        deleted.add(obj.getMetadata().getName());
      }
    });
    factory.startAllRegisteredInformers();
    Clients.await("informer synced", informer::hasSynced);
    Lister<V1Node> lister = new Lister<>(informer.getIndexer());
    assertEquals(30, lister.list().size());
    Clients.await("watch open", () -> sim.openWatches() == 1);

    String n0 = NodeGenerator.name(0);
    PatchUtils.patch(V1Node.class, () -> api.patchNode(n0, new V1Patch("{\"spec\":{\"podCIDR\":\"10.244.0.0/24\"}}"))
        .buildCall(null), V1Patch.PATCH_FORMAT_STRATEGIC_MERGE_PATCH, client);
    Clients.await("update seen", () -> updated.contains(n0));

    sim.faults().dropWatchesNow();
    sim.deleteNode(NodeGenerator.name(1));
    Clients.await("delete seen after re-watch", () -> deleted.contains(NodeGenerator.name(1)));

    // Expire the history while the informer is not watching: its next watch gets 410 and it relists.
    sim.compactHistory();
    sim.faults().expireNextWatches(1);
    sim.faults().dropWatchesNow();
    sim.deleteNode(NodeGenerator.name(2));
    Clients.await("relisted after 410", () -> lister.get(NodeGenerator.name(2)) == null);
    assertEquals(28, lister.list().size());
    assertTrue(sim.requests().count("list", "nodes") >= 2, sim.requests().toString());
  }
}
