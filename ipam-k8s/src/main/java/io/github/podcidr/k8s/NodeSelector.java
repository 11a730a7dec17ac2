package io.github.podcidr.k8s;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * Which nodes get pod CIDRs: label requirements in the JSON form of the Go podcidr-controller's
 * {@code --node-selector} (Kubernetes {@code matchExpressions}), all of which must hold. Empty selects every node.
 *
 * <pre>{@code
 * NodeSelector s = NodeSelector.parse(
 *         "[{\"key\":\"node.kubernetes.io/instance-type\",\"operator\":\"In\",\"values\":[\"external\"]}]");
 * s.matches(Map.of("node.kubernetes.io/instance-type", "external"));   // true
 * }</pre>
 *
 * <p>Operators as in Kubernetes: {@code In} and {@code NotIn} take one or more values ({@code NotIn} and
 * {@code DoesNotExist} match a node without the label), {@code Exists} and {@code DoesNotExist} take none,
 * {@code Gt} and {@code Lt} take one integer and match only a label whose value is an integer.
 */
public final class NodeSelector {
    private static final NodeSelector ALL = new NodeSelector(List.of());
    private static final String EXAMPLE = "[{\"key\":\"kubernetes.io/os\",\"operator\":\"In\",\"values\":[\"linux\"]}]";

    /** The requirements; immutable, AND-ed. */
    private final List<Requirement> requirements;

    private NodeSelector(List<Requirement> requirements) {
        this.requirements = List.copyOf(requirements);
    }

    /** The operators of a requirement. */
    public enum Operator {
        /** The label is present with one of the values. */
        In,
        /** The label is absent or has none of the values. */
        NotIn,
        /** The label is present, whatever its value. */
        Exists,
        /** The label is absent. */
        DoesNotExist,
        /** The label is an integer greater than the value. */
        Gt,
        /** The label is an integer less than the value. */
        Lt
    }

    /**
     * One label requirement.
     *
     * @param key the label key
     * @param operator how the label is tested
     * @param values the values ({@code In}/{@code NotIn}: one or more; {@code Gt}/{@code Lt}: one integer; else none)
     */
    public record Requirement(String key, Operator operator, List<String> values) {
        /**
         * Creates a requirement; the values are copied.
         *
         * @param key the label key
         * @param operator the operator
         * @param values the values
         */
        public Requirement {
            Objects.requireNonNull(key, "key");
            Objects.requireNonNull(operator, "operator");
            values = List.copyOf(values);
        }

        boolean matches(Map<String, String> labels) {
            String value = labels.get(key);
            return switch (operator) {
                case In -> value != null && values.contains(value);
                case NotIn -> value == null || !values.contains(value);
                case Exists -> value != null;
                case DoesNotExist -> value == null;
                case Gt -> compare(value) == 1;
                case Lt -> compare(value) == -1;
            };
        }

        /** Sign of (label - bound), or 2 when the label is absent or not an integer, so that Gt and Lt fail. */
        private int compare(String value) {
            if (value == null) {
                return 2;
            }
            try {
                return Long.signum(Long.compare(Long.parseLong(value), Long.parseLong(values.get(0))));
            } catch (NumberFormatException e) {
                return 2;
            }
        }
    }

    /**
     * Returns the selector that selects every node.
     *
     * @return the empty selector
     */
    public static NodeSelector all() {
        return ALL;
    }

    /**
     * Builds a selector from requirements.
     *
     * @param requirements the requirements, all of which must hold
     * @return the selector
     */
    public static NodeSelector of(List<Requirement> requirements) {
        return requirements.isEmpty() ? ALL : new NodeSelector(requirements);
    }

    /**
     * Parses the JSON form, e.g. {@code [{"key":"kubernetes.io/os","operator":"In","values":["linux"]}]}. An empty
     * or blank text, {@code null} and {@code []} select every node.
     *
     * @param json the JSON array of requirements
     * @return the selector
     * @throws InvalidSettingException naming the requirement and what is wrong with it
     */
    public static NodeSelector parse(String json) {
        if (json == null || json.isBlank()) {
            return ALL;
        }
        JsonElement root;
        try {
            root = JsonParser.parseString(json);
        } catch (JsonParseException e) {
            throw new InvalidSettingException("node selector " + quote(json) + " is not valid JSON ("
                    + e.getMessage() + "); expected a list of requirements such as " + EXAMPLE);
        }
        if (root.isJsonNull()) {
            return ALL;
        }
        if (!root.isJsonArray()) {
            throw new InvalidSettingException("node selector " + quote(json) + " is not a JSON list; expected a list"
                    + " of requirements such as " + EXAMPLE);
        }
        List<Requirement> requirements = new ArrayList<>();
        JsonArray array = root.getAsJsonArray();
        for (int i = 0; i < array.size(); i++) {
            requirements.add(requirement(json, i + 1, array.get(i)));
        }
        return of(requirements);
    }

