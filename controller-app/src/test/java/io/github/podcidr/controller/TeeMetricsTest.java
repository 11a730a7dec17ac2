package io.github.podcidr.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.podcidr.k8s.ControllerMetrics;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class TeeMetricsTest {

    /** ControllerMetrics' methods all have empty defaults; one TeeMetrics does not override is silently dropped. */
    @Test
    void everyMethodOfTheInterfaceIsForwarded() throws NoSuchMethodException {
        List<String> missing = new ArrayList<>();
        for (Method m : ControllerMetrics.class.getMethods()) {
            if (m.isDefault() && TeeMetrics.class.getMethod(m.getName(), m.getParameterTypes()).getDeclaringClass()
                    != TeeMetrics.class) {
                missing.add(m.toString());
            }
        }
        assertEquals(List.of(), missing, "TeeMetrics must forward these to its targets");
    }

    @Test
    void groupExhaustionReachesEveryTarget() {
        List<String> seen = new ArrayList<>();
        ControllerMetrics a = new ControllerMetrics() {
            @Override
            public void exhausted(String node, String group) {
                seen.add("a " + node + " " + group);
            }
        };
        ControllerMetrics b = new ControllerMetrics() {
            @Override
            public void exhausted(String node) {
                seen.add("b " + node);
            }
        };
        new TeeMetrics(a, b).exhausted("node-1", "idc");
        assertTrue(seen.equals(List.of("a node-1 idc", "b node-1")), seen::toString);
    }
}
