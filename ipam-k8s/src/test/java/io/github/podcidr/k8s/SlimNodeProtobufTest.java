package io.github.podcidr.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.protobuf.ByteString;
import io.kubernetes.client.openapi.models.V1Node;
import io.kubernetes.client.openapi.models.V1NodeSpec;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1Taint;
import io.kubernetes.client.proto.Meta;
import io.kubernetes.client.proto.Resource;
import io.kubernetes.client.proto.Runtime;
import io.kubernetes.client.proto.V1;
import io.kubernetes.client.util.Watch;
import java.io.IOException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import okio.Buffer;
import okio.ForwardingSource;
import okio.Okio;
import okio.Source;

/**
 * {@link SlimNodeProtobuf} against nodes built and encoded by client-java-proto's generated code, an independent
 * encoder: every node reads as what its fields say, whatever status, annotations and managed fields come with it,
 * in LIST answers of any size and in watch frames; and a cut answer fails with an {@link IOException}, never with
 * a wrong node. That both formats of the real server read the same is checked in {@code WritePathRealIT}.
 */
class SlimNodeProtobufTest {
    private static final Set<String> KEYS = Set.of("topology.kubernetes.io/zone", "pool");
    private static final long GO_ZERO_TIME = -62_135_596_800L;
    private static final byte[] MAGIC = {'k', '8', 's', 0};

    private final SlimNodeProtobuf reader = new SlimNodeProtobuf(KEYS);

    @Property(tries = 200)
    void aListReadsAsItsNodesSay(@ForAll("nodeLists") List<V1.Node> nodes,
            @ForAll("strings") String rv, @ForAll("strings") String cont, @ForAll boolean withRemaining,
            @ForAll @IntRange(min = 1, max = 20_000) int chunk) throws IOException {
        Meta.ListMeta.Builder meta = Meta.ListMeta.newBuilder().setSelfLink("").setResourceVersion(rv)
                .setContinue(cont);
        if (withRemaining) {
            meta.setRemainingItemCount(nodes.size() * 7L);
        }
        V1.NodeList list = V1.NodeList.newBuilder().setMetadata(meta).addAllItems(nodes).build();
        // as from the network: arriving in chunks of any size, so that fields and skips straddle what is buffered
        SlimNodeCodec.Page page = reader.readList(Okio.buffer(trickle(
                new Buffer().write(envelope("NodeList", list.toByteString())), chunk)));
        List<V1Node> expected = new ArrayList<>();
        nodes.forEach(n -> expected.add(expected(n)));
        assertEquals(expected, page.items());
        assertEquals(emptyToNull(rv), page.resourceVersion());
        assertEquals(emptyToNull(cont), page.continueToken());
        assertEquals(withRemaining ? Long.valueOf(nodes.size() * 7L) : null, page.remainingItemCount());
    }

    @Property(tries = 300)
    void aWatchFrameReadsAsItsNodeSays(@ForAll("nodes") V1.Node node,
            @ForAll("eventTypes") String type) throws IOException {
        Buffer stream = new Buffer().write(frame(type, envelope("Node", node.toByteString())));
        Watch.Response<V1Node> event = reader.readEvent(SlimNodeProtobuf.readFrame(stream));
        assertEquals(type, event.type);
        assertEquals(expected(node).apiVersion("v1").kind("Node"), event.object);
    }

    @Property(tries = 100)
    void anErrorEventCarriesItsStatus(@IntRange(min = 400, max = 599) @ForAll int code,
            @ForAll("strings") String reason, @ForAll("strings") String message) throws IOException {
        Meta.Status status = Meta.Status.newBuilder().setMetadata(Meta.ListMeta.getDefaultInstance())
                .setStatus("Failure").setMessage(message).setReason(reason).setCode(code).build();
        Watch.Response<V1Node> event = reader.readEvent(SlimNodeProtobuf.readFrame(
                new Buffer().write(frame("ERROR", envelope("Status", status.toByteString())))));
        assertEquals("ERROR", event.type);
        assertEquals(code, event.status.getCode());
        assertEquals(emptyToNull(reason), event.status.getReason());
        assertEquals(emptyToNull(message), event.status.getMessage());
        assertEquals("Failure", event.status.getStatus());
    }

