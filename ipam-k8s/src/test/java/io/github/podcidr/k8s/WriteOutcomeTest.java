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
        assertEquals(expected, WriteOutcome.of(code));
        assertEquals(token, expected.token());
    }
}
