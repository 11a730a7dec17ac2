package io.github.podcidr.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.DescriptorProtos.DescriptorProto;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.Descriptors;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.WireFormat;
import io.kubernetes.client.openapi.models.V1Node;
import io.kubernetes.client.openapi.models.V1NodeSpec;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1Taint;
import io.kubernetes.client.proto.Meta;
import io.kubernetes.client.proto.V1;
import io.kubernetes.client.util.Watch;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.statistics.Statistics;
import okio.Buffer;
import okio.Okio;
import okio.Source;
import okio.Timeout;
import org.junit.jupiter.api.Test;

/**
 * {@link SlimNodeProtobuf} cannot be driven out of bounds (issue 26, item 6): over bit-flipped, cut and hostile
 * streams it either fails with an {@link IOException} or reads exactly what protobuf-java's own parser reads from the
 * same bytes; a length it cannot afford is refused before it is read or held.
 *
 * <p>The oracle for "what the bytes say" is protobuf-java's {@link DynamicMessage} parser over a schema of only the
 * fields the reader keeps ({@link #SLIM_NODE}): every other field (status, annotations, managedFields) is then an
 * unknown field, kept as bytes without being parsed, as the reader steps over it. So a flip inside a node's status,
 * which the generated {@code V1.Node} parser would refuse, is a valid encoding of the same slim node for both. The
 * reader may refuse more than the oracle (it caps lengths, and reads lengths as 64-bit values), never less.
 */
class SlimNodeProtobufBoundsTest {
    private static final Set<String> KEYS = Set.of("topology.kubernetes.io/zone", "pool");
    private static final long GO_ZERO_TIME = -62_135_596_800L;
    private static final int MAX = SlimNodeProtobuf.MAX_OBJECT_BYTES;
    private static final Descriptors.Descriptor SLIM_NODE = slimSchema();

    private final SlimNodeProtobuf reader = new SlimNodeProtobuf(KEYS);
    private final SlimNodeProtobufTest encoders = new SlimNodeProtobufTest();

    @Property(tries = 1000)
    void aBitFlippedNodeReadsAsProtobufSaysOrFails(@ForAll("nodes") V1.Node node,
            @ForAll @Size(min = 1, max = 6) List<@IntRange(min = 0, max = Integer.MAX_VALUE) Integer> flips)
            throws IOException {
        byte[] bytes = flip(node.toByteArray(), flips);
        // not vacuous: most flips land in what the reader steps over or reads as other valid values
        Statistics.label("outcome").coverage(c -> c.check("read").percentage(p -> p > 20));
        V1Node read;
        try {
            read = reader.readNode(bytes);
        } catch (IOException e) {
            // refusing is always allowed (the reader is the stricter one); anything but an IOException fails here
            Statistics.label("outcome").collect(parses(bytes) ? "refused here only" : "refused by both");
            return;
        }
        Statistics.label("outcome").collect("read");
        assertEquals(oracle(bytes), read, "a node read is what protobuf's own parser reads from the same bytes");
    }

    @Property(tries = 300)
    void aBitFlippedListReadsAsProtobufSaysOrFails(@ForAll("fewNodes") List<V1.Node> nodes,
            @ForAll @Size(min = 1, max = 4) List<@IntRange(min = 0, max = Integer.MAX_VALUE) Integer> flips)
            throws IOException {
        V1.NodeList list = V1.NodeList.newBuilder().setMetadata(Meta.ListMeta.newBuilder().setResourceVersion("42")
                .setContinue("")).addAllItems(nodes).build();
        byte[] answer = SlimNodeProtobufTest.envelope("NodeList", list.toByteString());
        byte[] flipped = flip(answer, flips);
        // not vacuous: most flips land in what the reader steps over or reads as other valid values
        Statistics.label("outcome").coverage(c -> c.check("read").percentage(p -> p > 10));
        SlimNodeCodec.Page page;
        try {
            page = reader.readList(new Buffer().write(flipped));
        } catch (IOException e) {
            Statistics.label("outcome").collect("refused");
            return;
        }
        Statistics.label("outcome").collect("read");
        // the prefix and the envelope, then the NodeList: what protobuf's parser finds in the same bytes
        assertTrue(ByteString.copyFrom(flipped).startsWith(ByteString.copyFrom(new byte[] {'k', '8', 's', 0})));
        DynamicMessage unknown = DynamicMessage.parseFrom(LIST_UNKNOWN,
                ByteString.copyFrom(flipped).substring(4));
        DynamicMessage nodeList = DynamicMessage.parseFrom(SLIM_LIST,
                (ByteString) unknown.getField(LIST_UNKNOWN.findFieldByName("raw")));
        List<V1Node> expected = new ArrayList<>();
        for (Object item : (List<?>) nodeList.getField(SLIM_LIST.findFieldByName("items"))) {
            expected.add(slim((DynamicMessage) item));
        }
        assertEquals(expected, page.items());
        DynamicMessage meta = (DynamicMessage) nodeList.getField(SLIM_LIST.findFieldByName("metadata"));
        assertEquals(emptyToNull(string(meta, "resourceVersion")), page.resourceVersion());
    }

