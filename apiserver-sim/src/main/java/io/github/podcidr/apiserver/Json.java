package io.github.podcidr.apiserver;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;

/** One shared Jackson mapper and the few tree helpers every part of the simulator needs. */
final class Json {
  static final ObjectMapper MAPPER = new ObjectMapper();
  static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private Json() {}

  static ObjectNode object() {
    return NODES.objectNode();
  }

  /** Parses a request body; a syntax error becomes the 400 BadRequest the real server answers. */
  static JsonNode parse(byte[] body) {
    try {
      JsonNode node = MAPPER.readTree(body);
      if (node == null || node.isMissingNode()) {
        throw StatusException.badRequest("the request body is empty; a JSON object is expected");
      }
      return node;
    } catch (JsonProcessingException e) {
      throw StatusException.badRequest("the request body is not valid JSON: " + e.getOriginalMessage());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static ObjectNode parseObject(byte[] body) {
    JsonNode node = parse(body);
    if (!node.isObject()) {
      throw StatusException.badRequest("the request body must be a JSON object, not " + node.getNodeType());
    }
    return (ObjectNode) node;
  }

  static byte[] bytes(JsonNode node) {
    try {
      return MAPPER.writeValueAsBytes(node);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialise a JSON tree", e);
    }
  }

  static String text(JsonNode node) {
    try {
      return MAPPER.writeValueAsString(node);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialise a JSON tree", e);
    }
  }

  /** Returns the object at {@code field}, creating it when absent or not an object. */
  static ObjectNode child(ObjectNode parent, String field) {
    JsonNode existing = parent.get(field);
    if (existing instanceof ObjectNode) {
      return (ObjectNode) existing;
    }
    return parent.putObject(field);
  }

  /** Text of a field, or null when absent, null or not textual. */
  static String str(JsonNode parent, String field) {
    if (parent == null) {
      return null;
    }
    JsonNode v = parent.get(field);
    return v != null && v.isTextual() ? v.asText() : null;
  }

  /** RFC 3339 at second precision, as metav1.Time serialises. */
  static String timestamp(Instant t) {
    return DateTimeFormatter.ISO_INSTANT.format(t.truncatedTo(ChronoUnit.SECONDS));
  }
}
