package io.github.podcidr.k8s;

import io.kubernetes.client.custom.V1Patch;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import java.io.IOException;
import okhttp3.MediaType;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okhttp3.ResponseBody;

/** Sends a node's JSON patch. Separate so that dry-run can log instead. */
interface NodeWriter {
    /** The patch format of every write. */
    MediaType JSON_PATCH = MediaType.get(V1Patch.PATCH_FORMAT_JSON_PATCH);

    /**
     * Applies a JSON patch to a node.
     *
     * @throws ApiException with the HTTP code (0 for no answer: timeout, connection lost)
     */
    void patch(String node, String jsonPatch) throws ApiException;

    /**
     * The writer that talks to the API server. It builds the request with the generated API (path, query,
     * authentication) but sends it itself: the answer, a whole Node of 10 to 20 KB, is not needed, and parsing it
     * into the client's models would cost more than the rest of the write (the change arrives through the watch).
     */
    static NodeWriter of(ApiClient client) {
        CoreV1Api api = new CoreV1Api(client);
        return (node, json) -> {
            Request built = api.patchNode(node, new V1Patch(json)).fieldManager("podcidr-controller")
                    .buildCall(null).request();
            Request request = built.newBuilder().patch(RequestBody.create(json, JSON_PATCH)).build();
            try (Response response = client.getHttpClient().newCall(request).execute()) {
                if (!response.isSuccessful()) {
                    ResponseBody body = response.body();
                    throw new ApiException(response.message(), response.code(), response.headers().toMultimap(),
                            body == null ? null : body.string());
                }
            } catch (IOException e) {
                throw new ApiException(e); // code 0: no answer, the write may or may not have happened
            }
        };
    }
}