    @Property(tries = 500)
    void aBitFlippedWatchEventReadsAsProtobufSaysOrFails(@ForAll("nodes") V1.Node node,
            @ForAll @Size(min = 1, max = 4) List<@IntRange(min = 0, max = Integer.MAX_VALUE) Integer> flips)
            throws IOException {
        byte[] frame = SlimNodeProtobufTest.frame("MODIFIED", SlimNodeProtobufTest.envelope("Node",
                node.toByteString()));
        byte[] event = flip(java.util.Arrays.copyOfRange(frame, 4, frame.length), flips);
        // not vacuous: most flips land in what the reader steps over or reads as other valid values
        Statistics.label("outcome").coverage(c -> c.check("read").percentage(p -> p > 20));
        Watch.Response<V1Node> read;
        try {
            read = reader.readEvent(event);
        } catch (IOException e) {
            Statistics.label("outcome").collect("refused");
            return;
        }
        Statistics.label("outcome").collect(read.object == null ? "status" : "read");
        if (read.object != null) {
            DynamicMessage watchEvent = DynamicMessage.parseFrom(WATCH_EVENT, event);
            DynamicMessage raw = (DynamicMessage) watchEvent.getField(WATCH_EVENT.findFieldByName("object"));
            ByteString object = (ByteString) raw.getField(RAW_EXTENSION.findFieldByName("raw"));
            DynamicMessage unknown = DynamicMessage.parseFrom(UNKNOWN, object.substring(4));
            ByteString nodeBytes = (ByteString) unknown.getField(UNKNOWN.findFieldByName("raw"));
            DynamicMessage typeMeta = (DynamicMessage) unknown.getField(UNKNOWN.findFieldByName("typeMeta"));
            assertEquals(emptyToNull(string(watchEvent, "type")), read.type);
            assertEquals(emptyToNull(string(typeMeta, "apiVersion")), read.object.getApiVersion());
            assertEquals(emptyToNull(string(typeMeta, "kind")), read.object.getKind());
            assertEquals(slim(DynamicMessage.parseFrom(SLIM_NODE, nodeBytes)), read.object.apiVersion(null)
                    .kind(null));
        }
    }

    @Property(tries = 300)
    void aHostileLengthAnywhereIsRefusedWithoutReadingOrHoldingWhatItClaims(@ForAll("fewNodes") List<V1.Node> nodes,
            @ForAll @IntRange(min = 0, max = Integer.MAX_VALUE) int at, @ForAll("hostileVarints") byte[] varint) {
        V1.NodeList list = V1.NodeList.newBuilder().setMetadata(Meta.ListMeta.newBuilder().setResourceVersion("7"))
                .addAllItems(nodes).build();
        byte[] answer = SlimNodeProtobufTest.envelope("NodeList", list.toByteString());
        int cut = 4 + at % (answer.length - 4);
        // the answer up to some byte, a hostile varint, then bytes without end: only a refusal ends the read
        Buffer head = new Buffer().write(answer, 0, cut).write(varint);
        Endless endless = new Endless(head);
        long before = allocated();
        IOException e = assertThrows(IOException.class, () -> reader.readList(Okio.buffer(endless)));
        long spent = allocated() - before;
        assertInstanceOf(ProtobufDecodeException.class, e, e.toString());
        // every claim here is past the cap or past its message: none may be read on or allocated for
        assertTrue(endless.served < answer.length + (64 << 10), "read " + endless.served + " bytes");
        assertTrue(spent < MAX / 4, "allocated " + spent + " bytes");
    }

