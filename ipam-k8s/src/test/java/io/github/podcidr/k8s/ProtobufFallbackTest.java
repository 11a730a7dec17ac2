package io.github.podcidr.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kubernetes.client.openapi.models.V1Node;
import io.kubernetes.client.openapi.models.V1NodeList;
import io.kubernetes.client.proto.Meta;
import io.kubernetes.client.proto.V1;
import io.kubernetes.client.util.CallGeneratorParams;
import io.kubernetes.client.util.Watch;
import io.kubernetes.client.util.Watchable;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A server whose protobuf answers cannot be decoded (issue 26, item 6): after
 * {@value ProtobufFallback#FAILURES_IN_A_ROW} such answers in a row, lists and watches ask for JSON, the list that met
 * them still succeeds, the fall back is counted in the metric and shows on the lister; a single unreadable answer
 * between readable ones changes nothing.
 */
class ProtobufFallbackTest {
    private static final String PROTOBUF = "application/" + SlimNodeProtobuf.SUBTYPE;
    /** The k8s prefix, then an Unknown whose raw field claims a length in an overlong varint. */
    private static final byte[] UNREADABLE = {'k', '8', 's', 0, 2 << 3 | 2, (byte) 0xff, (byte) 0xff, (byte) 0xff,
        (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 1};
    private static final String JSON_LIST = "{\"kind\":\"NodeList\",\"apiVersion\":\"v1\",\"metadata\":"
            + "{\"resourceVersion\":\"5\"},\"items\":[{\"metadata\":{\"name\":\"n1\",\"resourceVersion\":\"5\"},"
            + "\"spec\":{}}]}";
    private static final String JSON_EVENT = "{\"type\":\"ADDED\",\"object\":{\"kind\":\"Node\",\"apiVersion\":\"v1\","
            + "\"metadata\":{\"name\":\"n2\",\"resourceVersion\":\"6\"},\"spec\":{}}}\n";

    private final AtomicInteger fallbacks = new AtomicInteger();
    private final ControllerMetrics metrics = new ControllerMetrics() {
        @Override
        public void protobufFallback() {
            fallbacks.incrementAndGet();
        }
    };
    private ScriptedApiServer server;

    @AfterEach
    void tearDown() {
        server.close();
    }

    @Test
    void answersThatKeepFailingToDecodeTurnListsAndWatchesToJson() throws Exception {
        server = new ScriptedApiServer(r -> {
            if (r.protobuf()) {
                return new ScriptedApiServer.Answer(200, r.watch() ? PROTOBUF + ";stream=watch" : PROTOBUF,
                        r.watch() ? new byte[] {0, 0, 0, 3, (byte) 0xff, (byte) 0xff, (byte) 0xff} : UNREADABLE);
            }
            return ScriptedApiServer.Answer.json(200, r.watch() ? JSON_EVENT : JSON_LIST);
        });
        PagedNodeListerWatcher lister = new PagedNodeListerWatcher(server.client(), 500, new SlimNodeCodec(Set.of()),
                metrics);

        V1NodeList list = lister.list(new CallGeneratorParams(false, "0", null));

        assertEquals("n1", list.getItems().get(0).getMetadata().getName(), "the list that met them succeeds");
        assertTrue(lister.protobufFallenBack());
        assertEquals(ProtobufFallback.FAILURES_IN_A_ROW, lister.protobufDecodeFailures());
        assertEquals(1, fallbacks.get());
        List<ScriptedApiServer.Request> requests = server.requests();
        assertEquals(ProtobufFallback.FAILURES_IN_A_ROW + 1, requests.size());
        requests.subList(0, ProtobufFallback.FAILURES_IN_A_ROW).forEach(r -> assertTrue(r.protobuf(), r.accept()));
        assertEquals(ProtobufFallback.JSON, requests.get(ProtobufFallback.FAILURES_IN_A_ROW).accept());

        try (Watchable<V1Node> watch = lister.watch(new CallGeneratorParams(true, "5", 30))) {
            Watch.Response<V1Node> event = watch.next();
            assertEquals("n2", event.object.getMetadata().getName());
        }
        assertEquals(ProtobufFallback.JSON, server.requests().get(server.requests().size() - 1).accept());
        assertEquals(1, fallbacks.get(), "counted once");
    }

    @Test
    void unreadableWatchFramesInARowTurnTheNextWatchToJson() throws Exception {
        server = new ScriptedApiServer(r -> r.protobuf()
                ? new ScriptedApiServer.Answer(200, PROTOBUF + ";stream=watch",
                        new byte[] {0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff}) // a frame of 2 GiB
                : ScriptedApiServer.Answer.json(200, JSON_EVENT));
        PagedNodeListerWatcher lister = new PagedNodeListerWatcher(server.client(), 500, new SlimNodeCodec(Set.of()),
                metrics);
        for (int i = 0; i < ProtobufFallback.FAILURES_IN_A_ROW; i++) {
            assertFalse(lister.protobufFallenBack(), "after " + i);
            try (Watchable<V1Node> watch = lister.watch(new CallGeneratorParams(true, "5", 30))) {
                RuntimeException e = assertThrows(RuntimeException.class, watch::next);
                assertTrue(e.getCause() instanceof ProtobufDecodeException, String.valueOf(e.getCause()));
            }
        }
        assertTrue(lister.protobufFallenBack());
        try (Watchable<V1Node> watch = lister.watch(new CallGeneratorParams(true, "5", 30))) {
            assertEquals("n2", watch.next().object.getMetadata().getName());
        }
        assertEquals(1, fallbacks.get());
    }

    @Test
    void oneUnreadableAnswerBetweenReadableOnesKeepsProtobuf() throws Exception {
        byte[] readable = SlimNodeProtobufTest.envelope("NodeList", V1.NodeList.newBuilder()
                .setMetadata(Meta.ListMeta.newBuilder().setResourceVersion("5"))
                .addItems(V1.Node.newBuilder().setMetadata(Meta.ObjectMeta.newBuilder().setName("n1"))).build()
                .toByteString());
        AtomicInteger answered = new AtomicInteger();
        server = new ScriptedApiServer(r -> new ScriptedApiServer.Answer(200, PROTOBUF,
                answered.incrementAndGet() % 2 == 1 ? UNREADABLE : readable)); // unreadable, readable, and so on
        PagedNodeListerWatcher lister = new PagedNodeListerWatcher(server.client(), 500, new SlimNodeCodec(Set.of()),
                metrics);
        for (int i = 0; i < 4; i++) {
            assertEquals("n1", lister.list(new CallGeneratorParams(false, "0", null)).getItems().get(0).getMetadata()
                    .getName());
        }
        assertFalse(lister.protobufFallenBack());
        assertEquals(4, lister.protobufDecodeFailures());
        assertEquals(0, fallbacks.get());
        server.requests().forEach(r -> assertTrue(r.protobuf(), r.accept()));
    }
}
