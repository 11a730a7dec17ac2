package io.github.podcidr.k8s;

import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import io.kubernetes.client.openapi.models.V1Node;
import io.kubernetes.client.openapi.models.V1NodeSpec;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1Status;
import io.kubernetes.client.openapi.models.V1Taint;
import io.kubernetes.client.util.Watch;
import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import okhttp3.MediaType;
import okhttp3.ResponseBody;

/**
 * Reads Nodes, NodeLists and node watch events straight from the JSON stream into slim {@link V1Node}s, keeping the
 * same fields as {@link NodeSlimmer} and skipping the rest (status, images, annotations, managedFields) without
 * building it. A realistic node is 10 to 20 KB, nine tenths of it status; the client's own decoding parses all of it
 * twice (into a tree, then into the models), which is what made a LIST of 100,000 nodes slow and memory-hungry.
 */
final class SlimNodeCodec {
    /** A page of a NodeList; {@code remainingItemCount} is null when the server did not say. */
    record Page(List<V1Node> items, String resourceVersion, String continueToken, Long remainingItemCount) {
    }

    /**
     * What node LISTs and watches ask for: protobuf, which kube-apiserver writes at a fraction of the CPU of JSON and
     * {@link SlimNodeProtobuf} reads without touching a node's status; else JSON (the simulator, and servers without
     * protobuf, answer JSON).
     */
    static final String ACCEPT = "application/vnd.kubernetes.protobuf, application/json;q=0.9";

    private final Set<String> labelKeys;
    private final SlimNodeProtobuf protobuf;

    SlimNodeCodec(Set<String> labelKeys) {
        this.labelKeys = Set.copyOf(labelKeys);
        this.protobuf = new SlimNodeProtobuf(labelKeys);
    }

    /** The reader of the same nodes from protobuf answers. */
    SlimNodeProtobuf protobuf() {
        return protobuf;
    }

    /** A LIST answer in either format, by its content type. */
    Page readList(ResponseBody body) throws IOException {
        if (isProtobuf(body.contentType())) {
            return protobuf.readList(body.source());
        }
        return readList(body.charStream());
    }

    /** Whether an answer is in kube-apiserver's protobuf format. */
    static boolean isProtobuf(MediaType type) {
        return type != null && SlimNodeProtobuf.SUBTYPE.equals(type.subtype());
    }

    Page readList(Reader in) throws IOException {
        JsonReader r = new JsonReader(in);
        List<V1Node> items = new ArrayList<>();
        String rv = null;
        String cont = null;
        Long remaining = null;
        r.beginObject();
        while (r.hasNext()) {
            String name = r.nextName();
            if (name.equals("items") && r.peek() == JsonToken.BEGIN_ARRAY) {
                r.beginArray();
                while (r.hasNext()) {
                    items.add(readNode(r));
                }
                r.endArray();
            } else if (name.equals("metadata") && r.peek() == JsonToken.BEGIN_OBJECT) {
                r.beginObject();
                while (r.hasNext()) {
                    String field = r.nextName();
                    if (field.equals("resourceVersion")) {
                        rv = string(r);
                    } else if (field.equals("continue")) {
                        cont = string(r);
                    } else if (field.equals("remainingItemCount") && r.peek() == JsonToken.NUMBER) {
                        remaining = r.nextLong();
                    } else {
                        r.skipValue();
                    }
                }
                r.endObject();
            } else {
                r.skipValue();
            }
        }
        r.endObject();
        return new Page(items, rv, cont, remaining);
    }

    /** One line of a watch stream: {"type":..., "object":{...}}; ERROR events carry a Status. */
    Watch.Response<V1Node> readEvent(String line) throws IOException {
        JsonReader r = new JsonReader(new StringReader(line));
        String type = null;
        String objectJson = null;
        V1Node node = null;
        r.beginObject();
        while (r.hasNext()) {
            String name = r.nextName();
            if (name.equals("type")) {
                type = string(r);
            } else if (name.equals("object")) {
                if (type != null && !type.equals("ERROR")) {
                    node = readNode(r);
                } else {
                    // type comes first in practice; keep the raw object if it did not
                    objectJson = com.google.gson.JsonParser.parseReader(r).toString();
                }
            } else {
                r.skipValue();
            }
        }
        r.endObject();
        if ("ERROR".equals(type)) {
            return new Watch.Response<>(type, readStatus(objectJson));
        }
        if (node == null && objectJson != null) {
            node = readNode(new JsonReader(new StringReader(objectJson)));
        }
        return new Watch.Response<>(type, node);
    }

    private static V1Status readStatus(String json) throws IOException {
        V1Status s = new V1Status();
        if (json == null) {
            return s;
        }
        JsonReader r = new JsonReader(new StringReader(json));
        r.beginObject();
        while (r.hasNext()) {
            switch (r.nextName()) {
                case "code" -> s.setCode(r.peek() == JsonToken.NUMBER ? r.nextInt() : skipNull(r));
                case "reason" -> s.setReason(string(r));
                case "message" -> s.setMessage(string(r));
                case "status" -> s.setStatus(string(r));
                default -> r.skipValue();
            }
        }
        r.endObject();
        return s;
    }

