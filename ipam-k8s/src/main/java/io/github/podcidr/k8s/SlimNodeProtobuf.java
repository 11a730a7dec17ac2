package io.github.podcidr.k8s;

import io.kubernetes.client.openapi.models.V1Node;
import io.kubernetes.client.openapi.models.V1NodeSpec;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1Status;
import io.kubernetes.client.openapi.models.V1Taint;
import io.kubernetes.client.util.Watch;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import okio.BufferedSource;

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
 * <p>Go writes empty strings and a zero creation time that its JSON leaves out; they are read as absent (null), so
 * that a node reads the same from either format (WritePathRealIT compares the real server's answers in both formats
 * node by node).
 */
final class SlimNodeProtobuf {
    /** The media type of kube-apiserver's protobuf answers (a watch adds {@code ;stream=watch}). */
    static final String SUBTYPE = "vnd.kubernetes.protobuf";
    /** What every protobuf-encoded object starts with. */
    private static final byte[] MAGIC = {'k', '8', 's', 0};
    /** Go's zero {@code time.Time} in Unix seconds: a creation time never set, which the JSON writes as null. */
    private static final long ZERO_TIME_SECONDS = -62_135_596_800L;
    /** A watch frame larger than this is not a node event: the stream is corrupt. */
    private static final int MAX_FRAME = 64 << 20;

    private static final int VARINT = 0;
    private static final int FIXED64 = 1;
    private static final int BYTES = 2;
    private static final int FIXED32 = 5;

    private final Set<String> labelKeys;

    SlimNodeProtobuf(Set<String> labelKeys) {
        this.labelKeys = Set.copyOf(labelKeys);
    }

    /** A whole LIST answer, read from the stream one node at a time. */
    SlimNodeCodec.Page readList(BufferedSource in) throws IOException {
        Stream s = new Stream(in);
        s.magic();
        SlimNodeCodec.Page page = null;
        while (!in.exhausted()) {
            long tag = s.varint();
            if (tag == tag(2, BYTES)) { // Unknown.raw: the NodeList
                page = readNodeList(s, s.varint());
            } else {
                s.skip((int) (tag & 7));
            }
        }
        if (page == null) {
            throw new IOException("protobuf NodeList answer without its raw bytes");
        }
        return page;
    }

    private SlimNodeCodec.Page readNodeList(Stream s, long length) throws IOException {
        long end = s.read + length;
        List<V1Node> items = new ArrayList<>();
        String rv = null;
        String cont = null;
        Long remaining = null;
        while (s.read < end) {
            long tag = s.varint();
            if (tag == tag(2, BYTES)) {
                byte[] node = s.bytes(s.varint());
                items.add(readNode(new Bytes(node, 0, node.length), 0, node.length));
            } else if (tag == tag(1, BYTES)) {
                byte[] meta = s.bytes(s.varint());
                Bytes b = new Bytes(meta, 0, meta.length);
                while (b.pos < meta.length) {
                    int t = (int) b.varint();
                    switch (t) {
                        case 2 << 3 | BYTES -> rv = b.string();
                        case 3 << 3 | BYTES -> cont = b.string();
                        case 4 << 3 | VARINT -> remaining = b.varint();
                        default -> b.skip(t & 7, meta.length);
                    }
                }
            } else {
                s.skip((int) (tag & 7));
            }
        }
        if (s.read != end) {
            throw new IOException("protobuf NodeList overran its length at byte " + s.read);
        }
        return new SlimNodeCodec.Page(items, rv, cont, remaining);
    }

