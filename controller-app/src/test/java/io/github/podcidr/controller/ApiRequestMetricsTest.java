package io.github.podcidr.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ApiRequestMetricsTest {

    /** Paths reduce to a resource and whether one object is named; no label carries a node name. */
    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', textBlock = """
            /api/v1/nodes                                                   | nodes        | false
            /api/v1/nodes/10.0.7.207                                        | nodes        | true
            /api/v1/nodes/n1/status                                         | nodes/status | true
            /apis/coordination.k8s.io/v1/namespaces/kube-system/leases/pcc | leases       | true
            /api/v1/namespaces/default/events                               | events       | false
            /apis/events.k8s.io/v1/namespaces/default/events/e1             | events       | true
            /api/v1/namespaces/kube-system                                  | namespaces   | true
            /api/v1                                                         | discovery    | false
            /version                                                        | other        | false
            """)
    void pathsBecomeBoundedLabels(String path, String resource, boolean named) {
        ApiRequestMetrics.Target t = ApiRequestMetrics.Target.of(Arrays.asList(path.substring(1).split("/")));
        assertEquals(resource, t.resource());
        assertEquals(named, t.named());
    }
}
