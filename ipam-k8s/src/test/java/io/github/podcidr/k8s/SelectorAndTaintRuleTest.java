package io.github.podcidr.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kubernetes.client.openapi.models.V1Taint;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SelectorAndTaintRuleTest {

    private static Map<String, String> labels(String spec) {
        Map<String, String> m = new HashMap<>();
        if (!spec.isEmpty()) {
            for (String kv : spec.split(";")) {
                String[] p = kv.split("=", 2);
                m.put(p[0], p[1]);
            }
        }
        return m;
    }

    /** Operators as Kubernetes defines them; one row per operator and label situation. */
    @ParameterizedTest(name = "[{index}] {0} on \"{1}\" -> {2}")
    @CsvSource(delimiter = '|', quoteCharacter = '\'', textBlock = """
            '{"key":"t","operator":"In","values":["a","b"]}'        | t=b       | true
            '{"key":"t","operator":"In","values":["a","b"]}'        | t=c       | false
            '{"key":"t","operator":"In","values":["a"]}'            | ''        | false
            '{"key":"t","operator":"NotIn","values":["a"]}'         | t=c       | true
            '{"key":"t","operator":"NotIn","values":["a"]}'         | ''        | true
            '{"key":"t","operator":"NotIn","values":["a"]}'         | t=a       | false
            '{"key":"t","operator":"Exists"}'                       | t=        | true
            '{"key":"t","operator":"Exists"}'                       | u=1       | false
            '{"key":"t","operator":"DoesNotExist"}'                 | u=1       | true
            '{"key":"t","operator":"DoesNotExist","values":[]}'     | t=x       | false
            '{"key":"gen","operator":"Gt","values":["5"]}'          | gen=6     | true
            '{"key":"gen","operator":"Gt","values":["5"]}'          | gen=5     | false
            '{"key":"gen","operator":"Gt","values":["5"]}'          | gen=x     | false
            '{"key":"gen","operator":"Gt","values":["5"]}'          | ''        | false
            '{"key":"gen","operator":"Lt","values":["5"]}'          | gen=-3    | true
            '{"key":"gen","operator":"Lt","values":["5"]}'          | ''        | false
            '{"key":"gen","operator":"Lt","values":["5"]}'          | gen=x     | false
            """)
    void operatorsFollowKubernetes(String requirement, String labels, boolean selected) {
        assertEquals(selected, NodeSelector.parse("[" + requirement + "]").matches(labels(labels)));
    }

    @Test
    void requirementsAreAndedAndEmptySelectsAll() {
        NodeSelector s = NodeSelector.parse("[{\"key\":\"a\",\"operator\":\"Exists\"},"
                + "{\"key\":\"b\",\"operator\":\"In\",\"values\":[\"1\"]}]");
        assertTrue(s.matches(labels("a=x;b=1")));
        assertEquals(false, s.matches(labels("a=x;b=2")));
        assertEquals(Set.of("a", "b"), s.labelKeys());
        for (String all : new String[] {null, "", "  ", "[]", "null"}) {
            assertEquals(NodeSelector.all(), NodeSelector.parse(all), String.valueOf(all));
        }
        assertTrue(NodeSelector.all().matches(Map.of()));
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', quoteCharacter = '\'', textBlock = """
            '[{"key":"a","operator":"In"'                      | 'is not valid JSON'
            '{"key":"a","operator":"Exists"}'                  | 'is not a JSON list; expected a list of requirements such as [{"key":"kubernetes.io/os","operator":"In","values":["linux"]}]'
            '[{"key":"a","operator":"Equals","values":["x"]}]' | 'requirement 1 (key "a") has operator "Equals"; expected In, NotIn, Exists, DoesNotExist, Gt or Lt'
            '[{"key":"a","operator":"In"}]'                    | 'operator In needs one or more values'
            '[{"key":"a","operator":"Exists","values":["x"]}]' | 'operator Exists takes no values, found [x]'
            '[{"key":"a","operator":"Gt","values":["x"]}]'     | 'operator Gt needs an integer value, found "x"'
            '[{"key":"a","operator":"Lt","values":["1","2"]}]' | 'operator Lt needs exactly one integer value, found [1, 2]'
            '[{"operator":"Exists"}]'                          | 'requirement 1 has no key'
            '[{"key":"-bad-","operator":"Exists"}]'            | 'key "-bad-" has name "-bad-"'
            '[{"key":"Example.com/x","operator":"Exists"}]'    | 'prefix "Example.com", which is not a lower-case DNS subdomain'
            '[{"key":"a","operator":"In","values":[5]}]'       | 'has value 5 that is not a string; write it in quotes, e.g. "5"'
            '[{"key":"a","op":"In"}]'                          | 'has unknown field(s) [op]'
            '[1]'                                              | 'requirement 1 is not a JSON object'
            """)
    void badSelectorsSayWhatIsWrong(String json, String message) {
        InvalidSettingException e = assertThrows(InvalidSettingException.class, () -> NodeSelector.parse(json));
        assertTrue(e.getMessage().contains(message), e.getMessage());
        assertTrue(e.getMessage().startsWith("node selector \"" + json + "\""), e.getMessage());
    }

    private static V1Taint taint(String key, String value, String effect) {
        return new V1Taint().key(key).value(value).effect(effect);
    }

    @ParameterizedTest(name = "[{index}] {0} matches {1}={2}:{3} -> {4}")
    @CsvSource(delimiter = '|', textBlock = """
            tke.cloud.tencent.com/eni-ip-unavailable            | tke.cloud.tencent.com/eni-ip-unavailable | v | NoSchedule | true
            tke.cloud.tencent.com/eni-ip-unavailable            | tke.cloud.tencent.com/eni-ip-unavailable |   | NoExecute  | true
            tke.cloud.tencent.com/eni-ip-unavailable            | other                                    |   | NoSchedule | false
            a:NoSchedule                                        | a                                        | x | NoSchedule | true
            a:NoSchedule                                        | a                                        | x | NoExecute  | false
            a=x:NoSchedule                                      | a                                        | x | NoSchedule | true
            a=x:NoSchedule                                      | a                                        | y | NoSchedule | false
            a=:NoSchedule                                       | a                                        |   | NoSchedule | true
            a=x                                                 | a                                        | x | NoExecute  | true
            a=x                                                 | a                                        | y | NoExecute  | false
            """)
    void taintRulesMatchByKeyThenEffectThenValue(String rule, String key, String value, String effect,
                                                 boolean matches) {
        assertEquals(matches, TaintRule.parse(rule).matches(taint(key, value, effect)));
        assertEquals(rule, TaintRule.parse(rule).toString());
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', quoteCharacter = '\'', textBlock = """
            'a:NoRun'           | 'has effect "NoRun"; expected key, key:Effect, key=value or key=value:Effect with Effect one of NoSchedule, PreferNoSchedule, NoExecute'
            ' a'                | 'has leading or trailing spaces'
            'a b:NoSchedule'    | 'key "a b" has name "a b"'
            'a=b c:NoSchedule'  | 'has value "b c"'
            ':NoSchedule'       | 'has name ""'
            """)
    void badTaintRulesSayWhatIsWrong(String text, String message) {
        InvalidSettingException e = assertThrows(InvalidSettingException.class, () -> TaintRule.parse(text));
        assertTrue(e.getMessage().contains(message), e.getMessage());
    }

    @Test
    void taintListsSkipEmptyItems() {
        assertEquals(List.of(TaintRule.parse("a"), TaintRule.parse("b:NoExecute")),
                TaintRule.parseList("a,, b:NoExecute ,"));
        assertEquals(List.of(), TaintRule.parseList(""));
        assertEquals(List.of(), TaintRule.parseList(null));
    }

    @Test
    void thePatchTestsWhatItRelaysOnAndRemovesTaintsFromTheHighestIndex() {
        List<V1Taint> taints = List.of(taint("a", null, "NoSchedule"), taint("keep", "1", "NoSchedule"),
                taint("b", "x", "NoExecute"));
        NodePatch p = NodePatch.forNode("uid-1", List.of("10.244.1.0/24", "fd00::/64"), taints,
                TaintRule.parseList("a,b=x:NoExecute"));
        assertEquals("[{\"op\":\"test\",\"path\":\"/metadata/uid\",\"value\":\"uid-1\"},"
                + "{\"op\":\"test\",\"path\":\"/spec/podCIDR\",\"value\":null},"
                + "{\"op\":\"test\",\"path\":\"/spec/podCIDRs\",\"value\":null},"
                + "{\"op\":\"add\",\"path\":\"/spec/podCIDR\",\"value\":\"10.244.1.0/24\"},"
                + "{\"op\":\"add\",\"path\":\"/spec/podCIDRs\",\"value\":[\"10.244.1.0/24\",\"fd00::/64\"]},"
                + "{\"op\":\"test\",\"path\":\"/spec/taints/2/key\",\"value\":\"b\"},"
                + "{\"op\":\"test\",\"path\":\"/spec/taints/2/effect\",\"value\":\"NoExecute\"},"
                + "{\"op\":\"test\",\"path\":\"/spec/taints/2/value\",\"value\":\"x\"},"
                + "{\"op\":\"remove\",\"path\":\"/spec/taints/2\"},"
                + "{\"op\":\"test\",\"path\":\"/spec/taints/0/key\",\"value\":\"a\"},"
                + "{\"op\":\"test\",\"path\":\"/spec/taints/0/effect\",\"value\":\"NoSchedule\"},"
                + "{\"op\":\"test\",\"path\":\"/spec/taints/0/value\",\"value\":null},"
                + "{\"op\":\"remove\",\"path\":\"/spec/taints/0\"}]", p.json());
        assertEquals(2, p.removedTaints());
        assertTrue(NodePatch.forNode("u", List.of(), taints, List.of()).isEmpty());
    }
}