    /**
     * One frame of a watch stream (without its 4-byte length). ERROR events carry a Status; other events a Node,
     * with the apiVersion and kind of its envelope, as in the JSON stream.
     */
    Watch.Response<V1Node> readEvent(byte[] frame) throws IOException {
        Bytes b = new Bytes(frame, 0, frame.length);
        String type = null;
        int rawFrom = -1;
        int rawTo = -1;
        while (b.pos < frame.length) {
            int t = (int) b.varint();
            if (t == (1 << 3 | BYTES)) {
                type = b.string();
            } else if (t == (2 << 3 | BYTES)) { // RawExtension
                int end = b.end(frame.length);
                while (b.pos < end) {
                    int rt = (int) b.varint();
                    if (rt == (1 << 3 | BYTES)) {
                        rawTo = b.end(end);
                        rawFrom = b.pos;
                        b.pos = rawTo;
                    } else {
                        b.skip(rt & 7, end);
                    }
                }
            } else {
                b.skip(t & 7, frame.length);
            }
        }
        if (type == null || rawFrom < 0) {
            throw new IOException("protobuf watch event without " + (type == null ? "a type" : "an object"));
        }
        // the object: k8s\0, then an Unknown
        if (rawTo - rawFrom < MAGIC.length || !java.util.Arrays.equals(frame, rawFrom, rawFrom + MAGIC.length,
                MAGIC, 0, MAGIC.length)) {
            throw new IOException("protobuf watch event object without the k8s prefix");
        }
        b.pos = rawFrom + MAGIC.length;
        String apiVersion = null;
        String kind = null;
        int objFrom = -1;
        int objTo = -1;
        while (b.pos < rawTo) {
            int t = (int) b.varint();
            if (t == (1 << 3 | BYTES)) { // TypeMeta
                int end = b.end(rawTo);
                while (b.pos < end) {
                    int mt = (int) b.varint();
                    switch (mt) {
                        case 1 << 3 | BYTES -> apiVersion = b.string();
                        case 2 << 3 | BYTES -> kind = b.string();
                        default -> b.skip(mt & 7, end);
                    }
                }
            } else if (t == (2 << 3 | BYTES)) {
                objTo = b.end(rawTo);
                objFrom = b.pos;
                b.pos = objTo;
            } else {
                b.skip(t & 7, rawTo);
            }
        }
        if (objFrom < 0) {
            throw new IOException("protobuf watch event of type " + type + " without the object's bytes");
        }
        if ("ERROR".equals(type) || "Status".equals(kind)) {
            return new Watch.Response<>(type, readStatus(b, objFrom, objTo));
        }
        V1Node node = readNode(b, objFrom, objTo);
        return new Watch.Response<>(type, node.apiVersion(apiVersion).kind(kind));
    }

    private static V1Status readStatus(Bytes b, int from, int to) throws IOException {
        V1Status s = new V1Status();
        b.pos = from;
        while (b.pos < to) {
            int t = (int) b.varint();
            switch (t) {
                case 2 << 3 | BYTES -> s.setStatus(b.string());
                case 3 << 3 | BYTES -> s.setMessage(b.string());
                case 4 << 3 | BYTES -> s.setReason(b.string());
                case 6 << 3 | VARINT -> s.setCode((int) b.varint());
                default -> b.skip(t & 7, to);
            }
        }
        return s;
    }

    /** A Node message in {@code b} from {@code from} to {@code to}: its metadata and spec, nothing else read. */
    V1Node readNode(Bytes b, int from, int to) throws IOException {
        V1ObjectMeta meta = new V1ObjectMeta();
        V1NodeSpec spec = new V1NodeSpec();
        b.pos = from;
        while (b.pos < to) {
            int t = (int) b.varint();
            if (t == (1 << 3 | BYTES)) {
                readMeta(b, b.end(to), meta);
            } else if (t == (2 << 3 | BYTES)) {
                readSpec(b, b.end(to), spec);
            } else {
                b.skip(t & 7, to); // status, as fast as a length can be read
            }
        }
        if (b.pos != to) {
            throw new IOException("protobuf Node overran its length at byte " + b.pos);
        }
        return new V1Node().metadata(meta).spec(spec);
    }

