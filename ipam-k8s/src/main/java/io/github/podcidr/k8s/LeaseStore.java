package io.github.podcidr.k8s;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.CoordinationV1Api;
import io.kubernetes.client.openapi.models.V1Lease;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import okhttp3.Call;
import okhttp3.MediaType;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;

/**
 * Reads and writes one {@code coordination.k8s.io/v1} Lease as JSON, changing only the fields of the election
 * record. An update is the object as read, with its resourceVersion (so that two replicas that read the same Lease
 * cannot both write it: the second gets 409), and with only {@code holderIdentity}, {@code leaseDurationSeconds},
 * {@code acquireTime}, {@code renewTime} and {@code leaseTransitions} changed: labels, annotations, finalizers, owner
 * references, fields this client does not know ({@code spec.strategy} and {@code spec.preferredHolder} of
 * coordinated leader election, 1.31+) and fields added later stay as the server sent them, as client-go keeps them.
 * The client's generated models are used only to build each request (path, authentication); the body is this JSON.
 *
 * <p>Every field of a Lease's spec is optional in the API: a missing {@code leaseTransitions} or
 * {@code leaseDurationSeconds} reads as 0 and a missing holder as free, as client-go reads them.
 */
final class LeaseStore {
    private static final MediaType JSON = MediaType.get("application/json");
    /** Kubernetes' MicroTime: RFC 3339 with microseconds, always in UTC here. */
    private static final DateTimeFormatter MICRO_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX");

    private final String namespace;
    private final String name;
    private final ApiClient client;
    private final CoordinationV1Api api;

    LeaseStore(String namespace, String name, ApiClient client) {
        this.namespace = namespace;
        this.name = name;
        this.client = client;
        this.api = new CoordinationV1Api(client);
    }

    /**
     * A Lease as the server sent it. Immutable: {@link #with} returns a changed copy.
     *
     * @param json the whole object, never changed after construction
     */
    record Lease(JsonObject json) {
        /** The holder's identity; empty when nobody holds the Lease (missing, null or {@code ""}). */
        String holder() {
            JsonElement h = spec().get("holderIdentity");
            return h == null || h.isJsonNull() ? "" : h.getAsString();
        }

        int leaseDurationSeconds() {
            return integer("leaseDurationSeconds");
        }

        int transitions() {
            return integer("leaseTransitions");
        }

        Instant acquireTime() {
            return time("acquireTime");
        }

        Instant renewTime() {
            return time("renewTime");
        }

        String resourceVersion() {
            JsonElement meta = json.get("metadata");
            JsonElement rv = meta == null || !meta.isJsonObject() ? null : meta.getAsJsonObject().get("resourceVersion");
            return rv == null || rv.isJsonNull() ? "" : rv.getAsString();
        }

        /** The spec, or an empty object for a Lease without one. */
        JsonObject spec() {
            JsonElement s = json.get("spec");
            return s != null && s.isJsonObject() ? s.getAsJsonObject() : new JsonObject();
        }

        /** Whether the election record (the spec) is the same in both: what "the record changed" means. */
        boolean sameRecord(Lease other) {
            return other != null && spec().equals(other.spec());
        }

        /** A copy with the spec changed by {@code change}; everything else as read. */
        Lease with(Consumer<JsonObject> change) {
            JsonObject copy = json.deepCopy();
            if (!copy.has("spec") || !copy.get("spec").isJsonObject()) {
                copy.add("spec", new JsonObject());
            }
            change.accept(copy.getAsJsonObject("spec"));
            return new Lease(copy);
        }

        private int integer(String field) {
            JsonElement v = spec().get(field);
            try {
                return v == null || v.isJsonNull() ? 0 : v.getAsInt();
            } catch (RuntimeException e) {
                return 0;
            }
        }

        /** A time of the record, or null when missing or not RFC 3339 (written by hand or by another tool). */
        private Instant time(String field) {
            JsonElement v = spec().get(field);
            try {
                return v == null || v.isJsonNull() ? null : OffsetDateTime.parse(v.getAsString()).toInstant();
            } catch (RuntimeException e) {
                return null;
            }
        }
    }