    @Test
    void aListItemClaimingTwoGibibytesIsRefusedBeforeAByteOfItIsRead() {
        Buffer head = new Buffer().write(new byte[] {'k', '8', 's', 0});
        head.writeByte(2 << 3 | 2).write(varint(Integer.MAX_VALUE)); // Unknown.raw: a NodeList of 2 GiB
        head.writeByte(2 << 3 | 2).write(varint(Integer.MAX_VALUE - 16)); // its first item: nearly as much
        Endless endless = new Endless(head);
        long before = allocated();
        IOException e = assertThrows(IOException.class, () -> reader.readList(Okio.buffer(endless)));
        long spent = allocated() - before;
        assertTrue(e.getMessage().contains("NodeList item claims 2147483631 bytes; at most 16777216"),
                e.getMessage());
        assertTrue(spent < 1 << 20, "allocated " + spent + " bytes");
        assertTrue(endless.served < 64 << 10, "read " + endless.served + " bytes");
    }

    @Test
    void aWatchFrameClaimingTwoGibibytesIsRefusedBeforeAllocating() {
        for (int claim : new int[] {Integer.MAX_VALUE, -1, Integer.MIN_VALUE, MAX + 1}) {
            Endless endless = new Endless(new Buffer().writeInt(claim));
            long before = allocated();
            IOException e = assertThrows(IOException.class, () -> SlimNodeProtobuf.readFrame(Okio.buffer(endless)));
            long spent = allocated() - before;
            assertInstanceOf(ProtobufDecodeException.class, e);
            assertTrue(e.getMessage().contains("watch frame of " + Integer.toUnsignedString(claim) + " bytes"),
                    e.getMessage());
            assertTrue(spent < 1 << 20, "allocated " + spent + " bytes for a claim of " + claim);
        }
    }

    @Test
    void aFieldOverrunningItsEnclosingMessageFails() throws IOException {
        // ObjectMeta of 4 bytes whose name claims 12: the 8 after it are the spec's, which must not be read as a name
        Buffer node = new Buffer();
        node.writeByte(1 << 3 | 2).writeByte(4).writeByte(1 << 3 | 2).writeByte(12).writeUtf8("ab");
        node.writeByte(2 << 3 | 2).writeByte(6).writeByte(1 << 3 | 2).writeByte(4).writeUtf8("10.0");
        byte[] bytes = node.readByteArray();
        assertThrows(InvalidProtocolBufferException.class, () -> V1.Node.parseFrom(bytes));
        assertInstanceOf(ProtobufDecodeException.class, assertThrows(IOException.class,
                () -> reader.readNode(bytes)));
    }

    @Test
    void negativeAndOverflowingLengthsAndOverlongVarintsFail() {
        byte[] minusOne = varint(-1L);
        List<byte[]> hostile = List.of(
                concat(new byte[] {3 << 3 | 2}, minusOne), // a status of -1 bytes, to skip
                concat(new byte[] {1 << 3 | 2}, minusOne), // an ObjectMeta of -1 bytes
                concat(new byte[] {3 << 3 | 2}, varint(1L << 32)), // 4 GiB: an int would read 0
                concat(new byte[] {3 << 3 | 2}, varint((1L << 32) + 2), new byte[] {1, 2}),
                concat(new byte[] {1 << 3 | 2, 11, 1 << 3 | 2}, minusOne), // a name of -1 bytes
                concat(new byte[] {4 << 3}, new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff,
                        (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 1}));
        for (byte[] bytes : hostile) {
            assertInstanceOf(ProtobufDecodeException.class, assertThrows(IOException.class,
                    () -> reader.readNode(bytes)), ByteString.copyFrom(bytes).toString());
        }
    }

    @Test
    void aTimeOutOfRangeIsAnIoErrorNotAnUncheckedOne() {
        for (long seconds : new long[] {Long.MAX_VALUE, Long.MIN_VALUE, 31_556_889_864_403_200L}) {
            byte[] node = V1.Node.newBuilder().setMetadata(Meta.ObjectMeta.newBuilder().setName("n")
                    .setCreationTimestamp(Meta.Time.newBuilder().setSeconds(seconds))).build().toByteArray();
            IOException e = assertThrows(IOException.class, () -> reader.readNode(node));
            assertInstanceOf(DateTimeException.class, e.getCause());
            assertTrue(e.getMessage().contains("creationTimestamp of " + seconds + " seconds"), e.getMessage());
        }
    }

