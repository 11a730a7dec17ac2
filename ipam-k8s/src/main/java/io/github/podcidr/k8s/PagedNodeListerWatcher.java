package io.github.podcidr.k8s;

import io.kubernetes.client.informer.ListerWatcher;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.models.V1ListMeta;
import io.kubernetes.client.openapi.models.V1Node;
import io.kubernetes.client.openapi.models.V1NodeList;
import io.kubernetes.client.util.CallGeneratorParams;
import io.kubernetes.client.util.Watchable;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import okhttp3.Response;
import okhttp3.ResponseBody;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lists Nodes in pages ({@code limit} and {@code continue}) and watches them. The client's own lister does one
 * unpaged LIST, which at 100,000 nodes means one response of gigabytes. Pages and watch events are decoded by
 * {@link SlimNodeCodec} straight from the stream, so the full objects never exist in memory.
 *
 * <p>The reflector asks for resourceVersion "0" on its first list (any version, served from the watch cache in
 * kube-apiserver); a paged list must read a consistent snapshot instead, so "0" is sent as "" (most recent), as
 * client-go's pager does. Kubernetes: "Resource versions" and "Retrieving large results sets in chunks" in the API
 * concepts documentation.
 */
final class PagedNodeListerWatcher implements ListerWatcher<V1Node, V1NodeList> {
    private static final Logger LOG = LoggerFactory.getLogger(PagedNodeListerWatcher.class);

    private final ApiClient client;
    private final CoreV1Api api;
    private final int pageSize;
    private final SlimNodeCodec codec;

    PagedNodeListerWatcher(ApiClient client, int pageSize, SlimNodeCodec codec) {
        this.client = client;
        this.api = new CoreV1Api(client);
        this.pageSize = pageSize;
        this.codec = codec;
    }

    @Override
    public V1NodeList list(CallGeneratorParams params) throws ApiException {
        String resourceVersion = params.resourceVersion == null || "0".equals(params.resourceVersion)
                ? null : params.resourceVersion;
        List<V1Node> items = new ArrayList<>();
        String token = null;
        SlimNodeCodec.Page page;
        int pages = 0;
        do {
            CoreV1Api.APIlistNodeRequest request = api.listNode().limit(pageSize);
            if (token != null) {
                request = request._continue(token); // the token carries the snapshot's resourceVersion
            } else if (resourceVersion != null) {
                request = request.resourceVersion(resourceVersion);
            }
            page = fetch(request.buildCall(null));
            items.addAll(page.items());
            token = page.continueToken();
            pages++;
        } while (token != null && !token.isEmpty());
        LOG.debug("listed {} nodes in {} pages at resourceVersion {}", items.size(), pages, page.resourceVersion());
        return new V1NodeList().apiVersion("v1").kind("NodeList").items(items)
                .metadata(new V1ListMeta().resourceVersion(page.resourceVersion()));
    }

    private SlimNodeCodec.Page fetch(okhttp3.Call call) throws ApiException {
        try (Response response = call.execute()) {
            ResponseBody body = response.body();
            if (!response.isSuccessful()) {
                throw new ApiException(response.message(), response.code(), response.headers().toMultimap(),
                        body == null ? null : body.string());
            }
            if (body == null) {
                throw new ApiException("empty NodeList response");
            }
            return codec.readList(body.charStream());
        } catch (IOException e) {
            throw new ApiException(e);
        }
    }

    @Override
    public Watchable<V1Node> watch(CallGeneratorParams params) throws ApiException {
        okhttp3.Call call = api.listNode()
                .watch(true)
                .allowWatchBookmarks(true)
                .resourceVersion(params.resourceVersion)
                .timeoutSeconds(params.timeoutSeconds)
                .buildCall(null);
        return SlimNodeWatch.open(client, call, codec);
    }
}
