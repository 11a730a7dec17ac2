package io.github.podcidr.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.models.V1NodeList;
import io.kubernetes.client.util.CallGeneratorParams;
import io.kubernetes.client.util.Config;
import java.io.StringReader;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Lists at scale (issue 13, item 7; issue 17: the first list from the watch cache), on the simulator, which answers list resourceVersion semantics as
 * kube-apiserver 1.20 does ({@code ListWatchConformanceRealIT}): a resourceVersion without a limit is served from the
 * watch cache in one response, with a limit it pages that revision out of etcd.
 */
class RelistTest {
    private static final int NODES = 2_000;
    private static final int PAGE = 500;

    private final SimFixture f = new SimFixture();

    @AfterEach
    void tearDown() {
        f.close();
    }

    private PagedNodeListerWatcher lister() throws Exception {
        ApiClient client = Config.fromConfig(new StringReader(f.sim.kubeconfig()));
        return new PagedNodeListerWatcher(client, PAGE, new SlimNodeCodec(Set.of()));
    }

    private long lists() {
        return f.sim.requests().count("list", "nodes");
    }

    @Test
    void aRelistAtTheLastResourceVersionIsOneRequestToTheWatchCache() throws Exception {
        f.createNodes("n", NODES);
        PagedNodeListerWatcher lister = lister();
        V1NodeList first = lister.list(new CallGeneratorParams(false, "0", null));
        assertEquals(NODES, first.getItems().size());
        assertEquals(2, lists(), "the first list: one node from etcd for the current revision, then the watch cache");

        f.createNode("late");
        long before = lists();
        V1NodeList relist = lister.list(new CallGeneratorParams(false, first.getMetadata().getResourceVersion(),
                null));
        assertEquals(1, lists() - before, "one request, not " + NODES / PAGE + " pages from etcd");
        assertEquals(NODES + 1, relist.getItems().size(), "not older than the version asked: the new node is in");
    }

    @Test
    void aResourceVersionTheServerCannotServeFallsBackToAConsistentList() throws Exception {
        f.createNodes("n", NODES);
        PagedNodeListerWatcher lister = lister();
        long before = lists();
        String ahead = Long.toString(f.sim.resourceVersion() + 1_000); // 504 "Too large resource version"
        V1NodeList list = lister.list(new CallGeneratorParams(false, ahead, null));
        assertEquals(NODES, list.getItems().size());
        assertEquals(1 + NODES / PAGE, lists() - before, "the refused request, then the pages");
    }

    @Test
    void aFailedPageIsAskedAgainNotTheWholeList() throws Exception {
        f.createNodes("n", NODES);
        PagedNodeListerWatcher lister = lister();
        lister.list(new CallGeneratorParams(false, "0", null)); // warm up
        long before = lists();
        f.sim.faults().failNext("list", "nodes", 1, 503); // the first page, once
        V1NodeList list = lister.consistentList(null);
        assertEquals(NODES, list.getItems().size());
        assertEquals(NODES / PAGE + 1, lists() - before, "one page asked twice");
    }

    @Test
    void aListAfterTheVersionWasGoneIsFreshAndSurvivesAFailedRequest() throws Exception {
        f.createNodes("n", NODES);
        PagedNodeListerWatcher lister = lister();
        long before = lists();
        f.sim.faults().failNext("list", "nodes", 1, 503); // the request for the current revision, once
        V1NodeList list = lister.list(new CallGeneratorParams(false, "", null));
        assertEquals(NODES, list.getItems().size());
        assertEquals(3, lists() - before, "the revision asked twice, then one answer from the watch cache");
        assertEquals(Long.toString(f.sim.resourceVersion()), list.getMetadata().getResourceVersion());
    }

    @Test
    void aClusterSmallerThanAPageIsReadOnInTheSameSnapshot() throws Exception {
        f.createNodes("n", PAGE - 1);
        V1NodeList list = lister().list(new CallGeneratorParams(false, "0", null));
        assertEquals(PAGE - 1, list.getItems().size());
        assertEquals(PAGE - 1, list.getItems().stream().map(n -> n.getMetadata().getName()).distinct().count());
        assertEquals(2, lists(), "one node, then the rest in one page");
    }

    @Test
    void aClusterOfOneNodeIsListedInOneRequest() throws Exception {
        f.createNodes("n", 1);
        V1NodeList list = lister().list(new CallGeneratorParams(false, "0", null));
        assertEquals(1, list.getItems().size());
        assertEquals(1, lists());
    }
}