    @Property(tries = 300)
    void aCutAnswerFailsWithAnIoError(@ForAll("fewNodes") List<V1.Node> nodes,
            @ForAll @IntRange(min = 0, max = 1_000_000) int cutAt, @ForAll boolean asList) {
        byte[] whole = asList
                ? envelope("NodeList", V1.NodeList.newBuilder().setMetadata(Meta.ListMeta.newBuilder()
                        .setResourceVersion("1")).addAllItems(nodes).build().toByteString())
                : frame("MODIFIED", envelope("Node", nodes.get(0).toByteString()));
        // a list's envelope ends with two empty strings (4 bytes) after the NodeList: a cut there loses no node
        byte[] cut = Arrays.copyOf(whole, cutAt % (asList ? whole.length - 4 : whole.length));
        if (asList) {
            assertThrows(IOException.class, () -> reader.readList(new Buffer().write(cut)));
        } else {
            assertThrows(IOException.class, () -> reader.readEvent(SlimNodeProtobuf.readFrame(
                    new Buffer().write(cut))));
        }
    }

    /** A source that hands out {@code in} at most {@code chunk} bytes at a time. */
    static Source trickle(Buffer in, int chunk) {
        return new ForwardingSource(in) {
            @Override
            public long read(Buffer sink, long byteCount) throws IOException {
                return super.read(sink, Math.min(byteCount, chunk));
            }
        };
    }

    /** What the reader should make of a node: its fields, with Go's empty strings and zero time as absent. */
    private static V1Node expected(V1.Node n) {
        Meta.ObjectMeta m = n.getMetadata();
        V1ObjectMeta meta = new V1ObjectMeta().name(emptyToNull(m.getName())).uid(emptyToNull(m.getUid()))
                .resourceVersion(emptyToNull(m.getResourceVersion()))
                .creationTimestamp(m.hasCreationTimestamp() ? time(m.getCreationTimestamp()) : null)
                .deletionTimestamp(m.hasDeletionTimestamp() ? time(m.getDeletionTimestamp()) : null);
        if (m.getLabelsCount() > 0) {
            Map<String, String> kept = new HashMap<>();
            m.getLabelsMap().forEach((k, v) -> {
                if (KEYS.contains(k)) {
                    kept.put(k, v);
                }
            });
            meta.setLabels(kept);
        }
        V1.NodeSpec s = n.getSpec();
        V1NodeSpec spec = new V1NodeSpec().podCIDR(emptyToNull(s.getPodCIDR()));
        spec.setPodCIDRs(s.getPodCIDRsCount() == 0 ? null : new ArrayList<>(s.getPodCIDRsList()));
        List<V1Taint> taints = null;
        for (V1.Taint t : s.getTaintsList()) {
            if (taints == null) {
                taints = new ArrayList<>();
            }
            taints.add(new V1Taint().key(t.getKey()).value(emptyToNull(t.getValue())).effect(t.getEffect())
                    .timeAdded(t.hasTimeAdded() ? time(t.getTimeAdded()) : null));
        }
        spec.setTaints(taints);
        return new V1Node().metadata(meta).spec(spec);
    }

    private static OffsetDateTime time(Meta.Time t) {
        return t.getSeconds() == GO_ZERO_TIME ? null
                : OffsetDateTime.ofInstant(Instant.ofEpochSecond(t.getSeconds()), ZoneOffset.UTC);
    }

    private static String emptyToNull(String s) {
        return s.isEmpty() ? null : s;
    }

    /** {@code k8s\0} and a runtime.Unknown, with the empty encoding fields Go writes after the raw bytes. */
    static byte[] envelope(String kind, ByteString raw) {
        Runtime.Unknown u = Runtime.Unknown.newBuilder()
                .setTypeMeta(Runtime.TypeMeta.newBuilder().setApiVersion("v1").setKind(kind))
                .setRaw(raw).setContentEncoding("").setContentType("").build();
        return ByteString.copyFrom(MAGIC).concat(u.toByteString()).toByteArray();
    }

    /** A watch frame: the 4-byte length, then the WatchEvent. */
    static byte[] frame(String type, byte[] object) {
        byte[] event = Meta.WatchEvent.newBuilder().setType(type)
                .setObject(Runtime.RawExtension.newBuilder().setRaw(ByteString.copyFrom(object))).build()
                .toByteArray();
        return new Buffer().writeInt(event.length).write(event).readByteArray();
    }

    @Provide
    Arbitrary<String> strings() {
        return Arbitraries.oneOf(Arbitraries.just(""), Arbitraries.strings().ofMaxLength(40),
                Arbitraries.strings().withCharRange('a', 'z').ofMinLength(1).ofMaxLength(12));
    }

    @Provide
    Arbitrary<String> eventTypes() {
        return Arbitraries.of("ADDED", "MODIFIED", "DELETED", "BOOKMARK");
    }

