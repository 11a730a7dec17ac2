package io.github.podcidr.k8s;

import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.models.V1Node;
import io.kubernetes.client.util.Watch;
import io.kubernetes.client.util.Watchable;
import java.io.IOException;
import java.util.Iterator;
import okhttp3.Call;
import okhttp3.ResponseBody;

/**
 * The client's {@link Watch} (its stream handling and errors), with node events decoded by {@link SlimNodeCodec}; or,
 * when the server answers the watch in protobuf, {@link Framed}, which reads its length-prefixed frames.
 */
final class SlimNodeWatch extends Watch<V1Node> {
    private final SlimNodeCodec codec;
    private final WatchDelivery delivery;

    private SlimNodeWatch(ApiClient client, ResponseBody body, Call call, SlimNodeCodec codec,
                          WatchDelivery delivery) {
        super(client.getJSON(), body, V1Node.class, call);
        this.codec = codec;
        this.delivery = delivery;
    }

    /**
     * Opens the watch; a refused request becomes an {@link ApiException} with its code, as the client does. The
     * answer's content type chooses the reader.
     */
    static Watchable<V1Node> open(ApiClient client, Call call, SlimNodeCodec codec) throws ApiException {
        return open(client, call, codec, new ProtobufFallback(ControllerMetrics.NONE));
    }

    /** {@link #open(ApiClient, Call, SlimNodeCodec)}, reporting protobuf events read or unreadable to {@code fallback}. */
    static Watchable<V1Node> open(ApiClient client, Call call, SlimNodeCodec codec, ProtobufFallback fallback)
            throws ApiException {
        return open(client, call, codec, fallback, new WatchDelivery(ControllerMetrics.NONE));
    }

    /** {@link #open(ApiClient, Call, SlimNodeCodec, ProtobufFallback)}, stamping each event for {@code delivery}. */
    static Watchable<V1Node> open(ApiClient client, Call call, SlimNodeCodec codec, ProtobufFallback fallback,
                                  WatchDelivery delivery) throws ApiException {
        try {
            okhttp3.Response response = call.execute(); // not Watch.Response, which this class inherits
            if (!response.isSuccessful()) {
                String body;
                try (ResponseBody b = response.body()) {
                    body = StatusBody.text(client, b);
                }
                throw new ApiException(response.message(), response.code(), response.headers().toMultimap(), body);
            }
            ResponseBody body = response.body();
            if (body != null && SlimNodeCodec.isProtobuf(body.contentType())) {
                return new Framed(body, call, codec.protobuf(), fallback, delivery);
            }
            return new SlimNodeWatch(client, body, call, codec, delivery);
        } catch (IOException e) {
            throw new ApiException(e);
        }
    }

    @Override
    protected Response<V1Node> parseLine(String line) throws IOException {
        return stamped(codec.readEvent(line), delivery);
    }

    /** Stamps an event that the informer hands on (not a bookmark nor an error) and returns it. */
    private static Response<V1Node> stamped(Response<V1Node> event, WatchDelivery delivery) {
        if (event != null && event.object != null && !"BOOKMARK".equals(event.type)
                && !"ERROR".equals(event.type)) {
            delivery.read(event.object);
        }
        return event;
    }

    /**
     * A protobuf watch stream: frames of a 4-byte length and a WatchEvent. Fails the way the client's JSON watch
     * does (a {@link RuntimeException} around the I/O error), which the informer's reflector expects.
     */
    static final class Framed implements Watchable<V1Node> {
        private final ResponseBody body;
        private final Call call;
        private final SlimNodeProtobuf protobuf;
        private final ProtobufFallback fallback;
        private final WatchDelivery delivery;

        Framed(ResponseBody body, Call call, SlimNodeProtobuf protobuf, ProtobufFallback fallback,
               WatchDelivery delivery) {
            this.body = body;
            this.call = call;
            this.protobuf = protobuf;
            this.fallback = fallback;
            this.delivery = delivery;
        }

        @Override
        public boolean hasNext() {
            try {
                return !body.source().exhausted();
            } catch (IOException e) {
                throw new RuntimeException("IO Exception during hasNext method.", e);
            }
        }

        @Override
        public Response<V1Node> next() {
            try {
                Response<V1Node> event = protobuf.readEvent(SlimNodeProtobuf.readFrame(body.source()));
                fallback.decoded();
                return stamped(event, delivery);
            } catch (ProtobufDecodeException e) {
                fallback.failed(e);
                throw new RuntimeException("IO Exception during next method.", e);
            } catch (IOException e) {
                throw new RuntimeException("IO Exception during next method.", e);
            }
        }

        @Override
        public Iterator<Response<V1Node>> iterator() {
            return this;
        }

        @Override
        public void close() throws IOException {
            call.cancel();
            body.close();
        }
    }
}
