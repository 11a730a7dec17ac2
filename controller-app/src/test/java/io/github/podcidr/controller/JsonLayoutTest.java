package io.github.podcidr.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LoggingEvent;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

class JsonLayoutTest {
    private final LoggerContext ctx = new LoggerContext();

    private JsonNode layout(String message, Object[] args, Throwable t) throws Exception {
        JsonLayout layout = new JsonLayout();
        layout.setContext(ctx);
        layout.start();
        LoggingEvent e = new LoggingEvent("fqcn", ctx.getLogger("io.github.podcidr.k8s.PodCidrReconciler"),
                Level.INFO, message, t, args);
        String line = layout.doLayout(e);
        assertTrue(line.endsWith("}\n") && line.indexOf('\n') == line.length() - 1, "one object per line: " + line);
        return new ObjectMapper().readTree(line);
    }

    @Test
    void oneObjectWithTheMessageFieldsAsProperties() throws Exception {
        JsonNode j = layout("assigned node={} cidr={} taintsRemoved=1",
                new Object[] {"10.0.0.7", "10.244.7.0/24,fd00::/64"}, null);
        assertEquals("INFO", j.get("level").asText());
        assertEquals("io.github.podcidr.k8s.PodCidrReconciler", j.get("logger").asText());
        assertEquals("assigned node=10.0.0.7 cidr=10.244.7.0/24,fd00::/64 taintsRemoved=1", j.get("msg").asText());
        assertEquals("10.0.0.7", j.get("node").asText());
        assertEquals("10.244.7.0/24,fd00::/64", j.get("cidr").asText());
        assertTrue(j.get("time").asText().endsWith("Z"));
    }

    @Test
    void escapesAndKeepsTheFixedFields() throws Exception {
        JsonNode j = layout("problem node=n1 msg=\"quoted\"\tand\nnewline level=x", null,
                new IllegalStateException("boom"));
        assertEquals("INFO", j.get("level").asText(), "a message field never overrides a fixed one");
        assertTrue(j.get("msg").asText().contains("\"quoted\"\tand\nnewline"));
        assertTrue(j.get("error").asText().startsWith("java.lang.IllegalStateException: boom\n\tat "));
        assertEquals("n1", j.get("node").asText());
    }
}
