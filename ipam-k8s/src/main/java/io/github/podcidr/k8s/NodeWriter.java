package io.github.podcidr.k8s;

import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.models.V1Node;
import io.kubernetes.client.custom.V1Patch;
import io.kubernetes.client.util.PatchUtils;

/** Sends a node's JSON patch. Separate so that dry-run can log instead. */
interface NodeWriter {
    /**
     * Applies a JSON patch to a node.
     *
     * @throws ApiException with the HTTP code (0 for no answer: timeout, connection lost)
     */
    void patch(String node, String jsonPatch) throws ApiException;

    /** The writer that talks to the API server. */
    static NodeWriter of(ApiClient client) {
        CoreV1Api api = new CoreV1Api(client);
        return (node, json) -> PatchUtils.patch(V1Node.class,
                () -> api.patchNode(node, new V1Patch(json)).fieldManager("podcidr-controller").buildCall(null),
                V1Patch.PATCH_FORMAT_JSON_PATCH, client);
    }
}
