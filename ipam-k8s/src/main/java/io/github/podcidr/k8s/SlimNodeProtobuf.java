package io.github.podcidr.k8s;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.WireFormat;
import io.kubernetes.client.openapi.models.V1Node;
import io.kubernetes.client.openapi.models.V1NodeSpec;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1Status;
import io.kubernetes.client.openapi.models.V1Taint;
import io.kubernetes.client.util.Watch;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import okio.BufferedSource;
import okio.ByteString;

/**
 * Reads NodeLists and node watch events from kube-apiserver's protobuf answers into the same slim {@link V1Node}s as
 * {@link SlimNodeCodec} reads from JSON. Protobuf gives every field's length before its bytes, so a node's status (nine
 * tenths of it), its managedFields and annotations are stepped over without being read; and kube-apiserver writes
 * protobuf at a fraction of the CPU that JSON costs it, which matters most for the one large list of a start.
 *
 * <p>The format, as kube-apiserver 1.20 writes it:
 * <ul>
 *   <li>a LIST answer is {@code k8s\0}, then a {@code runtime.Unknown} (typeMeta 1, raw 2, contentEncoding 3,
 *       contentType 4) whose raw bytes are the {@code NodeList} (metadata 1, items 2). The list is read from the
 *       stream one node at a time, so the whole answer is never in memory;</li>
 *   <li>a watch stream is frames of a 4-byte big-endian length and a {@code WatchEvent} (type 1, object 2), whose
 *       object is a {@code RawExtension} (raw 1) holding {@code k8s\0} and an Unknown, as above, of a Node or, for
 *       ERROR, a Status.</li>
 * </ul>
 *
 * <p>The wire format is read by protobuf-java's {@link CodedInputStream}: every message is read inside a limit pushed
 * at its length, so a field that runs past its enclosing message fails instead of misreading what follows; varints
 * longer than ten bytes and negative lengths are refused; no field but the NodeList itself (a list item, a watch frame,
 * a string, a skipped status) may claim more than {@link #MAX_OBJECT_BYTES}, checked before a byte of it is read or
 * held. A message field that comes twice is merged, as protobuf defines (and its generated parsers do): later scalars
 * win, repeated fields and map entries add up. Every failure is a {@link ProtobufDecodeException}, never a wrong node
 * and never an unchecked exception.
 *
 * <p>Go writes empty strings and a zero creation time that its JSON leaves out; they are read as absent (null), so
 * that a node reads the same from either format (WritePathRealIT compares the real server's answers in both formats
 * node by node).
 */
final class SlimNodeProtobuf {
    /** The media type of kube-apiserver's protobuf answers (a watch adds {@code ;stream=watch}). */
    static final String SUBTYPE = "vnd.kubernetes.protobuf";
    /**
     * The most bytes one list item (a Node) or one watch frame (an event around a Node) may claim, and so the most one
     * length can make the reader hold or step over. etcd refuses a write over 1.5 MiB by default
     * ({@code --max-request-bytes}), so no stored Node comes near it; 16 MiB leaves room for an etcd set higher.
     */
    static final int MAX_OBJECT_BYTES = 16 << 20;
    /** What every protobuf-encoded object starts with. */
    private static final ByteString MAGIC = ByteString.of((byte) 'k', (byte) '8', (byte) 's', (byte) 0);
    /** Go's zero {@code time.Time} in Unix seconds: a creation time never set, which the JSON writes as null. */
    private static final long ZERO_TIME_SECONDS = -62_135_596_800L;
    /** How much of a LIST answer the decoder reads from the socket at a time: okio's segment size. */
    private static final int STREAM_BUFFER = 8192;

    // a tag is the field number shifted left by 3 over the wire type; these two are the only ones read
    private static final int VARINT = WireFormat.WIRETYPE_VARINT;
    private static final int LEN = WireFormat.WIRETYPE_LENGTH_DELIMITED;

    private final Set<String> labelKeys;

    SlimNodeProtobuf(Set<String> labelKeys) {
        this.labelKeys = Set.copyOf(labelKeys);
    }