    /** Sets the election record's fields of a spec; {@code holder} null removes the holder. */
    static void record(JsonObject spec, String holder, int leaseDurationSeconds, Instant acquired, Instant renewed,
                       int transitions) {
        spec.addProperty("holderIdentity", holder);
        spec.addProperty("leaseDurationSeconds", leaseDurationSeconds);
        spec.addProperty("acquireTime", microTime(acquired));
        spec.addProperty("renewTime", microTime(renewed));
        spec.addProperty("leaseTransitions", transitions);
    }

    static String microTime(Instant t) {
        return OffsetDateTime.ofInstant(t, ZoneOffset.UTC).format(MICRO_TIME);
    }

    /**
     * Reads the Lease.
     *
     * @param timeout the whole call's limit, or zero for none
     * @return the Lease, or null if there is none (404)
     * @throws ApiException with the HTTP code, or 0 when there was no answer
     */
    Lease get(Duration timeout) throws ApiException {
        Request request = api.readNamespacedLease(name, namespace).buildCall(null).request();
        Answer a = send(request, timeout);
        if (a.code == 404) {
            return null;
        }
        return a.lease();
    }

    /**
     * Creates the Lease with this spec.
     *
     * @param spec the spec
     * @param timeout the whole call's limit, or zero for none
     * @return the Lease created, or null if another replica created it first (409)
     * @throws ApiException with the HTTP code of any other refusal, or 0 when there was no answer
     */
    Lease create(JsonObject spec, Duration timeout) throws ApiException {
        JsonObject lease = new JsonObject();
        lease.addProperty("apiVersion", "coordination.k8s.io/v1");
        lease.addProperty("kind", "Lease");
        JsonObject meta = new JsonObject();
        meta.addProperty("name", name);
        meta.addProperty("namespace", namespace);
        lease.add("metadata", meta);
        lease.add("spec", spec);
        Request built = api.createNamespacedLease(namespace, new V1Lease()).buildCall(null).request();
        Answer a = send(built.newBuilder().post(RequestBody.create(lease.toString(), JSON)).build(), timeout);
        return a.code == 409 ? null : a.leaseOr404();
    }

    /**
     * Replaces the Lease with {@code next}, a changed copy of a Lease as read: it carries the resourceVersion read,
     * so the server refuses it (409) if anyone changed the Lease since.
     *
     * @param next the Lease to store
     * @param timeout the whole call's limit, or zero for none
     * @return the Lease as stored, or null on 409 (changed since it was read)
     * @throws ApiException with the HTTP code of any other refusal, or 0 when there was no answer
     */
    Lease update(Lease next, Duration timeout) throws ApiException {
        Request built = api.replaceNamespacedLease(name, namespace, new V1Lease()).buildCall(null).request();
        Answer a = send(built.newBuilder().put(RequestBody.create(next.json().toString(), JSON)).build(), timeout);
        return a.code == 409 ? null : a.leaseOr404();
    }

    private record Answer(int code, String body) {
        /** The Lease answered; a 404 here (the namespace or the Lease gone) is a refusal like any other. */
        Lease leaseOr404() throws ApiException {
            if (code == 404) {
                throw new ApiException("not found", code, null, body);
            }
            return lease();
        }

        Lease lease() throws ApiException {
            try {
                return new Lease(JsonParser.parseString(body).getAsJsonObject());
            } catch (RuntimeException e) {
                throw new ApiException("the answer is not a Lease: " + e.getMessage(), e, code, null, body);
            }
        }
    }

    private Answer send(Request request, Duration timeout) throws ApiException {
        Call call = client.getHttpClient().newCall(request.newBuilder().header("Accept", "application/json").build());
        if (!timeout.isZero()) {
            call.timeout().timeout(Math.max(1, timeout.toNanos()), TimeUnit.NANOSECONDS);
        }
        try (Response response = call.execute()) {
            String body = response.body() == null ? "" : response.body().string();
            if (response.isSuccessful() || response.code() == 404 || response.code() == 409) {
                return new Answer(response.code(), body);
            }
            throw new ApiException(response.message(), response.code(), response.headers().toMultimap(), body);
        } catch (IOException | RuntimeException e) {
            throw new ApiException(e); // code 0: no answer (or an answer that is not a Lease)
        }
    }

    String describe() {
        return namespace + "/" + name;
    }
}
