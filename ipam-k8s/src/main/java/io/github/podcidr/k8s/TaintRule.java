package io.github.podcidr.k8s;

import io.kubernetes.client.openapi.models.V1Taint;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A taint to remove from nodes, in the Go podcidr-controller's {@code --remove-taints} forms: {@code key} (any value
 * and effect), {@code key:Effect} (any value), {@code key=value:Effect}, or {@code key=value} (any effect), e.g.
 * {@code tke.cloud.tencent.com/eni-ip-unavailable}. Effects: {@code NoSchedule}, {@code PreferNoSchedule},
 * {@code NoExecute}.
 *
 * @param key the taint key
 * @param value the value to match, or null for any value
 * @param effect the effect to match, or null for any effect
 */
public record TaintRule(String key, String value, String effect) {
    private static final List<String> EFFECTS = List.of("NoSchedule", "PreferNoSchedule", "NoExecute");

    /**
     * Creates a rule.
     *
     * @param key the taint key, required
     * @param value the value, or null for any
     * @param effect the effect, or null for any
     */
    public TaintRule {
        Objects.requireNonNull(key, "key");
    }

    /**
     * Parses one rule.
     *
     * @param text {@code key}, {@code key:Effect}, {@code key=value} or {@code key=value:Effect}
     * @return the rule
     * @throws InvalidSettingException saying which part is wrong and what the three forms are
     */
    public static TaintRule parse(String text) {
        String forms = "expected key, key:Effect, key=value or key=value:Effect with Effect one of NoSchedule,"
                + " PreferNoSchedule, NoExecute, e.g. tke.cloud.tencent.com/eni-ip-unavailable:NoSchedule";
        if (text == null || text.isBlank()) {
            throw new InvalidSettingException("taint rule is empty; " + forms);
        }
        if (!text.strip().equals(text)) {
            throw new InvalidSettingException("taint rule \"" + text + "\" has leading or trailing spaces; " + forms);
        }
        String keyValue = text;
        String effect = null;
        int colon = text.lastIndexOf(':');
        if (colon >= 0) {
            keyValue = text.substring(0, colon);
            effect = text.substring(colon + 1);
            if (!EFFECTS.contains(effect)) {
                throw new InvalidSettingException("taint rule \"" + text + "\" has effect \"" + effect + "\"; "
                        + forms);
            }
        }
        String key = keyValue;
        String value = null;
        int equals = keyValue.indexOf('=');
        if (equals >= 0) {
            key = keyValue.substring(0, equals);
            value = keyValue.substring(equals + 1);
            if (value.length() > 63 || !value.matches("([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?")) {
                throw new InvalidSettingException("taint rule \"" + text + "\" has value \"" + value + "\"; a value"
                        + " is at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or"
                        + " digit");
            }
        }
        String keyError = LabelKeys.check(key);
        if (keyError != null) {
            throw new InvalidSettingException("taint rule \"" + text + "\": " + keyError + "; " + forms);
        }
        return new TaintRule(key, value, effect);
    }

    /**
     * Parses a comma-separated list of rules, as {@code --remove-taints} takes it; items are trimmed and empty ones
     * skipped, as the Go controller does.
     *
     * @param commaList the list, possibly empty or null
     * @return the rules in order
     * @throws InvalidSettingException for the first bad rule
     */
    public static List<TaintRule> parseList(String commaList) {
        List<TaintRule> rules = new ArrayList<>();
        if (commaList == null) {
            return rules;
        }
        for (String item : commaList.split(",", -1)) {
            String trimmed = item.strip();
            if (!trimmed.isEmpty()) {
                rules.add(parse(trimmed));
            }
        }
        return List.copyOf(rules);
    }

    /**
     * Tells whether a taint is to be removed by this rule.
     *
     * @param taint a node taint
     * @return true if key, and value and effect where the rule has them, are equal
     */
    public boolean matches(V1Taint taint) {
        if (!key.equals(taint.getKey())) {
            return false;
        }
        if (effect != null && !effect.equals(taint.getEffect())) {
            return false;
        }
        if (value != null) {
            String v = taint.getValue() == null ? "" : taint.getValue();
            return value.equals(v);
        }
        return true;
    }

    @Override
    public String toString() {
        return key + (value != null ? "=" + value : "") + (effect != null ? ":" + effect : "");
    }
}