    private void readMeta(Bytes b, int end, V1ObjectMeta meta) throws IOException {
        Map<String, String> kept = null;
        while (b.pos < end) {
            int t = (int) b.varint();
            switch (t) {
                case 1 << 3 | BYTES -> meta.setName(b.string());
                case 5 << 3 | BYTES -> meta.setUid(b.string());
                case 6 << 3 | BYTES -> meta.setResourceVersion(b.string());
                case 8 << 3 | BYTES -> meta.setCreationTimestamp(time(b, b.end(end)));
                case 9 << 3 | BYTES -> meta.setDeletionTimestamp(time(b, b.end(end)));
                case 11 << 3 | BYTES -> {
                    int entryEnd = b.end(end);
                    if (labelKeys.isEmpty()) {
                        b.pos = entryEnd;
                    } else {
                        if (kept == null) {
                            kept = new HashMap<>(labelKeys.size() * 2);
                        }
                        readLabel(b, entryEnd, kept);
                    }
                }
                default -> b.skip(t & 7, end);
            }
        }
        if (kept != null) {
            meta.setLabels(kept);
        }
    }

    private void readLabel(Bytes b, int end, Map<String, String> kept) throws IOException {
        String key = null;
        int valueFrom = -1;
        int valueTo = -1;
        while (b.pos < end) {
            int t = (int) b.varint();
            if (t == (1 << 3 | BYTES)) {
                key = b.rawString();
            } else if (t == (2 << 3 | BYTES)) {
                valueTo = b.end(end);
                valueFrom = b.pos;
                b.pos = valueTo;
            } else {
                b.skip(t & 7, end);
            }
        }
        if (key != null && labelKeys.contains(key)) {
            // a label's value may be empty, and JSON keeps it: "" here too
            kept.put(key, valueFrom < 0 ? "" : new String(b.buf, valueFrom, valueTo - valueFrom,
                    StandardCharsets.UTF_8));
        }
    }

    private static void readSpec(Bytes b, int end, V1NodeSpec spec) throws IOException {
        List<String> cidrs = null;
        List<V1Taint> taints = null;
        while (b.pos < end) {
            int t = (int) b.varint();
            switch (t) {
                case 1 << 3 | BYTES -> spec.setPodCIDR(b.string());
                case 5 << 3 | BYTES -> {
                    if (taints == null) {
                        taints = new ArrayList<>(2);
                    }
                    taints.add(readTaint(b, b.end(end)));
                }
                case 7 << 3 | BYTES -> {
                    if (cidrs == null) {
                        cidrs = new ArrayList<>(2);
                    }
                    cidrs.add(b.rawString());
                }
                default -> b.skip(t & 7, end);
            }
        }
        spec.setPodCIDRs(cidrs);
        spec.setTaints(taints);
    }

    private static V1Taint readTaint(Bytes b, int end) throws IOException {
        V1Taint taint = new V1Taint();
        while (b.pos < end) {
            int t = (int) b.varint();
            switch (t) {
                case 1 << 3 | BYTES -> taint.setKey(b.rawString()); // key and effect: JSON writes them even empty
                case 2 << 3 | BYTES -> taint.setValue(b.string());
                case 3 << 3 | BYTES -> taint.setEffect(b.rawString());
                case 4 << 3 | BYTES -> taint.setTimeAdded(time(b, b.end(end)));
                default -> b.skip(t & 7, end);
            }
        }
        return taint;
    }

    /** A {@code meta.v1.Time} (seconds 1, nanos 2), to the second as its JSON form; Go's zero time is null. */
    private static OffsetDateTime time(Bytes b, int end) throws IOException {
        long seconds = 0;
        while (b.pos < end) {
            int t = (int) b.varint();
            if (t == (1 << 3 | VARINT)) {
                seconds = b.varint();
            } else {
                b.skip(t & 7, end);
            }
        }
        return seconds == ZERO_TIME_SECONDS ? null : OffsetDateTime.ofInstant(Instant.ofEpochSecond(seconds),
                ZoneOffset.UTC);
    }

