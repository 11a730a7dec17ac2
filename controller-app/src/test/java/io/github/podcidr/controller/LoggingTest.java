package io.github.podcidr.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;

/** The log formats with hostile values: every JSON line parses and carries the key-values exactly. */
class LoggingTest {
    /** Values a node or an API server can put into a log line. */
    private static final List<String> HOSTILE = List.of("plain", "two words", "a=b c=d", "\"quoted\"",
            "back\\slash", "new\nline", "tab\there", "\u0001control", "ünïcødé ✓", "{\"json\":[1]}", "");

    private final LoggerContext ctx = new LoggerContext();
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    private Logger logger(LogFormat format) {
        ctx.setMDCAdapter(new ch.qos.logback.classic.util.LogbackMDCAdapter());
        ctx.start();
        OutputStreamAppender<ILoggingEvent> appender = new OutputStreamAppender<>();
        appender.setContext(ctx);
        appender.setEncoder(Logging.encoder(ctx, format));
        appender.setOutputStream(out);
        appender.start();
        ch.qos.logback.classic.Logger logger = ctx.getLogger("io.github.podcidr.k8s.PodCidrReconciler");
        logger.addAppender(appender);
        Logging.silenceClientNoise(ctx);
        return logger;
    }

    @Test
    void everyJsonLineParsesAndKeepsTheKeyValuesExactly() throws Exception {
        Logger log = logger(LogFormat.JSON);
        for (String v : HOSTILE) {
            log.atWarn().setMessage("pod CIDR problem").addKeyValue("node", v).addKeyValue("message", v + " =\"x\"")
                    .log();
        }
        log.atError().setMessage("write refused").addKeyValue("node", "n1").setCause(new IllegalStateException(
                "boom \"quoted\"\nsecond line")).log();
        String[] lines = out.toString(StandardCharsets.UTF_8).split("\n");
        assertEquals(HOSTILE.size() + 1, lines.length, "one line per event");
        ObjectMapper json = new ObjectMapper();
        for (int i = 0; i < HOSTILE.size(); i++) {
            JsonNode j = json.readTree(lines[i]);
            assertEquals("WARN", j.path("level").asText());
            assertEquals("pod CIDR problem", j.path("formattedMessage").asText());
            assertEquals("io.github.podcidr.k8s.PodCidrReconciler", j.path("loggerName").asText());
            assertTrue(j.path("timestamp").isNumber(), lines[i]);
            Map<String, String> kv = keyValues(j);
            assertEquals(HOSTILE.get(i), kv.get("node"), lines[i]);
            assertEquals(HOSTILE.get(i) + " =\"x\"", kv.get("message"), lines[i]);
        }
        JsonNode error = json.readTree(lines[HOSTILE.size()]);
        assertEquals("java.lang.IllegalStateException", error.at("/throwable/className").asText(), lines[1]);
        assertEquals("boom \"quoted\"\nsecond line", error.at("/throwable/message").asText());
    }

    @Test
    void textLinesShowTheKeyValuesAfterTheMessage() {
        Logger log = logger(LogFormat.TEXT);
        log.atInfo().setMessage("assigned").addKeyValue("node", "10.0.0.7").addKeyValue("cidr", "10.244.7.0/24").log();
        log.info("controller stopped");
        String[] lines = out.toString(StandardCharsets.UTF_8).split("\n");
        assertTrue(lines[0].endsWith("INFO  PodCidrReconciler - assigned node=\"10.0.0.7\" cidr=\"10.244.7.0/24\""),
                lines[0]);
        assertTrue(lines[1].endsWith("PodCidrReconciler - controller stopped"), "no trailing space: " + lines[1]);
    }

    @Test
    void onlyTheClientsExpectedInterruptionLinesAreDropped() {
        logger(LogFormat.TEXT);
        ch.qos.logback.classic.Logger listener = ctx.getLogger("io.kubernetes.client.informer.cache.ProcessorListener");
        listener.addAppender(ctx.getLogger("io.github.podcidr.k8s.PodCidrReconciler").iteratorForAppenders().next());
        listener.error("processor interrupted: {}", "sleep interrupted");
        listener.error("failed invoking UPDATE event handler: {}", "NullPointerException");
        String text = out.toString(StandardCharsets.UTF_8);
        assertTrue(!text.contains("processor interrupted"), text);
        assertTrue(text.contains("failed invoking UPDATE event handler: NullPointerException"), text);
    }

    private static Map<String, String> keyValues(JsonNode line) {
        Map<String, String> kv = new HashMap<>();
        List<String> order = new ArrayList<>();
        for (JsonNode pair : line.path("kvpList")) {
            pair.fields().forEachRemaining(e -> {
                kv.put(e.getKey(), e.getValue().asText());
                order.add(e.getKey());
            });
        }
        return kv;
    }
}
