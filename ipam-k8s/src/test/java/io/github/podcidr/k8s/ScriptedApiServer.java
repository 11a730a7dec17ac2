package io.github.podcidr.k8s;

import com.sun.net.httpserver.HttpServer;
import io.kubernetes.client.openapi.ApiClient;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Function;

/**
 * An HTTP server on the loopback address that answers {@code /api/v1/nodes} as a script says, for the answers the
 * simulator does not give (protobuf bodies, a watch cache that is still starting), and records every request's
 * query and Accept header.
 */
final class ScriptedApiServer implements AutoCloseable {
    /** A request as the script sees it. */
    record Request(String query, String accept) {
        boolean watch() {
            return query != null && query.contains("watch=true");
        }

        boolean protobuf() {
            return accept != null && accept.contains(SlimNodeProtobuf.SUBTYPE);
        }
    }

    /** An answer: status code, content type and body. */
    record Answer(int code, String contentType, byte[] body) {
        static Answer json(int code, String body) {
            return new Answer(code, "application/json", body.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
    }

    private final HttpServer server;
    private final ExecutorService executor = Executors.newFixedThreadPool(2);
    private final List<Request> requests = new CopyOnWriteArrayList<>();

    ScriptedApiServer(Function<Request, Answer> script) throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/api/v1/nodes", exchange -> {
            Request request = new Request(exchange.getRequestURI().getRawQuery(),
                    exchange.getRequestHeaders().getFirst("Accept"));
            requests.add(request);
            Answer answer = script.apply(request);
            exchange.getResponseHeaders().set("Content-Type", answer.contentType());
            exchange.sendResponseHeaders(answer.code(), answer.body().length == 0 ? -1 : answer.body().length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(answer.body());
            }
        });
        server.setExecutor(executor);
        server.start();
    }

    /** A client of this server. */
    ApiClient client() {
        ApiClient client = new ApiClient();
        client.setBasePath("http://" + server.getAddress().getHostString() + ":" + server.getAddress().getPort());
        return client;
    }

    /** Every request so far, in order. */
    List<Request> requests() {
        return List.copyOf(requests);
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