    private static Requirement requirement(String json, int number, JsonElement element) {
        String where = "node selector " + quote(json) + ", requirement " + number;
        if (!element.isJsonObject()) {
            throw new InvalidSettingException(where + " is not a JSON object; expected e.g. " + EXAMPLE);
        }
        JsonObject o = element.getAsJsonObject();
        Set<String> unknown = new TreeSet<>(o.keySet());
        unknown.removeAll(Set.of("key", "operator", "values"));
        if (!unknown.isEmpty()) {
            throw new InvalidSettingException(where + " has unknown field(s) " + unknown
                    + "; a requirement has key, operator and values");
        }
        String key = string(o, "key", where);
        if (key == null || key.isEmpty()) {
            throw new InvalidSettingException(where + " has no key; expected e.g. " + EXAMPLE);
        }
        String labelKeyError = LabelKeys.check(key);
        if (labelKeyError != null) {
            throw new InvalidSettingException(where + ": " + labelKeyError);
        }
        String op = string(o, "operator", where);
        Operator operator;
        try {
            operator = Operator.valueOf(op == null ? "" : op);
        } catch (IllegalArgumentException e) {
            throw new InvalidSettingException(where + " (key " + quote(key) + ") has operator " + quote(op)
                    + "; expected In, NotIn, Exists, DoesNotExist, Gt or Lt");
        }
        List<String> values = new ArrayList<>();
        JsonElement v = o.get("values");
        if (v != null && !v.isJsonNull()) {
            if (!v.isJsonArray()) {
                throw new InvalidSettingException(where + " (key " + quote(key) + ") has values that are not a"
                        + " list; expected e.g. \"values\":[\"a\",\"b\"]");
            }
            for (JsonElement e : v.getAsJsonArray()) {
                if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
                    throw new InvalidSettingException(where + " (key " + quote(key) + ") has value " + e
                            + " that is not a string; write it in quotes, e.g. \"5\"");
                }
                values.add(e.getAsString());
            }
        }
        switch (operator) {
            case In, NotIn -> {
                if (values.isEmpty()) {
                    throw new InvalidSettingException(where + " (key " + quote(key) + "): operator " + operator
                            + " needs one or more values");
                }
            }
            case Exists, DoesNotExist -> {
                if (!values.isEmpty()) {
                    throw new InvalidSettingException(where + " (key " + quote(key) + "): operator " + operator
                            + " takes no values, found " + values);
                }
            }
            case Gt, Lt -> {
                if (values.size() != 1) {
                    throw new InvalidSettingException(where + " (key " + quote(key) + "): operator " + operator
                            + " needs exactly one integer value, found " + values);
                }
                try {
                    Long.parseLong(values.get(0));
                } catch (NumberFormatException e) {
                    throw new InvalidSettingException(where + " (key " + quote(key) + "): operator " + operator
                            + " needs an integer value, found " + quote(values.get(0)));
                }
            }
            default -> throw new AssertionError(operator);
        }
        return new Requirement(key, operator, values);
    }

    private static String string(JsonObject o, String field, String where) {
        JsonElement e = o.get(field);
        if (e == null || e.isJsonNull()) {
            return null;
        }
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
            throw new InvalidSettingException(where + " has " + field + " " + e + " that is not a string");
        }
        return e.getAsString();
    }

    private static String quote(String s) {
        return s == null ? "null" : "\"" + s + "\"";
    }

    /**
     * Tells whether a node with these labels is selected.
     *
     * @param labels the node's labels (may be empty, never null)
     * @return true if every requirement holds
     */
    public boolean matches(Map<String, String> labels) {
        for (Requirement r : requirements) {
            if (!r.matches(labels)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Returns the requirements.
     *
     * @return the requirements, empty when every node is selected
     */
    public List<Requirement> requirements() {
        return requirements;
    }

    /**
     * Returns the label keys the selector reads; labels with other keys can be dropped from cached nodes.
     *
     * @return the keys, sorted
     */
    public Set<String> labelKeys() {
        Set<String> keys = new TreeSet<>();
        for (Requirement r : requirements) {
            keys.add(r.key());
        }
        return keys;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NodeSelector s && s.requirements.equals(requirements);
    }

    @Override
    public int hashCode() {
        return requirements.hashCode();
    }

    @Override
    public String toString() {
        return requirements.isEmpty() ? "all nodes" : requirements.toString();
    }
}
