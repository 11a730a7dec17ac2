package io.github.podcidr.k8s;

import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.models.V1Node;
import io.kubernetes.client.util.Watch;
import java.io.IOException;
import okhttp3.Call;
import okhttp3.ResponseBody;

/** The client's {@link Watch} (its stream handling and errors), with node events decoded by {@link SlimNodeCodec}. */
final class SlimNodeWatch extends Watch<V1Node> {
    private final SlimNodeCodec codec;

    private SlimNodeWatch(ApiClient client, ResponseBody body, Call call, SlimNodeCodec codec) {
        super(client.getJSON(), body, V1Node.class, call);
        this.codec = codec;
    }

    /** Opens the watch; a refused request becomes an {@link ApiException} with its code, as the client does. */
    static SlimNodeWatch open(ApiClient client, Call call, SlimNodeCodec codec) throws ApiException {
        try {
            okhttp3.Response response = call.execute(); // not Watch.Response, which this class inherits
            if (!response.isSuccessful()) {
                String body = null;
                try (ResponseBody b = response.body()) {
                    if (b != null) {
                        body = b.string();
                    }
                }
                throw new ApiException(response.message(), response.code(), response.headers().toMultimap(), body);
            }
            return new SlimNodeWatch(client, response.body(), call, codec);
        } catch (IOException e) {
            throw new ApiException(e);
        }
    }

    @Override
    protected Response<V1Node> parseLine(String line) throws IOException {
        return codec.readEvent(line);
    }
}
