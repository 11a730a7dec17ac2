package io.github.podcidr.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Each answer to a node patch and what it means for the subnets the patch carried. */
class WriteOutcomeTest {

    @ParameterizedTest(name = "HTTP {0} -> {1}")
    @CsvSource({
            "404, NOT_FOUND, not_found",
            "409, CONFLICT, conflict",
            "422, CONFLICT, conflict",
            "0, UNAVAILABLE, unavailable",
            "429, UNAVAILABLE, unavailable",
            "500, UNAVAILABLE, unavailable",
            "504, UNAVAILABLE, unavailable",
            "400, REJECTED, rejected",
            "403, REJECTED, rejected",
    })
    void classifiesTheAnswer(int code, WriteOutcome expected, String token) {
        assertEquals(expected, WriteOutcome.of(code, null));
        assertEquals(token, expected.token());
    }

    /** kube-apiserver 1.20's bodies: a JSON patch whose test failed names no field; validation names each. */
    @ParameterizedTest(name = "422 {0} -> {1}")
    @CsvSource(delimiter = '|', value = {
            "guard failed | CONFLICT | {\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":"
                    + "\"Failure\",\"message\":\"the server rejected our request due to an error in our request\","
                    + "\"reason\":\"Invalid\",\"details\":{},\"code\":422}",
            "validation | INVALID | {\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":"
                    + "\"Failure\",\"message\":\"Node \\\"n\\\" is invalid: spec.podCIDRs: Forbidden: node updates may"
                    + " not change podCIDR except from \\\"\\\" to valid\",\"reason\":\"Invalid\",\"details\":{"
                    + "\"name\":\"n\",\"kind\":\"Node\",\"causes\":[{\"reason\":\"FieldValueForbidden\","
                    + "\"message\":\"Forbidden: node updates may not change podCIDR\",\"field\":\"spec.podCIDRs\"}]},"
                    + "\"code\":422}",
            "causes without a field | CONFLICT | {\"details\":{\"causes\":[{\"message\":\"x\"}]}}",
            "not JSON | CONFLICT | <html>bad gateway</html>",
            "a JSON array | CONFLICT | []",
    })
    void tellsAFailedGuardFromAValidationRefusal(String what, WriteOutcome expected, String body) {
        assertEquals(expected, WriteOutcome.of(422, body), what);
    }
}