    private static int tag(int field, int wireType) {
        return field << 3 | wireType;
    }

    /** A message in memory: a read position over {@code buf}. */
    static final class Bytes {
        final byte[] buf;
        int pos;
        private final int limit;

        Bytes(byte[] buf, int pos, int limit) {
            this.buf = buf;
            this.pos = pos;
            this.limit = limit;
        }

        long varint() throws IOException {
            long result = 0;
            for (int shift = 0; shift < 64; shift += 7) {
                if (pos >= limit) {
                    throw truncated();
                }
                byte x = buf[pos++];
                result |= (long) (x & 0x7f) << shift;
                if (x >= 0) {
                    return result;
                }
            }
            throw new IOException("malformed protobuf varint at byte " + pos);
        }

        /** Reads a length and returns where those bytes end, checked against {@code outer}. */
        int end(int outer) throws IOException {
            long length = varint();
            if (length < 0 || length > outer - pos) {
                throw new IOException("protobuf length " + length + " at byte " + pos + " runs past its message");
            }
            return pos + (int) length;
        }

        /** A string field, with "" (which Go writes and its JSON leaves out) as null. */
        String string() throws IOException {
            String s = rawString();
            return s.isEmpty() ? null : s;
        }

        String rawString() throws IOException {
            int to = end(limit);
            String s = new String(buf, pos, to - pos, StandardCharsets.UTF_8);
            pos = to;
            return s;
        }

        void skip(int wireType, int end) throws IOException {
            switch (wireType) {
                case VARINT -> varint();
                case FIXED64 -> pos += 8;
                case BYTES -> pos = end(end);
                case FIXED32 -> pos += 4;
                default -> throw new IOException("protobuf wire type " + wireType + " at byte " + pos
                        + " is not used by Kubernetes objects");
            }
            if (pos > end) {
                throw truncated();
            }
        }

        private IOException truncated() {
            return new IOException("protobuf message truncated at byte " + pos);
        }
    }

    /** The outer levels of a LIST answer, read from the network as they arrive, counting the bytes read. */
    private static final class Stream {
        private final BufferedSource in;
        long read;

        Stream(BufferedSource in) {
            this.in = in;
        }

        void magic() throws IOException {
            for (byte m : MAGIC) {
                if (in.exhausted() || in.readByte() != m) {
                    throw new IOException("protobuf answer without the k8s prefix");
                }
            }
        }

        long varint() throws IOException {
            long result = 0;
            for (int shift = 0; shift < 64; shift += 7) {
                byte x = in.readByte();
                read++;
                result |= (long) (x & 0x7f) << shift;
                if (x >= 0) {
                    return result;
                }
            }
            throw new IOException("malformed protobuf varint at byte " + read);
        }

        byte[] bytes(long length) throws IOException {
            if (length < 0 || length > Integer.MAX_VALUE - 16) {
                throw new IOException("protobuf field of " + length + " bytes at byte " + read);
            }
            byte[] b = in.readByteArray(length);
            read += length;
            return b;
        }

        void skip(int wireType) throws IOException {
            switch (wireType) {
                case VARINT -> varint();
                case FIXED64 -> skipBytes(8);
                case BYTES -> skipBytes(varint());
                case FIXED32 -> skipBytes(4);
                default -> throw new IOException("protobuf wire type " + wireType + " at byte " + read
                        + " is not used by Kubernetes objects");
            }
        }

        private void skipBytes(long n) throws IOException {
            in.skip(n);
            read += n;
        }
    }

    /** A watch frame's length, read from the stream: 4 bytes, big-endian. */
    static byte[] readFrame(BufferedSource in) throws IOException {
        int length = in.readInt();
        if (length < 0 || length > MAX_FRAME) {
            throw new IOException("protobuf watch frame of " + (length & 0xffffffffL) + " bytes: not a node event");
        }
        return in.readByteArray(length);
    }
}
