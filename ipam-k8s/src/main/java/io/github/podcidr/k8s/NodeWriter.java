package io.github.podcidr.k8s;

import io.kubernetes.client.custom.V1Patch;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import okhttp3.Call;
import okhttp3.Interceptor;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;

/** Sends a node's JSON patch. Separate so that dry-run can log instead. */
interface NodeWriter {
    /** The patch format of every write. */
    MediaType JSON_PATCH = MediaType.get(V1Patch.PATCH_FORMAT_JSON_PATCH);
    /**
     * The answer asked for: protobuf, which kube-apiserver writes for built-in kinds at a fraction of the cost of
     * JSON (the answer to a write is the whole Node, and the server is the bottleneck of a large fill), else JSON.
     */
    String ACCEPT = "application/vnd.kubernetes.protobuf, application/json;q=0.9";
    /** The body the generated call is built with before {@link #of} puts the real patch in its place. */
    V1Patch NO_OPERATIONS = new V1Patch("[]");

    /**
     * Applies a JSON patch to a node.
     *
     * @throws ApiException with the HTTP code (0 for no answer: timeout, connection lost, or not sent because the
     *     write fence closed while the write waited; the outcome of a write is then unknown to the caller)
     */
    void patch(String node, String jsonPatch) throws ApiException;

    /**
     * The writer that talks to the API server. It builds the request with the generated API (path, query,
     * authentication) but sends it itself: the answer, a whole Node of 10 to 20 KB, is not needed, and parsing it
     * into the client's models would cost more than the rest of the write (the change arrives through the watch).
     * It asks for the answer in protobuf ({@link #ACCEPT}): on kube-apiserver 1.20 that alone let the same 2,000
     * writes finish in about a quarter less time (docs/benchmarks.md). A refusal's Status is read from either
     * format and handed on as JSON, so logs and events read the same.
     *
     * <p>The fence bounds when a write is sent and how long the client waits for it. Each write gets a deadline of
     * {@code min(requestTimeout, fence.remaining())} from when it is called, which covers the wait for the
     * client-side rate limit (an interceptor the client factory added before this one) and the whole exchange. Once
     * the rate limit lets it go, the fence is asked again: a closed fence sends nothing, an open one sends the write
     * with the time then left as its connect, read and write timeouts and as the API server's {@code timeout}
     * parameter. The server answers 504 at that timeout, but that does not mean the write was dropped:
     * kube-apiserver 1.20 was seen storing a write after its 504 (its storage call outlives the deadline), and from
     * 1.23 a transaction already sent to etcd still commits. So no byte leaves after the fence closes
     * ({@code leaseDuration - renewDeadline} before a standby may take over), but a write sent before may land later;
     * what bounds the harm of such a late write is the JSON-patch guards and the new leader's design, argued in
     * {@code docs/reliability.md} ("Which writes of an old leader can land, and until when"). Every write is counted in the fence's {@link WriteFence#inFlight()} from before its rate-limit wait
     * until it is answered (any status) or, unanswered, until its deadline: a graceful stop releases the Lease only
     * once none is left.
     *
     * @param client the client for writes (its own interceptors, e.g. a rate limit, run first)
     * @param fence asked before the rate limit wait and after it, and the bound of every write's deadline
     * @param requestTimeout the longest a write may take when the fence allows longer
     * @return the writer
     */
    static NodeWriter of(ApiClient client, WriteFence fence, Duration requestTimeout) {
        CoreV1Api api = new CoreV1Api(client);
        OkHttpClient http = client.getHttpClient().newBuilder()
                .addInterceptor(new FenceDeadline(fence, requestTimeout)).build();
        return (node, json) -> {
            Duration budget = FenceDeadline.budget(fence, requestTimeout);
            if (budget.isZero()) {
                throw FenceDeadline.closed(node);
            }
            // the generated call gives the path, query and authentication; its body is replaced, so it is built
            // from an empty patch (the client would parse and re-write the real one as a JSON tree)
            Request built = api.patchNode(node, NO_OPERATIONS).fieldManager("podcidr-controller")
                    .buildCall(null).request();
            Request request = built.newBuilder().patch(RequestBody.create(json, JSON_PATCH))
                    .header("Accept", ACCEPT).build();
            Call call = http.newCall(request);
            call.timeout().timeout(budget.toNanos(), TimeUnit.NANOSECONDS);
            InFlightWrites.Write inFlight = fence.inFlight().begin(budget);
            try (Response response = call.execute()) {
                inFlight.answered();
                if (!response.isSuccessful()) {
                    throw new ApiException(response.message(), response.code(), response.headers().toMultimap(),
                            StatusBody.text(client, response.body()));
                }
            } catch (FenceDeadline.ClosedException e) {
                inFlight.notSent();
                throw FenceDeadline.closed(node);
            } catch (IOException e) {
                // code 0: no answer, the write may or may not have happened; it stays in flight until its deadline
                throw new ApiException(e);
            }
        };
    }

    /** Checks the fence again after the rate limit and gives the request the time then left. */
    final class FenceDeadline implements Interceptor {
        /** Below this there is no point in sending: the request could not even reach the server. */
        private static final Duration MIN_SEND = Duration.ofMillis(1);

        private final WriteFence fence;
        private final Duration requestTimeout;

        FenceDeadline(WriteFence fence, Duration requestTimeout) {
            this.fence = fence;
            this.requestTimeout = requestTimeout;
        }

        /** {@code min(requestTimeout, fence.remaining())}, or zero when too little is left to send. */
        static Duration budget(WriteFence fence, Duration requestTimeout) {
            Duration left = fence.remaining();
            Duration budget = left.compareTo(requestTimeout) < 0 ? left : requestTimeout;
            return budget.compareTo(MIN_SEND) < 0 ? Duration.ZERO : budget;
        }

        static ApiException closed(String node) {
            return new ApiException("write to node " + node + " not sent: this replica's write fence closed (it no"
                    + " longer holds a fresh Lease)");
        }

        @Override
        public Response intercept(Chain chain) throws IOException {
            Duration budget = budget(fence, requestTimeout);
            if (budget.isZero()) {
                throw new ClosedException();
            }
            int millis = (int) Math.max(1, budget.toMillis());
            Request r = chain.request();
            Request bounded = r.newBuilder()
                    .url(r.url().newBuilder().setQueryParameter("timeout", millis + "ms").build()).build();
            return chain.withConnectTimeout(millis, TimeUnit.MILLISECONDS)
                    .withReadTimeout(millis, TimeUnit.MILLISECONDS)
                    .withWriteTimeout(millis, TimeUnit.MILLISECONDS)
                    .proceed(bounded);
        }

        /** The fence closed while the write waited for the rate limit: nothing was sent. */
        static final class ClosedException extends IOException {
            private static final long serialVersionUID = 1L;

            ClosedException() {
                super("write fence closed before the request was sent");
            }
        }
    }
}