    @Test
    void deeplyNestedGroupsFailWithAnIoError() {
        Buffer node = new Buffer();
        for (int i = 0; i < 100_000; i++) {
            node.writeByte(15 << 3 | WireFormat.WIRETYPE_START_GROUP);
        }
        byte[] bytes = node.readByteArray();
        assertInstanceOf(ProtobufDecodeException.class, assertThrows(IOException.class,
                () -> reader.readNode(bytes)));
    }

    @Test
    void aFieldThatComesTwiceIsMergedAsProtobufMergesIt() throws IOException {
        V1.Node first = V1.Node.newBuilder().setMetadata(Meta.ObjectMeta.newBuilder().setName("a")
                .putLabels("pool", "x").setCreationTimestamp(Meta.Time.newBuilder().setSeconds(1_767_225_600L)))
                .setSpec(V1.NodeSpec.newBuilder().addPodCIDRs("10.0.0.0/24").setPodCIDR("10.0.0.0/24")).build();
        V1.Node second = V1.Node.newBuilder().setMetadata(Meta.ObjectMeta.newBuilder().setUid("u")
                .putLabels("topology.kubernetes.io/zone", "z").setCreationTimestamp(Meta.Time.newBuilder()
                        .setNanos(5)))
                .setSpec(V1.NodeSpec.newBuilder().addPodCIDRs("fd00::/64")).build();
        byte[] both = first.toByteString().concat(second.toByteString()).toByteArray();
        V1Node read = reader.readNode(both);
        assertEquals(oracle(both), read);
        assertEquals("a", read.getMetadata().getName());
        assertEquals("u", read.getMetadata().getUid());
        assertEquals(Map.of("pool", "x", "topology.kubernetes.io/zone", "z"), read.getMetadata().getLabels());
        assertEquals(OffsetDateTime.parse("2026-01-01T00:00:00Z"), read.getMetadata().getCreationTimestamp());
        assertEquals(List.of("10.0.0.0/24", "fd00::/64"), read.getSpec().getPodCIDRs());
    }

    // ---- the oracle: protobuf-java's parser over the fields the reader keeps ----

    private static final Descriptors.Descriptor UNKNOWN;
    /** A list's Unknown: its typeMeta is stepped over by the reader, so it is an unknown field here. */
    private static final Descriptors.Descriptor LIST_UNKNOWN;
    private static final Descriptors.Descriptor SLIM_LIST;
    private static final Descriptors.Descriptor WATCH_EVENT;
    private static final Descriptors.Descriptor RAW_EXTENSION;

    static {
        Descriptors.FileDescriptor file = SLIM_NODE.getFile();
        UNKNOWN = file.findMessageTypeByName("Unknown");
        LIST_UNKNOWN = file.findMessageTypeByName("ListUnknown");
        SLIM_LIST = file.findMessageTypeByName("NodeList");
        WATCH_EVENT = file.findMessageTypeByName("WatchEvent");
        RAW_EXTENSION = file.findMessageTypeByName("RawExtension");
    }

