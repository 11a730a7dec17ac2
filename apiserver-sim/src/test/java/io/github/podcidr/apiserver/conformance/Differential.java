package io.github.podcidr.apiserver.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.github.podcidr.apiserver.ApiServerSim;
import io.github.podcidr.apiserver.real.RealControlPlane;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Sends one request to both servers, apiserver-sim and a real kube-apiserver, and compares the answers: status
 * code, and the JSON body with only server-chosen values normalised (uids, timestamps, resourceVersions, the
 * continue tokens that embed them, and the fields only the real server keeps: managedFields, selfLink).
 *
 * <p>Use: {@code Answer[] both = diff.send("POST", "/api/v1/nodes", JSON, body); diff.assertSame("create", both);}
 * or {@link #check} which records the outcome for the suite's summary instead of failing at once.
 */
public final class Differential implements AutoCloseable {
    public static final String JSON = "application/json";
    public static final String JSON_PATCH = "application/json-patch+json";
    public static final String MERGE_PATCH = "application/merge-patch+json";
    public static final String STRATEGIC_PATCH = "application/strategic-merge-patch+json";

    private static final ObjectMapper MAPPER = new ObjectMapper();
    /** Fields whose value each server chooses for itself: compared only for presence. */
    private static final Set<String> VOLATILE = Set.of("uid", "resourceVersion", "creationTimestamp",
            "deletionTimestamp", "renewTime", "acquireTime", "eventTime", "firstTimestamp", "lastTimestamp",
            "continue", "time", "lastHeartbeatTime", "lastTransitionTime");
    /** Fields only the real server writes, and that we do not simulate (see apiserver-sim/README.md). */
    private static final Set<String> REAL_ONLY = Set.of("managedFields", "selfLink");
    private static final Pattern UID = Pattern.compile(
            "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
    private static final Pattern RESOURCE_VERSION_IN_TEXT = Pattern.compile("(?i)(resource ?version[\"=: ]*)\\d+");
    /** The oldest retained version in {@code too old resource version: 5 (230)}. */
    private static final Pattern OLDEST_IN_TOO_OLD = Pattern.compile("(too old resource version: <rv>) \\(\\d+\\)");

    /** One server's answer. {@code json} is null when the body is not JSON. */
    public record Answer(int code, String contentType, String body, JsonNode json) {
        /** The normalised JSON, or the body as text when it is not JSON. */
        public JsonNode normalised() {
            return normalised(Set.of());
        }

        /** As {@link #normalised()}, comparing the volatile fields named in {@code exact} as they are. */
        public JsonNode normalised(Set<String> exact) {
            return json == null ? TextNode.valueOf(body) : normalise(json.deepCopy(), exact);
        }
    }

    /** The outcome of one scenario. */
    public record Outcome(String scenario, boolean same, String detail) {
    }

    private final ApiServerSim sim;
    private final RealControlPlane real;
    private final HttpClient simHttp = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final HttpClient realHttp;
    private final List<Outcome> outcomes = new ArrayList<>();
    /** Volatile fields this instance compares as they are (values the test itself sent). */
    private final Set<String> exact = new java.util.HashSet<>();

    /**
     * Both servers. The sim is started here; the real one is the caller's (it takes ~6 s to start).
     *
     * @param real a running control plane
     */
    public Differential(RealControlPlane real) {
        this.real = real;
        this.sim = ApiServerSim.start();
        this.realHttp = HttpClient.newBuilder().sslContext(real.sslContext()).version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();
    }

    /**
     * Compares these normally volatile fields exactly from now on, e.g. a Lease's {@code renewTime} when the test
     * sends fixed times and wants to see how each server writes them back.
     */
    public Differential compareExactly(String... fields) {
        exact.addAll(List.of(fields));
        return this;
    }

    /** The simulator (for direct access, e.g. faults). */
    public ApiServerSim sim() {
        return sim;
    }

    /** The real control plane. */
    public RealControlPlane real() {
        return real;
    }

    /**
     * Sends the same request to both servers, the sim first.
     *
     * @return {sim's answer, real server's answer}
     */
    public Answer[] send(String method, String path, String contentType, String body) {
        return new Answer[] {
            send(simHttp, sim.baseUrl(), null, method, path, contentType, body),
            send(realHttp, real.baseUrl(), real.adminToken(), method, path, contentType, body)};
    }

    /** Two answers obtained separately (e.g. each with its own continue token), in {@link #send} order. */
    public static Answer[] pair(Answer sim, Answer real) {
        return new Answer[] {sim, real};
    }

    /**
     * Opens the same watch on both servers and reads each to its end: the path must carry {@code timeoutSeconds}
     * (or the watch must fail at once). The answer's JSON is the array of the events received, in order.
     */
    public Answer[] watch(String path) {
        return new Answer[] {watchSim(path), watchReal(path)};
    }

    /** A finite watch on the sim (see {@link #watch}). */
    public Answer watchSim(String path) {
        return collect(send(simHttp, sim.baseUrl(), null, "GET", path, null, null));
    }

    /** A finite watch on the real server (see {@link #watch}). */
    public Answer watchReal(String path) {
        return collect(send(realHttp, real.baseUrl(), real.adminToken(), "GET", path, null, null));
    }

    /** Turns a watch body (one JSON event per line) into an answer whose JSON is the array of events. */
    private static Answer collect(Answer raw) {
        if (raw.code() != 200) {
            return raw;
        }
        ArrayNode events = MAPPER.createArrayNode();
        for (String line : raw.body().split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            try {
                events.add(MAPPER.readTree(line));
            } catch (IOException e) {
                events.add(TextNode.valueOf(line));
            }
        }
        return new Answer(raw.code(), raw.contentType(), raw.body(), events);
    }

    /** The summary line of a suite: {@code conformance <name>: N of M scenarios identical}. */
    public String summary(String suite) {
        long known = outcomes.stream().filter(o -> o.same() && o.scenario().contains(" (1.20: ")).count();
        long same = outcomes.stream().filter(Outcome::same).count() - known;
        return "conformance " + suite + ": " + same + " of " + outcomes.size() + " scenarios identical"
                + (known > 0 ? ", " + known + " differ only as listed for 1.20 in apiserver-sim/README.md" : "");
    }

    /**
     * Ends a suite that owns both servers: prints its {@link #summary}, stops the sim and the real server, and fails
     * when any scenario disagreed (with {@link #failures()} as the message).
     *
     * @param diff the suite's differential, or null when it never started
     * @param real the suite's control plane, or null when it never started
     * @param suite the suite's name for the summary line
     */
    public static void finishSuite(Differential diff, RealControlPlane real, String suite) {
        try {
            if (diff != null) {
                System.out.println(diff.summary(suite));
                if (!diff.outcomes().stream().allMatch(Outcome::same)) {
                    throw new AssertionError(suite + ": scenarios differ between the sim and kube-apiserver:"
                            + diff.failures());
                }
            }
        } finally {
            if (diff != null) {
                diff.close();
            }
            if (real != null) {
                real.close();
            }
        }
    }

    /** The scenarios that differed, with their differences, or "" when all agreed. */
    public String failures() {
        StringBuilder b = new StringBuilder();
        for (Outcome o : outcomes) {
            if (!o.same()) {
                b.append("\n").append(o.scenario()).append(":\n  ").append(o.detail());
            }
        }
        return b.toString();
    }

    /**
     * Sends the same request to both servers with extra headers (e.g. {@code Accept}, which otherwise is
     * {@code application/json}).
     */
    public Answer[] send(String method, String path, String contentType, String body, Map<String, String> headers) {
        return new Answer[] {
            send(simHttp, sim.baseUrl(), null, method, path, contentType, body, headers),
            send(realHttp, real.baseUrl(), real.adminToken(), method, path, contentType, body, headers)};
    }

    /** Sends a request to the sim only. */
    public Answer sendSim(String method, String path, String contentType, String body) {
        return send(simHttp, sim.baseUrl(), null, method, path, contentType, body);
    }

    /** Sends a request to the real server only. */
    public Answer sendReal(String method, String path, String contentType, String body) {
        return send(realHttp, real.baseUrl(), real.adminToken(), method, path, contentType, body);
    }

    private static Answer send(HttpClient http, String base, String token, String method, String path,
            String contentType, String body) {
        return send(http, base, token, method, path, contentType, body, Map.of());
    }

    private static Answer send(HttpClient http, String base, String token, String method, String path,
            String contentType, String body, Map<String, String> headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30))
                .header("Accept", headers.getOrDefault("Accept", JSON));
        headers.forEach((k, v) -> {
            if (!k.equalsIgnoreCase("Accept")) {
                b.header(k, v);
            }
        });
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        if (contentType != null) {
            b.header("Content-Type", contentType);
        }
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofString(body));
        try {
            HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
            String ct = r.headers().firstValue("Content-Type").orElse("");
            JsonNode json = null;
            try {
                json = r.body().isEmpty() ? null : MAPPER.readTree(r.body());
            } catch (IOException notJson) {
                // text answer
            }
            return new Answer(r.statusCode(), ct, r.body(), json);
        } catch (IOException e) {
            throw new IllegalStateException(method + " " + base + path + " failed: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /**
     * Compares two answers after normalisation.
     *
     * @return null when they agree, else a description of the first differences
     */
    public static String difference(Answer sim, Answer real) {
        return difference(sim, real, Set.of());
    }

    /** As {@link #difference(Answer, Answer)}, comparing the volatile fields named in {@code exact} as they are. */
    public static String difference(Answer sim, Answer real, Set<String> exact) {
        List<String> diffs = new ArrayList<>();
        if (sim.code() != real.code()) {
            diffs.add("code: sim " + sim.code() + ", real " + real.code());
        }
        compare("", sim.normalised(exact), real.normalised(exact), diffs);
        if (diffs.isEmpty()) {
            return null;
        }
        return String.join("\n  ", diffs.subList(0, Math.min(diffs.size(), 20)))
                + (diffs.size() > 20 ? "\n  ... " + (diffs.size() - 20) + " more" : "")
                + "\n  sim:  " + abbreviate(sim.body()) + "\n  real: " + abbreviate(real.body());
    }

    /**
     * Records whether both answers agree, for {@link #outcomes()}; returns the difference or null.
     */
    public String check(String scenario, Answer[] both) {
        String d = difference(both[0], both[1], exact);
        outcomes.add(new Outcome(scenario, d == null, d));
        return d;
    }

    /**
     * A difference listed in apiserver-sim/README.md because 1.20 is older than the API the sim serves: the real
     * answer's body text is rewritten ({@code pattern} to {@code replacement}) into what the sim's newer API answers
     * before comparing, so that any other difference still shows.
     */
    public record Known(String reason, Pattern pattern, String replacement) {
        public static Known of(String reason, String regex, String replacement) {
            return new Known(reason, Pattern.compile(regex), replacement);
        }
    }

    /**
     * As {@link #check}, after rewriting the real answer by the known 1.20-only differences. The outcome is
     * recorded as agreeing only if that rewrite was needed and made them equal, or they were equal anyway.
     */
    public String check(String scenario, Answer[] both, Known... known) {
        Answer real = both[1];
        String body = real.body();
        List<String> used = new ArrayList<>();
        for (Known k : known) {
            String rewritten = k.pattern().matcher(body).replaceAll(k.replacement());
            if (!rewritten.equals(body)) {
                used.add(k.reason());
            }
            body = rewritten;
        }
        JsonNode json = null;
        try {
            json = body.isEmpty() ? null : MAPPER.readTree(body);
        } catch (IOException notJson) {
            // text
        }
        Answer rewritten = real.json() instanceof ArrayNode && json == null ? real
                : new Answer(real.code(), real.contentType(), body, json);
        String d = difference(both[0], rewritten);
        boolean needed = !used.isEmpty() && difference(both[0], real) != null;
        outcomes.add(new Outcome(needed ? scenario + " (1.20: " + String.join("; ", used) + ")" : scenario,
                d == null, d));
        return d;
    }

    /** Every scenario checked so far. */
    public List<Outcome> outcomes() {
        return List.copyOf(outcomes);
    }

    private static String abbreviate(String s) {
        String one = s.replace('\n', ' ');
        return one.length() > 600 ? one.substring(0, 600) + "..." : one;
    }

    private static void compare(String path, JsonNode a, JsonNode b, List<String> diffs) {
        if (a.isObject() && b.isObject()) {
            Set<String> names = new java.util.TreeSet<>();
            a.fieldNames().forEachRemaining(names::add);
            b.fieldNames().forEachRemaining(names::add);
            for (String n : names) {
                JsonNode x = a.get(n);
                JsonNode y = b.get(n);
                if (x == null) {
                    diffs.add(path + "/" + n + ": only real has " + abbreviate(y.toString()));
                } else if (y == null) {
                    diffs.add(path + "/" + n + ": only sim has " + abbreviate(x.toString()));
                } else {
                    compare(path + "/" + n, x, y, diffs);
                }
            }
        } else if (a.isArray() && b.isArray()) {
            if (a.size() != b.size()) {
                diffs.add(path + ": " + a.size() + " elements in sim, " + b.size() + " in real: sim "
                        + abbreviate(a.toString()) + ", real " + abbreviate(b.toString()));
                return;
            }
            for (int i = 0; i < a.size(); i++) {
                compare(path + "/" + i, a.get(i), b.get(i), diffs);
            }
        } else if (!a.equals(b)) {
            diffs.add(path + ": sim " + abbreviate(a.toString()) + ", real " + abbreviate(b.toString()));
        }
    }

    /** Replaces server-chosen values by placeholders and drops fields only the real server writes. */
    static JsonNode normalise(JsonNode node) {
        return normalise(node, Set.of());
    }

    /** As {@link #normalise(JsonNode)}, leaving the volatile fields named in {@code exact} as they are. */
    static JsonNode normalise(JsonNode node, Set<String> exact) {
        if (node instanceof ObjectNode o) {
            Iterator<Map.Entry<String, JsonNode>> it = o.properties().iterator();
            List<String> drop = new ArrayList<>();
            while (it.hasNext()) {
                Map.Entry<String, JsonNode> e = it.next();
                if (REAL_ONLY.contains(e.getKey())) {
                    drop.add(e.getKey());
                } else if (VOLATILE.contains(e.getKey()) && !exact.contains(e.getKey()) && e.getValue().isValueNode()
                        && !e.getValue().isNull() && !e.getValue().asText().isEmpty()) {
                    e.setValue(TextNode.valueOf("<" + e.getKey() + ">"));
                } else {
                    e.setValue(normalise(e.getValue(), exact));
                }
            }
            drop.forEach(o::remove);
            return o;
        }
        if (node instanceof ArrayNode a) {
            for (int i = 0; i < a.size(); i++) {
                a.set(i, normalise(a.get(i), exact));
            }
            return a;
        }
        if (node.isTextual()) {
            String t = UID.matcher(node.asText()).replaceAll("<uid>");
            t = RESOURCE_VERSION_IN_TEXT.matcher(t).replaceAll("$1<rv>");
            t = OLDEST_IN_TOO_OLD.matcher(t).replaceAll("$1 (<rv>)");
            return TextNode.valueOf(t);
        }
        return node;
    }

    @Override
    public void close() {
        sim.close();
    }
}
