package io.github.podcidr.apiserver.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.podcidr.apiserver.conformance.Differential.Answer;
import io.github.podcidr.apiserver.real.RealControlPlane;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * A conformance suite's bookkeeping on top of {@link Differential}: scenarios that must agree, scenarios whose
 * answers differ only because kube-apiserver 1.20 is older than the API the simulator serves (each with the
 * rewrite that turns the 1.20 answer into the newer one, listed in apiserver-sim/README.md), and the summary line.
 *
 * <p>A 1.20 difference counts as agreeing only when the rewritten real answer equals the sim's exactly, so a
 * rewrite cannot hide anything else.
 */
final class Scenarios implements AutoCloseable {
    static final ObjectMapper MAPPER = new ObjectMapper();

    final RealControlPlane real;
    final Differential diff;
    private final List<String> versionDifferences = new ArrayList<>();
    private final List<String> failures = new ArrayList<>();
    private int total;
    private int identical;

    Scenarios() {
        this.real = RealControlPlane.builder().start();
        this.diff = new Differential(real);
    }

    Answer[] send(String method, String path, String contentType, String body) {
        return diff.send(method, path, contentType, body);
    }

    Answer[] send(String method, String path, String body) {
        return diff.send(method, path, body == null ? null : Differential.JSON, body);
    }

    /** A scenario both servers must answer the same. */
    void same(String name, Answer[] both) {
        total++;
        String d = diff.check(name, both);
        if (d == null) {
            identical++;
        } else {
            failures.add(name + ":\n  " + d);
        }
    }

    /**
     * A scenario where 1.20 answers differently because it is older: {@code as134} rewrites the real answer's JSON
     * into what the newer API answers; the result must equal the sim's.
     */
    void sameAfter120(String name, Answer[] both, String why, UnaryOperator<JsonNode> as134) {
        total++;
        Answer real = both[1];
        JsonNode rewritten = real.json() == null ? null : as134.apply(real.json().deepCopy());
        Answer fixed = new Answer(real.code(), real.contentType(), String.valueOf(rewritten), rewritten);
        String d = Differential.difference(both[0], fixed, java.util.Set.of("renewTime", "acquireTime"));
        if (d == null) {
            versionDifferences.add(name + " (" + why + ")");
        } else {
            failures.add(name + " [after the 1.20 rewrite: " + why + "]:\n  " + d);
        }
    }

    /**
     * A scenario whose outcome changed after 1.20 in a way no rewrite expresses (e.g. 422 then, 201 now): the real
     * answer must be exactly the 1.20 one described by {@code real120}, the sim's the newer one by {@code sim134}.
     */
    void differsAs120(String name, Answer[] both, String why, java.util.function.Predicate<Answer> real120,
            java.util.function.Predicate<Answer> sim134) {
        total++;
        if (real120.test(both[1]) && sim134.test(both[0])) {
            versionDifferences.add(name + " (" + why + ")");
        } else {
            failures.add(name + " [expected the documented 1.20 difference: " + why + "]:\n  sim:  " + both[0].body()
                + "\n  real: " + both[1].body());
        }
    }

    /** A text rewrite of every string in a JSON tree (for messages that changed wording). */
    static UnaryOperator<JsonNode> replaceText(String from, String to) {
        return node -> MAPPER.valueToTree(replaceIn(MAPPER.convertValue(node, Object.class), from, to));
    }

    @SuppressWarnings("unchecked")
    private static Object replaceIn(Object o, String from, String to) {
        if (o instanceof String s) {
            return s.replace(from, to);
        }
        if (o instanceof java.util.Map<?, ?> m) {
            java.util.Map<String, Object> out = new java.util.LinkedHashMap<>();
            ((java.util.Map<String, Object>) m).forEach((k, v) -> out.put(k, replaceIn(v, from, to)));
            return out;
        }
        if (o instanceof List<?> l) {
            List<Object> out = new ArrayList<>();
            l.forEach(x -> out.add(replaceIn(x, from, to)));
            return out;
        }
        return o;
    }

    /** The resourceVersion of an answer's object. */
    static String rv(Answer a) {
        JsonNode v = a.json() == null ? null : a.json().at("/metadata/resourceVersion");
        assertNotNull(v, a.body());
        return v.asText();
    }

    /** Prints the summary line and fails listing every scenario that differed. */
    void finish(String suite) {
        System.out.println("conformance " + suite + ": " + identical + " of " + total + " scenarios identical"
            + (versionDifferences.isEmpty() ? "" : ", " + versionDifferences.size()
                + " differ only as kube-apiserver 1.20 is older: " + String.join("; ", versionDifferences)));
        assertEquals(List.of(), failures, String.join("\n", failures));
    }

    @Override
    public void close() {
        diff.close();
        real.close();
    }
}