    @Provide
    Arbitrary<List<V1.Node>> nodeLists() {
        return nodes().list().ofMaxSize(40);
    }

    @Provide
    Arbitrary<List<V1.Node>> fewNodes() {
        return nodes().list().ofMinSize(1).ofMaxSize(5);
    }

    @Provide
    Arbitrary<V1.Node> nodes() {
        Arbitrary<Meta.Time> times = Arbitraries.oneOf(Arbitraries.just(GO_ZERO_TIME),
                Arbitraries.longs().between(0, 4_102_444_800L)).flatMap(sec -> Arbitraries.integers()
                        .between(0, 999_999_999).map(nanos -> Meta.Time.newBuilder().setSeconds(sec)
                                .setNanos(nanos).build()));
        Arbitrary<Map<String, String>> labels = Arbitraries.maps(
                Arbitraries.oneOf(Arbitraries.of("topology.kubernetes.io/zone", "pool", "kubernetes.io/os"),
                        Arbitraries.strings().alpha().ofMinLength(1).ofMaxLength(20)),
                strings()).ofMaxSize(6);
        Arbitrary<V1.Taint> taints = Combinators.combine(strings(), strings(),
                Arbitraries.of("NoSchedule", "NoExecute", "PreferNoSchedule"),
                times.injectNull(0.5)).as((k, v, e, t) -> {
                    V1.Taint.Builder b = V1.Taint.newBuilder().setKey(k).setValue(v).setEffect(e);
                    return (t == null ? b : b.setTimeAdded(t)).build();
                });
        Arbitrary<Meta.ObjectMeta> metas = Combinators.combine(strings(), strings(), strings(), times,
                times.injectNull(0.8), labels, Arbitraries.integers().between(0, 3))
                .as((name, uid, rv, created, deleted, ls, extra) -> {
                    Meta.ObjectMeta.Builder b = Meta.ObjectMeta.newBuilder().setName(name).setGenerateName("")
                            .setNamespace("").setSelfLink("").setUid(uid).setResourceVersion(rv).setGeneration(0)
                            .setCreationTimestamp(created).putAllLabels(ls);
                    if (deleted != null) {
                        b.setDeletionTimestamp(deleted).setDeletionGracePeriodSeconds(0).addFinalizers("f");
                    }
                    for (int i = 0; i < extra; i++) {
                        b.putAnnotations("note/" + i, "x".repeat(i * 500));
                        b.addManagedFields(Meta.ManagedFieldsEntry.newBuilder().setManager("kubelet")
                                .setOperation("Update").setApiVersion("v1").setTime(created)
                                .setFieldsType("FieldsV1").setFieldsV1(Meta.FieldsV1.newBuilder()
                                        .setRaw(ByteString.copyFromUtf8("{\"f:status\":{}}".repeat(i * 40)))));
                    }
                    return b.build();
                });
        Arbitrary<V1.NodeSpec> specs = Combinators.combine(strings(), strings().list().ofMaxSize(2),
                taints.list().ofMaxSize(3), Arbitraries.of(true, false))
                .as((cidr, cidrs, ts, unschedulable) -> V1.NodeSpec.newBuilder().setPodCIDR(cidr)
                        .addAllPodCIDRs(cidrs).setProviderID("tencentcloud:///ap-x/ins-1")
                        .setUnschedulable(unschedulable).addAllTaints(ts).build());
        Arbitrary<V1.NodeStatus> statuses = Arbitraries.integers().between(0, 30).map(images -> {
            V1.NodeStatus.Builder b = V1.NodeStatus.newBuilder()
                    .putCapacity("cpu", Resource.Quantity.newBuilder().setString("4").build())
                    .setDaemonEndpoints(V1.NodeDaemonEndpoints.newBuilder().setKubeletEndpoint(
                            V1.DaemonEndpoint.newBuilder().setPort(10250)))
                    .addConditions(V1.NodeCondition.newBuilder().setType("Ready").setStatus("True")
                            .setReason("KubeletReady").setMessage("kubelet is posting ready status"));
            for (int i = 0; i < images; i++) {
                b.addImages(V1.ContainerImage.newBuilder().addNames("registry.example/app-" + i + ":1.0")
                        .setSizeBytes(1_000_000L * i));
            }
            return b.build();
        });
        return Combinators.combine(metas, specs, statuses)
                .as((meta, spec, status) -> V1.Node.newBuilder().setMetadata(meta).setSpec(spec).setStatus(status)
                        .build());
    }
}