    /** The Kubernetes messages cut to the fields the reader keeps, with their field numbers and types. */
    private static Descriptors.Descriptor slimSchema() {
        DescriptorProto time = message("Time", field("seconds", 1, FieldDescriptorProto.Type.TYPE_INT64),
                field("nanos", 2, FieldDescriptorProto.Type.TYPE_INT32));
        DescriptorProto label = message("Label", string("key", 1), string("value", 2));
        DescriptorProto meta = message("ObjectMeta", string("name", 1), string("uid", 5), string("resourceVersion", 6),
                message("creationTimestamp", 8, "Time"), message("deletionTimestamp", 9, "Time"),
                repeated(message("labels", 11, "Label")));
        DescriptorProto taint = message("Taint", string("key", 1), string("value", 2), string("effect", 3),
                message("timeAdded", 4, "Time"));
        DescriptorProto spec = message("NodeSpec", string("podCIDR", 1), repeated(message("taints", 5, "Taint")),
                repeated(string("podCIDRs", 7)));
        DescriptorProto node = message("Node", message("metadata", 1, "ObjectMeta"), message("spec", 2, "NodeSpec"));
        DescriptorProto listMeta = message("ListMeta", string("resourceVersion", 2), string("continue", 3),
                field("remainingItemCount", 4, FieldDescriptorProto.Type.TYPE_INT64));
        DescriptorProto list = message("NodeList", message("metadata", 1, "ListMeta"),
                repeated(message("items", 2, "Node")));
        DescriptorProto typeMeta = message("TypeMeta", string("apiVersion", 1), string("kind", 2));
        DescriptorProto unknown = message("Unknown", message("typeMeta", 1, "TypeMeta"),
                field("raw", 2, FieldDescriptorProto.Type.TYPE_BYTES));
        DescriptorProto listUnknown = message("ListUnknown", field("raw", 2, FieldDescriptorProto.Type.TYPE_BYTES));
        DescriptorProto rawExtension = message("RawExtension", field("raw", 1, FieldDescriptorProto.Type.TYPE_BYTES));
        DescriptorProto watchEvent = message("WatchEvent", string("type", 1), message("object", 2, "RawExtension"));
        FileDescriptorProto file = FileDescriptorProto.newBuilder().setName("slim.proto").setPackage("slim")
                .setSyntax("proto2").addMessageType(time).addMessageType(label).addMessageType(meta)
                .addMessageType(taint).addMessageType(spec).addMessageType(node).addMessageType(listMeta)
                .addMessageType(list).addMessageType(typeMeta).addMessageType(unknown)
                .addMessageType(listUnknown).addMessageType(rawExtension).addMessageType(watchEvent)
                .build();
        try {
            return Descriptors.FileDescriptor.buildFrom(file, new Descriptors.FileDescriptor[0])
                    .findMessageTypeByName("Node");
        } catch (Descriptors.DescriptorValidationException e) {
            throw new IllegalStateException(e);
        }
    }

    private static DescriptorProto message(String name, FieldDescriptorProto... fields) {
        return DescriptorProto.newBuilder().setName(name).addAllField(List.of(fields)).build();
    }

    private static FieldDescriptorProto field(String name, int number, FieldDescriptorProto.Type type) {
        return FieldDescriptorProto.newBuilder().setName(name).setNumber(number).setType(type)
                .setLabel(FieldDescriptorProto.Label.LABEL_OPTIONAL).build();
    }

    private static FieldDescriptorProto string(String name, int number) {
        return field(name, number, FieldDescriptorProto.Type.TYPE_STRING);
    }

    private static FieldDescriptorProto message(String name, int number, String type) {
        return field(name, number, FieldDescriptorProto.Type.TYPE_MESSAGE).toBuilder().setTypeName(".slim." + type)
                .build();
    }

    private static FieldDescriptorProto repeated(FieldDescriptorProto f) {
        return f.toBuilder().setLabel(FieldDescriptorProto.Label.LABEL_REPEATED).build();
    }

    /** What protobuf's parser reads from a Node's bytes, made slim as the reader makes it. */
    private static V1Node oracle(byte[] node) throws InvalidProtocolBufferException {
        return slim(DynamicMessage.parseFrom(SLIM_NODE, node));
    }

    private static boolean parses(byte[] node) {
        try {
            oracle(node);
            return true;
        } catch (InvalidProtocolBufferException | DateTimeException e) {
            return false;
        }
    }

    /** The slim node of a parsed one: Go's empty strings and zero time as absent, only the kept labels. */
    private static V1Node slim(DynamicMessage node) {
        DynamicMessage m = (DynamicMessage) node.getField(SLIM_NODE.findFieldByName("metadata"));
        V1ObjectMeta meta = new V1ObjectMeta().name(emptyToNull(string(m, "name")))
                .uid(emptyToNull(string(m, "uid"))).resourceVersion(emptyToNull(string(m, "resourceVersion")))
                .creationTimestamp(time(m, "creationTimestamp")).deletionTimestamp(time(m, "deletionTimestamp"));
        List<?> labels = (List<?>) m.getField(m.getDescriptorForType().findFieldByName("labels"));
        if (!labels.isEmpty()) {
            Map<String, String> kept = new HashMap<>();
            for (Object o : labels) {
                DynamicMessage entry = (DynamicMessage) o;
                if (KEYS.contains(string(entry, "key"))) {
                    kept.put(string(entry, "key"), string(entry, "value"));
                }
            }
            meta.setLabels(kept);
        }
        DynamicMessage s = (DynamicMessage) node.getField(SLIM_NODE.findFieldByName("spec"));
        V1NodeSpec spec = new V1NodeSpec().podCIDR(emptyToNull(string(s, "podCIDR")));
        List<String> cidrs = new ArrayList<>();
        for (Object o : (List<?>) s.getField(s.getDescriptorForType().findFieldByName("podCIDRs"))) {
            cidrs.add(text(o));
        }
        spec.setPodCIDRs(cidrs.isEmpty() ? null : cidrs);
        List<V1Taint> taints = new ArrayList<>();
        for (Object o : (List<?>) s.getField(s.getDescriptorForType().findFieldByName("taints"))) {
            DynamicMessage t = (DynamicMessage) o;
            taints.add(new V1Taint().key(string(t, "key")).value(emptyToNull(string(t, "value")))
                    .effect(string(t, "effect")).timeAdded(time(t, "timeAdded")));
        }
        spec.setTaints(taints.isEmpty() ? null : taints);
        return new V1Node().metadata(meta).spec(spec);
    }

