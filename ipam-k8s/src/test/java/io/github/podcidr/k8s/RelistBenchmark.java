package io.github.podcidr.k8s;

import io.github.podcidr.apiserver.ApiServerSim;
import io.github.podcidr.apiserver.NodeGenerator;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.models.V1NodeList;
import io.kubernetes.client.util.CallGeneratorParams;
import io.kubernetes.client.util.Config;
import java.io.StringReader;
import java.util.Set;

/**
 * Requests and time of one relist of a large cluster on the simulator, as relists were made before issue 13 (the
 * last resourceVersion with a limit: that revision paged out of etcd) and as they are made now (the last
 * resourceVersion without a limit: one answer from the watch cache). Not a test: a figure for
 * {@code docs/reliability.md}. Run (130,000 nodes need about 3 GB of heap for the simulator):
 * <pre>
 * mvn -B -o -q -pl ipam-k8s -am test-compile
 * java -Xmx6g -cp "ipam-k8s/target/test-classes:ipam-k8s/target/classes:$(cat cp.txt)" \
 *     io.github.podcidr.k8s.RelistBenchmark 130000
 * </pre>
 */
public final class RelistBenchmark {
    private RelistBenchmark() {
    }

    /**
     * Runs the measurement.
     *
     * @param args the node count (default 130,000)
     * @throws Exception on any failure
     */
    public static void main(String[] args) throws Exception {
        int nodes = args.length > 0 ? Integer.parseInt(args[0]) : 130_000;
        try (ApiServerSim sim = ApiServerSim.start()) {
            NodeGenerator gen = new NodeGenerator(20261202);
            for (int i = 0; i < nodes; i++) {
                sim.createNode(gen.node(i, i % 4 == 0));
            }
            ApiClient client = Config.fromConfig(new StringReader(sim.kubeconfig()));
            client.setReadTimeout(0);
            PagedNodeListerWatcher lister = new PagedNodeListerWatcher(client,
                    ControllerSettings.DEFAULT_LIST_PAGE_SIZE, new SlimNodeCodec(Set.of()));
            V1NodeList first = lister.list(new CallGeneratorParams(false, "0", null));
            String rv = first.getMetadata().getResourceVersion();
            System.out.printf("first consistent list: %d nodes%n", first.getItems().size());
            for (int round = 1; round <= 3; round++) {
                long requests = sim.requests().count("list", "nodes");
                long t0 = System.nanoTime();
                int got = lister.consistentList(rv).getItems().size();
                System.out.printf("round %d before (resourceVersion %s, limit 500): %d nodes, %d requests, %.2f s%n",
                        round, rv, got, sim.requests().count("list", "nodes") - requests,
                        (System.nanoTime() - t0) / 1e9);
                requests = sim.requests().count("list", "nodes");
                t0 = System.nanoTime();
                got = lister.list(new CallGeneratorParams(false, rv, null)).getItems().size();
                System.out.printf("round %d after (resourceVersion %s, no limit): %d nodes, %d requests, %.2f s%n",
                        round, rv, got, sim.requests().count("list", "nodes") - requests,
                        (System.nanoTime() - t0) / 1e9);
            }
        }
    }
}
