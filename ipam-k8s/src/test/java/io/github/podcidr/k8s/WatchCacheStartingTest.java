package io.github.podcidr.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.kubernetes.client.openapi.models.V1NodeList;
import io.kubernetes.client.util.CallGeneratorParams;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The first list while the watch cache is still starting (issue 26, item 9). From Kubernetes 1.31 such a cache answers
 * 429 to a list it would serve ({@code resourceVersion} without a limit) instead of waiting; the list then goes on in
 * pages read from etcd, in the snapshot of its first one-node page, as after a 504, instead of asking the cache again
 * until the tries run out. The simulator answers as 1.20 does, so a scripted loopback server plays the 1.31 cache:
 * pages from etcd ({@code limit}, {@code continue}) are served, a list from the cache is 429.
 */
class WatchCacheStartingTest {
    private static final int NODES = 1_200;
    private static final int PAGE = 500;
    private static final String RV = "100";
    private static final String STARTING = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":"
            + "\"Failure\",\"message\":\"storage is (re)initializing\",\"reason\":\"TooManyRequests\",\"details\":"
            + "{\"retryAfterSeconds\":1},\"code\":429}";

    private ScriptedApiServer server;

    @AfterEach
    void tearDown() {
        server.close();
    }

    @Test
    void aCacheThatIsStillStartingSendsTheFirstListToPagesFromEtcd() throws Exception {
        AtomicInteger heads = new AtomicInteger();
        server = new ScriptedApiServer(r -> {
            Map<String, String> q = query(r.query());
            if (!q.containsKey("limit")) {
                return ScriptedApiServer.Answer.json(429, STARTING); // the watch cache: not ready
            }
            if ("1".equals(q.get("limit")) && heads.incrementAndGet() == 1) {
                return ScriptedApiServer.Answer.json(429, STARTING.replace("storage is (re)initializing",
                        "Too many requests, please try again later.")); // a passing 429 on the way to etcd
            }
            int from = q.containsKey("continue") ? Integer.parseInt(q.get("continue")) : 0;
            return ScriptedApiServer.Answer.json(200, page(from, Integer.parseInt(q.get("limit"))));
        });
        PagedNodeListerWatcher lister = new PagedNodeListerWatcher(server.client(), PAGE, new SlimNodeCodec(Set.of()));

        V1NodeList list = lister.list(new CallGeneratorParams(false, "0", null));

        assertEquals(NODES, list.getItems().size());
        assertEquals("n0", list.getItems().get(0).getMetadata().getName());
        assertEquals("n" + (NODES - 1), list.getItems().get(NODES - 1).getMetadata().getName());
        assertEquals(RV, list.getMetadata().getResourceVersion());
        List<String> asked = server.requests().stream().map(r -> shape(query(r.query())))
                .collect(Collectors.toList());
        // the one-node page (429 once, asked again), the cache once, then the rest of its snapshot in pages
        assertEquals(List.of("limit=1", "limit=1", "resourceVersion=" + RV, "limit=500&continue=1",
                "limit=500&continue=501", "limit=500&continue=1001"), asked);
    }

    /** Nodes {@code from} to {@code from + limit} of the snapshot, as a JSON page with a continue token. */
    private static String page(int from, int limit) {
        int to = Math.min(NODES, from + limit);
        StringBuilder items = new StringBuilder();
        for (int i = from; i < to; i++) {
            items.append(i == from ? "" : ",").append("{\"metadata\":{\"name\":\"n").append(i)
                    .append("\",\"resourceVersion\":\"").append(RV).append("\"},\"spec\":{}}");
        }
        String meta = to < NODES ? "\"continue\":\"" + to + "\",\"remainingItemCount\":" + (NODES - to) + ","
                : "";
        return "{\"kind\":\"NodeList\",\"apiVersion\":\"v1\",\"metadata\":{" + meta + "\"resourceVersion\":\"" + RV
                + "\"},\"items\":[" + items + "]}";
    }

    private static Map<String, String> query(String raw) {
        Map<String, String> q = new HashMap<>();
        if (raw != null) {
            for (String pair : raw.split("&")) {
                int eq = pair.indexOf('=');
                q.put(URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
                        URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
            }
        }
        return q;
    }

    /** The parameters that say where a list is read from, in a fixed order. */
    private static String shape(Map<String, String> q) {
        return List.of("limit", "resourceVersion", "continue").stream().filter(q::containsKey)
                .map(k -> k + "=" + q.get(k)).collect(Collectors.joining("&"));
    }
}
