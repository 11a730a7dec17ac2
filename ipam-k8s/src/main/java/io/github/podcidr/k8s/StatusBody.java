package io.github.podcidr.k8s;

import com.google.protobuf.InvalidProtocolBufferException;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.models.V1Status;
import io.kubernetes.client.openapi.models.V1StatusCause;
import io.kubernetes.client.openapi.models.V1StatusDetails;
import io.kubernetes.client.proto.Meta;
import io.kubernetes.client.proto.Runtime;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import okhttp3.MediaType;
import okhttp3.ResponseBody;

/**
 * The body of a refused request as text. kube-apiserver writes the Status in the format the request accepted:
 * JSON is kept as it is; protobuf (the 4-byte {@code k8s\0} prefix, then a {@code runtime.Unknown} whose raw bytes
 * are the {@code Status}) is turned into the JSON the server would have written: status, message, reason, code and
 * details with their causes.
 */
final class StatusBody {
    /** What every protobuf-encoded Kubernetes object starts with. */
    private static final byte[] MAGIC = {'k', '8', 's', 0};

    private StatusBody() {
    }

    /** The body as text, or null if there is none. */
    static String text(ApiClient client, ResponseBody body) throws IOException {
        if (body == null) {
            return null;
        }
        MediaType type = body.contentType();
        byte[] bytes = body.bytes();
        if (type == null || !"vnd.kubernetes.protobuf".equals(type.subtype())) {
            return new String(bytes, StandardCharsets.UTF_8);
        }
        return fromProtobuf(client, bytes);
    }

    /** The JSON of a protobuf-encoded Status; a note with the size if the bytes are not one. */
    static String fromProtobuf(ApiClient client, byte[] bytes) {
        if (bytes.length < MAGIC.length || !Arrays.equals(bytes, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
            return "(a protobuf answer of " + bytes.length + " bytes without the k8s prefix)";
        }
        try {
            Runtime.Unknown unknown = Runtime.Unknown.parseFrom(
                    ByteBuffer.wrap(bytes, MAGIC.length, bytes.length - MAGIC.length));
            Meta.Status s = Meta.Status.parseFrom(unknown.getRaw());
            // the fields the server leaves out of its JSON when empty are left out here too
            V1Status status = new V1Status().apiVersion("v1").kind("Status").status(orNull(s.getStatus()))
                    .message(orNull(s.getMessage())).reason(orNull(s.getReason()))
                    .code(s.hasCode() ? s.getCode() : null);
            if (s.hasDetails()) {
                Meta.StatusDetails d = s.getDetails();
                V1StatusDetails details = new V1StatusDetails().name(orNull(d.getName())).group(orNull(d.getGroup()))
                        .kind(orNull(d.getKind())).causes(null);
                d.getCausesList().forEach(c -> details.addCausesItem(new V1StatusCause().reason(orNull(c.getReason()))
                        .message(orNull(c.getMessage())).field(orNull(c.getField()))));
                status.details(details);
            }
            return client.getJSON().serialize(status);
        } catch (InvalidProtocolBufferException e) {
            return "(an unreadable protobuf Status of " + bytes.length + " bytes: " + e.getMessage() + ")";
        }
    }

    private static String orNull(String s) {
        return s == null || s.isEmpty() ? null : s;
    }
}
