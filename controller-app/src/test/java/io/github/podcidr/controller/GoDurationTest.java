package io.github.podcidr.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class GoDurationTest {
    @ParameterizedTest(name = "{0} = {1} ms")
    @CsvSource({
        "15s, 15000",
        "1m30s, 90000",
        "500ms, 500",
        "2h, 7200000",
        "1.5s, 1500",
        "1h2m3s, 3723000",
        "0, 0",
        "+3s, 3000",
        "-2s, -2000",
        "1500us, 1",
        "0.5m, 30000",
    })
    void parsesGoSyntax(String text, long millis) {
        assertEquals(Duration.ofMillis(millis), GoDuration.parse(text).truncatedTo(java.time.temporal.ChronoUnit.MILLIS));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "15", "2d", "s", "1.2.3s", " 15s", "15 s", "1m 30s", "ms", "-", "5sec"})
    void rejects(String text) {
        assertFalse(GoDuration.isValid(text));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GoDuration.parse(text));
        assertTrue(e.getMessage().contains("15s"), e.getMessage());
    }

    @ParameterizedTest(name = "{0} ms prints {1}")
    @CsvSource({"15000, 15s", "90000, 1m30s", "500, 500ms", "7200000, 2h0m0s", "1500, 1.5s", "0, 0s"})
    void formatsAsGo(long millis, String text) {
        assertEquals(text, GoDuration.format(Duration.ofMillis(millis)));
        assertEquals(Duration.ofMillis(millis), GoDuration.parse(text));
    }

    @org.junit.jupiter.api.Test
    void numberWithoutUnitSuggestsSeconds() {
        assertTrue(GoDuration.problem("15").contains("15s"));
    }
}