    private static Integer skipNull(JsonReader r) throws IOException {
        r.skipValue();
        return null;
    }

    V1Node readNode(JsonReader r) throws IOException {
        V1Node node = new V1Node();
        V1ObjectMeta meta = new V1ObjectMeta();
        V1NodeSpec spec = new V1NodeSpec();
        r.beginObject();
        while (r.hasNext()) {
            String name = r.nextName();
            switch (name) {
                case "apiVersion" -> node.setApiVersion(string(r));
                case "kind" -> node.setKind(string(r));
                case "metadata" -> readMeta(r, meta);
                case "spec" -> readSpec(r, spec);
                default -> r.skipValue();
            }
        }
        r.endObject();
        // the models start with empty lists; NodeSlimmer's form has null for "none", so both compare equal
        if (spec.getPodCIDRs() != null && spec.getPodCIDRs().isEmpty()) {
            spec.setPodCIDRs(null);
        }
        if (spec.getTaints() != null && spec.getTaints().isEmpty()) {
            spec.setTaints(null);
        }
        return node.metadata(meta).spec(spec);
    }

    private void readMeta(JsonReader r, V1ObjectMeta meta) throws IOException {
        if (r.peek() != JsonToken.BEGIN_OBJECT) {
            r.skipValue();
            return;
        }
        r.beginObject();
        while (r.hasNext()) {
            switch (r.nextName()) {
                case "name" -> meta.setName(string(r));
                case "uid" -> meta.setUid(string(r));
                case "resourceVersion" -> meta.setResourceVersion(string(r));
                case "creationTimestamp" -> meta.setCreationTimestamp(time(r));
                case "deletionTimestamp" -> meta.setDeletionTimestamp(time(r));
                case "labels" -> meta.setLabels(readLabels(r));
                default -> r.skipValue();
            }
        }
        r.endObject();
    }

    private Map<String, String> readLabels(JsonReader r) throws IOException {
        if (r.peek() != JsonToken.BEGIN_OBJECT) {
            r.skipValue();
            return null;
        }
        Map<String, String> kept = labelKeys.isEmpty() ? null : new HashMap<>(labelKeys.size() * 2);
        r.beginObject();
        while (r.hasNext()) {
            String key = r.nextName();
            if (kept != null && labelKeys.contains(key)) {
                kept.put(key, string(r));
            } else {
                r.skipValue();
            }
        }
        r.endObject();
        return kept;
    }

    private static void readSpec(JsonReader r, V1NodeSpec spec) throws IOException {
        if (r.peek() != JsonToken.BEGIN_OBJECT) {
            r.skipValue();
            return;
        }
        r.beginObject();
        while (r.hasNext()) {
            switch (r.nextName()) {
                case "podCIDR" -> spec.setPodCIDR(string(r));
                case "podCIDRs" -> {
                    List<String> list = strings(r);
                    spec.setPodCIDRs(list == null || list.isEmpty() ? null : list);
                }
                case "taints" -> {
                    List<V1Taint> taints = taints(r);
                    spec.setTaints(taints == null || taints.isEmpty() ? null : taints);
                }
                default -> r.skipValue();
            }
        }
        r.endObject();
    }

    private static List<String> strings(JsonReader r) throws IOException {
        if (r.peek() != JsonToken.BEGIN_ARRAY) {
            r.skipValue();
            return null;
        }
        List<String> out = new ArrayList<>(2);
        r.beginArray();
        while (r.hasNext()) {
            out.add(string(r));
        }
        r.endArray();
        return out;
    }

    private static List<V1Taint> taints(JsonReader r) throws IOException {
        if (r.peek() != JsonToken.BEGIN_ARRAY) {
            r.skipValue();
            return null;
        }
        List<V1Taint> out = new ArrayList<>(2);
        r.beginArray();
        while (r.hasNext()) {
            V1Taint t = new V1Taint();
            r.beginObject();
            while (r.hasNext()) {
                switch (r.nextName()) {
                    case "key" -> t.setKey(string(r));
                    case "value" -> t.setValue(string(r));
                    case "effect" -> t.setEffect(string(r));
                    case "timeAdded" -> t.setTimeAdded(time(r));
                    default -> r.skipValue();
                }
            }
            r.endObject();
            out.add(t);
        }
        r.endArray();
        return out;
    }

    private static String string(JsonReader r) throws IOException {
        if (r.peek() == JsonToken.NULL) {
            r.nextNull();
            return null;
        }
        if (r.peek() != JsonToken.STRING) {
            r.skipValue();
            return null;
        }
        return r.nextString();
    }

    private static OffsetDateTime time(JsonReader r) throws IOException {
        String s = string(r);
        return s == null || s.isEmpty() ? null : OffsetDateTime.parse(s);
    }
}
