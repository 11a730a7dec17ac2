package io.github.podcidr.k8s;

import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.models.V1Node;
import java.util.List;
import java.util.Optional;

/**
 * Reads one node's pod CIDRs from the API server itself (a quorum read, not the informer's cache). Used only when the
 * cache cannot settle a question: before freeing a subnet held for a node whose write had no answer.
 */
interface NodeReader {
    /**
     * Returns the node's pod CIDR texts as stored now.
     *
     * @param node the node name
     * @return the texts ({@code spec.podCIDRs}, or {@code spec.podCIDR} alone; empty if it has none), or empty if the
     *     node does not exist
     * @throws ApiException if the API server did not answer with the node or a 404
     */
    Optional<List<String>> podCidrs(String node) throws ApiException;

    /** The reader that asks the API server. */
    static NodeReader of(ApiClient client) {
        CoreV1Api api = new CoreV1Api(client);
        return node -> {
            V1Node found;
            try {
                found = api.readNode(node).execute();
            } catch (ApiException e) {
                if (e.getCode() == 404) {
                    return Optional.empty();
                }
                throw e;
            }
            return Optional.of(NodeDecision.podCidrsOf(found));
        };
    }
}