    private static String string(DynamicMessage m, String field) {
        return text(m.getField(m.getDescriptorForType().findFieldByName(field)));
    }

    private static String text(Object value) {
        return value instanceof ByteString b ? b.toStringUtf8() : (String) value;
    }

    /** A Time field to the second; its DateTimeException, for a time out of range, fails the property. */
    private static OffsetDateTime time(DynamicMessage m, String field) {
        Descriptors.FieldDescriptor f = m.getDescriptorForType().findFieldByName(field);
        if (!m.hasField(f)) {
            return null;
        }
        DynamicMessage t = (DynamicMessage) m.getField(f);
        long seconds = (Long) t.getField(t.getDescriptorForType().findFieldByName("seconds"));
        return seconds == GO_ZERO_TIME ? null
                : OffsetDateTime.ofInstant(Instant.ofEpochSecond(seconds), ZoneOffset.UTC);
    }

    private static String emptyToNull(String s) {
        return s.isEmpty() ? null : s;
    }

    // ---- hostile input ----

    /** Flips the given bits (positions taken modulo the number of bits). */
    private static byte[] flip(byte[] bytes, List<Integer> bits) {
        byte[] out = bytes.clone();
        for (int bit : bits) {
            int at = bit % (out.length * 8);
            out[at / 8] ^= (byte) (1 << (at % 8));
        }
        return out;
    }

    private static byte[] varint(long value) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        CodedOutputStream c = CodedOutputStream.newInstance(out);
        try {
            c.writeUInt64NoTag(value);
            c.flush();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return out.toByteArray();
    }

    private static byte[] concat(byte[]... parts) {
        Buffer b = new Buffer();
        for (byte[] p : parts) {
            b.write(p);
        }
        return b.readByteArray();
    }

    /** Bytes allocated by this thread so far (HotSpot's count): what a read cost, without timing anything. */
    private static long allocated() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean())
                .getCurrentThreadAllocatedBytes();
    }

    @Provide
    Arbitrary<byte[]> hostileVarints() {
        return Arbitraries.of(
                varint(-1L), varint(Long.MIN_VALUE), varint(Integer.MAX_VALUE), varint(1L << 31), varint(1L << 32),
                varint((1L << 32) + 3), varint(MAX + 1L), varint(MAX * 64L),
                new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff,
                        (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 1}); // 12 bytes: overlong
    }

    @Provide
    Arbitrary<V1.Node> nodes() {
        return encoders.nodes();
    }

    @Provide
    Arbitrary<List<V1.Node>> fewNodes() {
        return encoders.fewNodes();
    }

    /**
     * A source that serves {@code head}, then zero bytes for as long as it is read, counting them: a reader that does
     * not refuse a hostile length would read on (and, past 64 MiB, is stopped here with an error that the tests
     * tell apart from the reader's own).
     */
    private static final class Endless implements Source {
        private static final byte[] ZEROS = new byte[8192];
        private final Buffer head;
        long served;

        Endless(Buffer head) {
            this.head = head;
        }

        @Override
        public long read(Buffer sink, long byteCount) throws IOException {
            if (served > 64L << 20) {
                throw new IOException("read past 64 MiB of an endless stream");
            }
            long n;
            if (head.size() > 0) {
                n = head.read(sink, byteCount);
            } else {
                n = Math.min(byteCount, ZEROS.length);
                sink.write(ZEROS, 0, (int) n);
            }
            served += n;
            return n;
        }

        @Override
        public Timeout timeout() {
            return Timeout.NONE;
        }

        @Override
        public void close() {
        }
    }
}