    /** A whole LIST answer, read from the stream one node at a time. */
    SlimNodeCodec.Page readList(BufferedSource source) throws IOException {
        if (!source.request(MAGIC.size()) || !source.rangeEquals(0, MAGIC)) {
            throw new ProtobufDecodeException("protobuf NodeList answer without the k8s\\0 prefix");
        }
        source.skip(MAGIC.size());
        CodedInputStream in = CodedInputStream.newInstance(skipping(source), STREAM_BUFFER);
        try {
            SlimNodeCodec.Page page = null;
            for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
                if (tag == (2 << 3 | LEN)) { // Unknown.raw: the NodeList
                    int length = length(in, Integer.MAX_VALUE, "NodeList");
                    // the answer's one large field: the stream's byte counts (ints) start again from here, so that a
                    // list of up to 2 GiB is read whatever came before it
                    in.resetSizeCounter();
                    int outer = in.pushLimit(length);
                    page = readNodeList(in);
                    leave(in, outer, "NodeList");
                } else {
                    skip(in, tag);
                }
            }
            if (page == null) {
                throw new ProtobufDecodeException("protobuf NodeList answer without its raw bytes (field 2 of its"
                        + " runtime.Unknown)");
            }
            return page;
        } catch (InvalidProtocolBufferException | RuntimeException e) {
            throw unreadable("NodeList answer", in, e);
        }
    }

    private SlimNodeCodec.Page readNodeList(CodedInputStream in) throws IOException {
        List<V1Node> items = new ArrayList<>();
        String rv = null;
        String cont = null;
        Long remaining = null;
        for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
            if (tag == (2 << 3 | LEN)) {
                int outer = enter(in, MAX_OBJECT_BYTES, "NodeList item");
                items.add(readNode(in));
                leave(in, outer, "NodeList item");
            } else if (tag == (1 << 3 | LEN)) { // ListMeta
                int outer = enter(in, MAX_OBJECT_BYTES, "ListMeta");
                for (int t = in.readTag(); t != 0; t = in.readTag()) {
                    switch (t) {
                        case 2 << 3 | LEN -> rv = emptyToNull(in.readString());
                        case 3 << 3 | LEN -> cont = emptyToNull(in.readString());
                        case 4 << 3 | VARINT -> remaining = in.readInt64();
                        default -> skip(in, t);
                    }
                }
                leave(in, outer, "ListMeta");
            } else {
                skip(in, tag);
            }
        }
        return new SlimNodeCodec.Page(items, rv, cont, remaining);
    }

    /**
     * One frame of a watch stream (without its 4-byte length). ERROR events carry a Status; other events a Node,
     * with the apiVersion and kind of its envelope, as in the JSON stream.
     */
    Watch.Response<V1Node> readEvent(byte[] frame) throws IOException {
        CodedInputStream in = CodedInputStream.newInstance(frame);
        try {
            String type = null;
            int rawFrom = -1;
            int rawLength = 0;
            for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
                if (tag == (1 << 3 | LEN)) {
                    type = emptyToNull(in.readString());
                } else if (tag == (2 << 3 | LEN)) { // a RawExtension
                    int outer = enter(in, MAX_OBJECT_BYTES, "watch event object");
                    for (int t = in.readTag(); t != 0; t = in.readTag()) {
                        if (t == (1 << 3 | LEN)) {
                            rawLength = length(in, MAX_OBJECT_BYTES, "watch event raw object");
                            rawFrom = in.getTotalBytesRead();
                            in.skipRawBytes(rawLength);
                        } else {
                            skip(in, t);
                        }
                    }
                    leave(in, outer, "watch event object");
                } else {
                    skip(in, tag);
                }
            }
            if (type == null || rawFrom < 0) {
                throw new ProtobufDecodeException("protobuf watch event without " + (type == null ? "a type"
                        : "an object"));
            }
            if (rawLength < MAGIC.size() || !MAGIC.rangeEquals(0, frame, rawFrom, MAGIC.size())) {
                throw new ProtobufDecodeException("protobuf watch event object without the k8s\\0 prefix");
            }
            // the object: k8s\0, then an Unknown
            int unknownFrom = rawFrom + MAGIC.size();
            CodedInputStream unknown = CodedInputStream.newInstance(frame, unknownFrom, rawLength - MAGIC.size());
            String apiVersion = null;
            String kind = null;
            int objFrom = -1;
            int objLength = 0;
            for (int tag = unknown.readTag(); tag != 0; tag = unknown.readTag()) {
                if (tag == (1 << 3 | LEN)) { // TypeMeta
                    int outer = enter(unknown, MAX_OBJECT_BYTES, "TypeMeta");
                    for (int t = unknown.readTag(); t != 0; t = unknown.readTag()) {
                        switch (t) {
                            case 1 << 3 | LEN -> apiVersion = emptyToNull(unknown.readString());
                            case 2 << 3 | LEN -> kind = emptyToNull(unknown.readString());
                            default -> skip(unknown, t);
                        }
                    }
                    leave(unknown, outer, "TypeMeta");
                } else if (tag == (2 << 3 | LEN)) {
                    objLength = length(unknown, MAX_OBJECT_BYTES, "watch event's object");
                    objFrom = unknownFrom + unknown.getTotalBytesRead();
                    unknown.skipRawBytes(objLength);
                } else {
                    skip(unknown, tag);
                }
            }
            if (objFrom < 0) {
                throw new ProtobufDecodeException("protobuf watch event of type " + type
                        + " without the object's bytes");
            }
            CodedInputStream object = CodedInputStream.newInstance(frame, objFrom, objLength);
            if ("ERROR".equals(type) || "Status".equals(kind)) {
                return new Watch.Response<>(type, readStatus(object));
            }
            V1Node node = readNode(object);
            return new Watch.Response<>(type, node.apiVersion(apiVersion).kind(kind));
        } catch (InvalidProtocolBufferException | RuntimeException e) {
            throw unreadable("watch event", in, e);
        }
    }

    /** A Node message, alone: what a list item or a watch event holds (its tests read nodes this way). */
    V1Node readNode(byte[] node) throws IOException {
        CodedInputStream in = CodedInputStream.newInstance(node);
        try {
            return readNode(in);
        } catch (InvalidProtocolBufferException | RuntimeException e) {
            throw unreadable("Node", in, e);
        }
    }

    private static V1Status readStatus(CodedInputStream in) throws IOException {
        V1Status s = new V1Status();
        for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
            switch (tag) {
                case 2 << 3 | LEN -> s.setStatus(emptyToNull(in.readString()));
                case 3 << 3 | LEN -> s.setMessage(emptyToNull(in.readString()));
                case 4 << 3 | LEN -> s.setReason(emptyToNull(in.readString()));
                case 6 << 3 | VARINT -> s.setCode(in.readInt32());
                default -> skip(in, tag);
            }
        }
        return s;
    }

    /** A Node message up to the current limit: its metadata and spec, nothing else read. */
    private V1Node readNode(CodedInputStream in) throws IOException {
        NodeFields n = new NodeFields();
        for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
            if (tag == (1 << 3 | LEN)) {
                int outer = enter(in, MAX_OBJECT_BYTES, "ObjectMeta");
                readMeta(in, n);
                leave(in, outer, "ObjectMeta");
            } else if (tag == (2 << 3 | LEN)) {
                int outer = enter(in, MAX_OBJECT_BYTES, "NodeSpec");
                readSpec(in, n);
                leave(in, outer, "NodeSpec");
            } else {
                skip(in, tag); // status, as fast as a length can be read
            }
        }
        return n.toNode();
    }

    private void readMeta(CodedInputStream in, NodeFields n) throws IOException {
        for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
            switch (tag) {
                case 1 << 3 | LEN -> n.meta.setName(emptyToNull(in.readString()));
                case 5 << 3 | LEN -> n.meta.setUid(emptyToNull(in.readString()));
                case 6 << 3 | LEN -> n.meta.setResourceVersion(emptyToNull(in.readString()));
                case 8 << 3 | LEN -> readTime(in, n.created, "creationTimestamp");
                case 9 << 3 | LEN -> readTime(in, n.deleted, "deletionTimestamp");
                case 11 << 3 | LEN -> {
                    if (labelKeys.isEmpty()) {
                        skip(in, tag); // annotations (12) and managedFields (17) are stepped over the same way
                    } else {
                        int outer = enter(in, MAX_OBJECT_BYTES, "label");
                        readLabel(in, n);
                        leave(in, outer, "label");
                    }
                }
                default -> skip(in, tag);
            }
        }
    }

    /** A map entry (key 1, value 2, each "" when absent); the value is decoded only for a kept key. */
    private void readLabel(CodedInputStream in, NodeFields n) throws IOException {
        String key = "";
        byte[] value = null;
        for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
            switch (tag) {
                case 1 << 3 | LEN -> key = in.readString();
                case 2 << 3 | LEN -> value = in.readRawBytes(length(in, MAX_OBJECT_BYTES, "label value"));
                default -> skip(in, tag);
            }
        }
        if (n.labels == null) {
            n.labels = new HashMap<>(labelKeys.size() * 2);
        }
        if (labelKeys.contains(key)) {
            // a label's value may be empty, and JSON keeps it: "" here too
            n.labels.put(key, value == null ? "" : new String(value, StandardCharsets.UTF_8));
        }
    }

    private static void readSpec(CodedInputStream in, NodeFields n) throws IOException {
        for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
            switch (tag) {
                case 1 << 3 | LEN -> n.podCidr = in.readString();
                case 5 << 3 | LEN -> {
                    if (n.taints == null) {
                        n.taints = new ArrayList<>(2);
                    }
                    int outer = enter(in, MAX_OBJECT_BYTES, "Taint");
                    n.taints.add(readTaint(in));
                    leave(in, outer, "Taint");
                }
                case 7 << 3 | LEN -> {
                    if (n.podCidrs == null) {
                        n.podCidrs = new ArrayList<>(2);
                    }
                    n.podCidrs.add(in.readString());
                }
                default -> skip(in, tag);
            }
        }
    }

    private static V1Taint readTaint(CodedInputStream in) throws IOException {
        // key and effect: JSON writes them even empty, and protobuf's absent string is ""
        V1Taint taint = new V1Taint().key("").effect("");
        Time added = new Time();
        for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
            switch (tag) {
                case 1 << 3 | LEN -> taint.setKey(in.readString());
                case 2 << 3 | LEN -> taint.setValue(emptyToNull(in.readString()));
                case 3 << 3 | LEN -> taint.setEffect(in.readString());
                case 4 << 3 | LEN -> readTime(in, added, "taint timeAdded");
                default -> skip(in, tag);
            }
        }
        return taint.timeAdded(added.toOffsetDateTime("taint timeAdded"));
    }

    /** A {@code meta.v1.Time} (seconds 1, nanos 2), merged into {@code time} as protobuf merges a message. */
    private static void readTime(CodedInputStream in, Time time, String field) throws IOException {
        int outer = enter(in, MAX_OBJECT_BYTES, field);
        time.present = true;
        for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
            if (tag == (1 << 3 | VARINT)) {
                time.seconds = in.readInt64();
            } else {
                skip(in, tag); // nanos: the JSON form is to the second
            }
        }
        leave(in, outer, field);
    }

    /** Reads a message's length and limits the stream to it; returns the limit to restore with {@link #leave}. */
    private static int enter(CodedInputStream in, int max, String what) throws IOException {
        return in.pushLimit(length(in, max, what)); // refuses a length past the enclosing message's end
    }

    /** Restores the enclosing message's limit, once the message was read to its end. */
    private static void leave(CodedInputStream in, int outer, String what) throws IOException {
        int left = in.getBytesUntilLimit();
        if (left != 0) {
            throw new ProtobufDecodeException("protobuf " + what + " cut " + left + " bytes before its end");
        }
        in.popLimit(outer);
    }

    /** A length, refused when negative or larger than {@code max}: checked before any of its bytes is read. */
    private static int length(CodedInputStream in, int max, String what) throws IOException {
        long length = in.readRawVarint64();
        if (length < 0 || length > max) {
            throw new ProtobufDecodeException("protobuf " + what + " claims " + Long.toUnsignedString(length)
                    + " bytes; at most " + max + " are read (e.g. a Node of 20 KB)");
        }
        return (int) length;
    }

    /**
     * Steps over a field this reader does not need, without reading its bytes into memory. Only the NodeList itself
     * may be larger than {@link #MAX_OBJECT_BYTES}: a longer field anywhere else is refused, not streamed through.
     */
    private static void skip(CodedInputStream in, int tag) throws IOException {
        if (WireFormat.getTagWireType(tag) == LEN) {
            in.skipRawBytes(length(in, MAX_OBJECT_BYTES, "field " + WireFormat.getTagFieldNumber(tag)));
        } else if (!in.skipField(tag)) {
            throw new ProtobufDecodeException("protobuf end-group tag of field " + WireFormat.getTagFieldNumber(tag)
                    + " without its start group");
        }
    }

    /**
     * okio's stream of {@code source}, whose skip drops what okio has buffered instead of copying it out first, as
     * {@link InputStream#skip} does: a node's status is skipped this way.
     */
    private static InputStream skipping(BufferedSource source) {
        return new FilterInputStream(source.inputStream()) {
            @Override
            public long skip(long n) throws IOException {
                if (n <= 0 || !source.request(1)) {
                    return 0; // the decoder then reads on, and finds the end of the stream
                }
                long skipped = Math.min(n, source.getBuffer().size());
                source.skip(skipped);
                return skipped;
            }
        };
    }

    private static ProtobufDecodeException unreadable(String what, CodedInputStream in, Exception e) {
        return new ProtobufDecodeException("unreadable protobuf " + what + " near byte " + in.getTotalBytesRead()
                + ": " + e.getMessage(), e);
    }

    private static String emptyToNull(String s) {
        return s.isEmpty() ? null : s;
    }

    /** A watch frame's length, read from the stream: 4 bytes, big-endian; then that many bytes. */
    static byte[] readFrame(BufferedSource in) throws IOException {
        int length = in.readInt();
        if (length < 0 || length > MAX_OBJECT_BYTES) {
            throw new ProtobufDecodeException("protobuf watch frame of " + Integer.toUnsignedString(length)
                    + " bytes; a node event has at most " + MAX_OBJECT_BYTES + " (e.g. 20 KB): the stream is corrupt");
        }
        return in.readByteArray(length);
    }

    /** A node's fields as they are read: a message field that comes twice merges into the same fields. */
    private static final class NodeFields {
        final V1ObjectMeta meta = new V1ObjectMeta();
        final Time created = new Time();
        final Time deleted = new Time();
        Map<String, String> labels;
        String podCidr = "";
        List<String> podCidrs;
        List<V1Taint> taints;

        V1Node toNode() throws ProtobufDecodeException {
            meta.setCreationTimestamp(created.toOffsetDateTime("creationTimestamp"));
            meta.setDeletionTimestamp(deleted.toOffsetDateTime("deletionTimestamp"));
            if (labels != null) {
                meta.setLabels(labels); // else the model's own empty map, as the JSON reader leaves it
            }
            V1NodeSpec spec = new V1NodeSpec().podCIDR(emptyToNull(podCidr));
            spec.setPodCIDRs(podCidrs);
            spec.setTaints(taints);
            return new V1Node().metadata(meta).spec(spec);
        }
    }

    /** A {@code meta.v1.Time} being read: present once its field was seen; to the second, as its JSON form. */
    private static final class Time {
        boolean present;
        long seconds;

        /** The time, or null when absent or Go's zero time (which its JSON writes as null). */
        OffsetDateTime toOffsetDateTime(String field) throws ProtobufDecodeException {
            if (!present || seconds == ZERO_TIME_SECONDS) {
                return null;
            }
            try {
                return OffsetDateTime.ofInstant(Instant.ofEpochSecond(seconds), ZoneOffset.UTC);
            } catch (DateTimeException e) {
                throw new ProtobufDecodeException("protobuf " + field + " of " + seconds + " seconds since 1970 is out"
                        + " of range: a time has a year from -999999999 to 999999999 (e.g. 1767225600 for 2026-01-01)",
                        e);
            }
        }
    }
}
