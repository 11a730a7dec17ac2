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
 * Lists Nodes and watches them, as client-go's reflector does at scale. The client's own lister does one unpaged
 * LIST, which at 100,000 nodes means one response of gigabytes read from etcd. Lists and watches ask for protobuf
 * ({@link SlimNodeCodec#ACCEPT}); pages and watch events are decoded straight from the stream, protobuf by
 * {@link SlimNodeProtobuf} and JSON (from a server that does not write protobuf) by {@link SlimNodeCodec}, so the
 * full objects never exist in memory.
 *
 * <p>Which LIST, by the resourceVersion the reflector asks for (Kubernetes: "Resource versions" and "Retrieving
 * large results sets in chunks" in the API concepts documentation):
 * <ul>
 *   <li>the first list ({@code "0"}) and a list after the last version was reported gone ({@code ""}) must hold
 *       every write made before it (a leader restores its state from it): a one-node page from etcd gives the
 *       current revision, and the list at that revision is served from the watch cache in one response (a small
 *       cluster's, or one the cache cannot serve, is read on from etcd in pages of {@code pageSize},
 *       {@code limit} and {@code continue}, as client-go's pager does; see {@link #freshList()});</li>
 *   <li>a relist after a watch error carries the last resourceVersion seen, and is sent without a limit: kube-apiserver
 *       then answers from its watch cache (any state not older than that version) in one response, without reading
 *       etcd. With a limit it would page that exact past revision out of etcd, which is what made every relist of a
 *       large cluster cost hundreds of etcd reads. If the server answers 410 Gone, or 504 "Too large resource
 *       version" (a cache behind that version), the list falls back to a consistent paged list at once, as the
 *       reflector would on its next try.</li>
 * </ul>
 *
 * <p>A page that fails for a passing reason (no answer, 429, 5xx) is asked again with the same continue token after
 * a backoff (100 ms doubling, {@value #PAGE_ATTEMPTS} tries), instead of failing the whole list: the reflector would
 * start again from page 1 a second later, and a large cluster under load might then never finish a list. An expired
 * token (410) restarts from page 1 once. The one exception is the first list's request to the watch cache: a 429 there
 * is a cache still starting, and the list goes on in pages from etcd at once ({@link #freshList()}).
 *
 * <p>The last LIST failure is kept ({@link #lastError()}), so that a leader whose cache never syncs can say why.
 *
 * <p>A protobuf answer that cannot be decoded is a failed request like the others; when they repeat, lists and watches
 * ask for JSON from then on ({@link ProtobufFallback}, {@link #protobufFallenBack()}).
 */
final class PagedNodeListerWatcher implements ListerWatcher<V1Node, V1NodeList> {
    private static final Logger LOG = LoggerFactory.getLogger(PagedNodeListerWatcher.class);
    /** Tries of one page before the list fails. */
    static final int PAGE_ATTEMPTS = 6;
    private static final long FIRST_BACKOFF_MILLIS = 100;

    private final ApiClient client;
    private final CoreV1Api api;
    private final int pageSize;
    private final SlimNodeCodec codec;
    private final ProtobufFallback fallback;
    private final WatchDelivery delivery;
    private volatile ApiException lastError;

    PagedNodeListerWatcher(ApiClient client, int pageSize, SlimNodeCodec codec) {
        this(client, pageSize, codec, ControllerMetrics.NONE);
    }

    /** A lister that reports its fall back from protobuf to JSON to {@code metrics}. */
    PagedNodeListerWatcher(ApiClient client, int pageSize, SlimNodeCodec codec, ControllerMetrics metrics) {
        this(client, pageSize, codec, metrics, new WatchDelivery(ControllerMetrics.NONE));
    }

    /** A lister that also stamps each watch event as it is decoded, for {@code delivery}'s timing. */
    PagedNodeListerWatcher(ApiClient client, int pageSize, SlimNodeCodec codec, ControllerMetrics metrics,
                           WatchDelivery delivery) {
        this.client = client;
        this.api = new CoreV1Api(client);
        this.pageSize = pageSize;
        this.codec = codec;
        this.fallback = new ProtobufFallback(metrics);
        this.delivery = delivery;
    }

    /**
     * Whether lists and watches ask for JSON only, because protobuf answers failed to decode
     * {@value ProtobufFallback#FAILURES_IN_A_ROW} times in a row; it stays so until the process restarts.
     *
     * @return true once fallen back to JSON
     */
    public boolean protobufFallenBack() {
        return fallback.fallenBack();
    }

    /**
     * Protobuf answers (list pages and watch events) that could not be decoded since the start.
     *
     * @return how many
     */
    public long protobufDecodeFailures() {
        return fallback.failures();
    }

    /** The last failure of a LIST (after its retries), or null if none failed. */
    ApiException lastError() {
        return lastError;
    }

    @Override
    public V1NodeList list(CallGeneratorParams params) throws ApiException {
        String rv = params.resourceVersion;
        try {
            if (rv == null || rv.isEmpty() || "0".equals(rv)) {
                return freshList();
            }
            return cachedList(rv);
        } catch (ApiException e) {
            lastError = e;
            throw e;
        }
    }

    /**
     * A list not older than this moment. A one-node page read from etcd ({@code limit=1}, no resourceVersion) gives
     * etcd's current revision and, in {@code remainingItemCount}, the cluster's size:
     * <ul>
     *   <li>at most one node: that page is the list;</li>
     *   <li>fewer than {@code pageSize} more: the rest of the same snapshot in one more page from etcd;</li>
     *   <li>more: the list at that revision without a limit, which kube-apiserver answers from its watch cache once
     *       the cache has caught up with it, in one response, without reading every node out of etcd (Kubernetes
     *       1.31 serves consistent lists from the cache the same way). A cache that has not reached that revision
     *       within 3 s answers 504 "Too large resource version": in 1.20 a node cache moves only with node events, so
     *       a cluster whose nodes have not changed since other objects did gets that answer. From Kubernetes 1.31 a
     *       watch cache that is still starting answers 429 instead of waiting (it serves nothing until it has read
     *       every node), and asking again would only wait for it: both answers send the list on at once, in pages
     *       after the first one, in the same snapshot, read from etcd.</li>
     * </ul>
     * Every way holds every write made before the first request, as a consistent list does.
     */
    private V1NodeList freshList() throws ApiException {
        SlimNodeCodec.Page head = fetchWithRetries(api.listNode().limit(1));
        if (head.continueToken() == null || head.continueToken().isEmpty()) {
            return nodeList(head.items(), head.resourceVersion());
        }
        Long remaining = head.remainingItemCount();
        if (remaining != null && remaining < pageSize) {
            return paged(null, head);
        }
        try {
            SlimNodeCodec.Page page = fetchWithRetries(api.listNode().resourceVersion(head.resourceVersion()), false);
            LOG.debug("listed {} nodes from the watch cache at resourceVersion {} (asked {})", page.items().size(),
                    page.resourceVersion(), head.resourceVersion());
            return nodeList(page.items(), page.resourceVersion());
        } catch (ApiException e) {
            if (!tooLarge(e) && e.getCode() != 429) {
                throw e;
            }
            LOG.info("the watch cache {} resourceVersion {} (HTTP {}); listing the rest of that snapshot from etcd in"
                    + " pages", e.getCode() == 429 ? "is still starting, it cannot serve" : "has not reached",
                    head.resourceVersion(), e.getCode());
            return paged(null, head);
        }
    }

    /** A relist from the watch cache, not older than {@code resourceVersion}; a consistent list if it is gone. */
    private V1NodeList cachedList(String resourceVersion) throws ApiException {
        try {
            SlimNodeCodec.Page page = fetchWithRetries(api.listNode().resourceVersion(resourceVersion));
            LOG.debug("relisted {} nodes from the watch cache at resourceVersion {} (asked {})", page.items().size(),
                    page.resourceVersion(), resourceVersion);
            return nodeList(page.items(), page.resourceVersion());
        } catch (ApiException e) {
            if (e.getCode() == 410 || tooLarge(e)) {
                LOG.info("resourceVersion {} unavailable for a relist (HTTP {}); listing a consistent snapshot",
                        resourceVersion, e.getCode());
                return consistentList(null);
            }
            throw e;
        }
    }

    /**
     * A list in pages. With {@code resourceVersion} null, a consistent snapshot of now; otherwise the snapshot at
     * that exact revision, read from etcd (only the before/after figures of relists in {@code docs/reliability.md}
     * use that form: it is how relists were made before).
     */
    V1NodeList consistentList(String resourceVersion) throws ApiException {
        return paged(resourceVersion, null);
    }

    /** {@link #consistentList}, or with {@code first} the pages after that one, in its snapshot. */
    private V1NodeList paged(String resourceVersion, SlimNodeCodec.Page first) throws ApiException {
        List<V1Node> items = new ArrayList<>();
        String token = null;
        SlimNodeCodec.Page page = null;
        int pages = 0;
        boolean restarted = false;
        if (first != null) {
            items.addAll(first.items());
            token = first.continueToken();
            page = first;
            pages = 1;
        }
        do {
            CoreV1Api.APIlistNodeRequest request = api.listNode().limit(pageSize);
            if (token != null) {
                request = request._continue(token); // the token carries the snapshot's resourceVersion
            } else if (resourceVersion != null) {
                request = request.resourceVersion(resourceVersion);
            }
            try {
                page = fetchWithRetries(request);
            } catch (ApiException e) {
                if (e.getCode() != 410 || token == null || restarted) {
                    throw e;
                }
                LOG.info("continue token expired after {} pages; listing again from the first page", pages);
                restarted = true;
                items.clear();
                token = null;
                pages = 0;
                continue;
            }
            items.addAll(page.items());
            token = page.continueToken();
            pages++;
        } while (token != null && !token.isEmpty());
        LOG.debug("listed {} nodes in {} pages at resourceVersion {}", items.size(), pages, page.resourceVersion());
        return nodeList(items, page.resourceVersion());
    }

    private static V1NodeList nodeList(List<V1Node> items, String resourceVersion) {
        return new V1NodeList().apiVersion("v1").kind("NodeList").items(items)
                .metadata(new V1ListMeta().resourceVersion(resourceVersion));
    }

    /** One request, asked again after a backoff when it fails for a passing reason. */
    private SlimNodeCodec.Page fetchWithRetries(CoreV1Api.APIlistNodeRequest request) throws ApiException {
        return fetchWithRetries(request, true);
    }

    /**
     * One request, asked again after a backoff when it fails for a passing reason; a 429 only when
     * {@code retryTooMany} (the first list from the watch cache has a better way on than waiting for it).
     */
    private SlimNodeCodec.Page fetchWithRetries(CoreV1Api.APIlistNodeRequest request, boolean retryTooMany)
            throws ApiException {
        long backoff = FIRST_BACKOFF_MILLIS;
        for (int attempt = 1; ; attempt++) {
            try {
                return fetch(client.getHttpClient().newCall(request.buildCall(null).request().newBuilder()
                        .header("Accept", fallback.accept()).build()));
            } catch (ApiException e) {
                if (!passing(e) || (e.getCode() == 429 && !retryTooMany) || attempt == PAGE_ATTEMPTS) {
                    throw e;
                }
                lastError = e;
                LOG.info("node LIST page failed (HTTP {}), asking again in {} ms, try {} of {}", e.getCode(),
                        backoff, attempt + 1, PAGE_ATTEMPTS);
                try {
                    Thread.sleep(backoff);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
                backoff = Math.min(backoff * 2, 5_000);
            }
        }
    }

    /** No answer, 429 or a 5xx other than "too large resource version": worth asking again. */
    private static boolean passing(ApiException e) {
        int code = e.getCode();
        if (tooLarge(e)) {
            return false;
        }
        return code == 0 || code == 429 || code >= 500;
    }

    /** 504 "Too large resource version": the watch cache has not reached the version asked for. */
    private static boolean tooLarge(ApiException e) {
        return e.getCode() == 504 && String.valueOf(e.getResponseBody()).contains("ResourceVersionTooLarge");
    }

    private SlimNodeCodec.Page fetch(okhttp3.Call call) throws ApiException {
        try (Response response = call.execute()) {
            ResponseBody body = response.body();
            if (!response.isSuccessful()) {
                throw new ApiException(response.message(), response.code(), response.headers().toMultimap(),
                        StatusBody.text(client, body));
            }
            if (body == null) {
                throw new ApiException("empty NodeList response");
            }
            SlimNodeCodec.Page page = codec.readList(body);
            if (SlimNodeCodec.isProtobuf(body.contentType())) {
                fallback.decoded();
            }
            return page;
        } catch (ProtobufDecodeException e) {
            fallback.failed(e);
            throw new ApiException(e); // asked again as a passing failure, in JSON once they repeat
        } catch (IOException e) {
            throw new ApiException(e);
        }
    }

    @Override
    public Watchable<V1Node> watch(CallGeneratorParams params) throws ApiException {
        okhttp3.Request request = api.listNode()
                .watch(true)
                .allowWatchBookmarks(true)
                .resourceVersion(params.resourceVersion)
                .timeoutSeconds(params.timeoutSeconds)
                .buildCall(null).request();
        okhttp3.Call call = client.getHttpClient().newCall(request.newBuilder()
                .header("Accept", fallback.accept()).build());
        return SlimNodeWatch.open(client, call, codec, fallback, delivery);
    }
}
