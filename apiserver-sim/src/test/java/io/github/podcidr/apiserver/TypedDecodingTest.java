package io.github.podcidr.apiserver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/**
 * Request bodies decoded as kube-apiserver decodes them: Go's JSON syntax messages, MicroTime and Time parsing,
 * pruning, zero values, and json-iterator's type errors with their quote of the body. The expected texts are those
 * kube-apiserver 1.20 answered for the same bodies (the conformance suite checks them against it).
 */
class TypedDecodingTest {

  private static StatusException read(ResourceType type, String body) {
    return assertThrows(StatusException.class,
        () -> RequestBody.read(type, "application/json", body.getBytes(StandardCharsets.UTF_8)));
  }

  private static JsonNode decode(ResourceType type, String body) {
    return RequestBody.read(type, "application/json", body.getBytes(StandardCharsets.UTF_8));
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "{\"a\":1|unexpected end of JSON input",
      "{\"a\" 1}|invalid character '1' after object key",
      "{\"a\":1,}|invalid character '}' looking for beginning of object key string",
      "{\"a\":'x'}|invalid character '\\'' looking for beginning of value",
      "{} x|invalid character 'x' after top-level value",
      "{\"a\":tru}|invalid character '}' in literal true (expecting 'e')",
      "{\"a\":-}|invalid character '}' in numeric literal"})
  void syntaxErrorsUseGoMessages(String body, String message) {
    assertEquals(message, assertThrows(GoJson.SyntaxError.class,
        () -> GoJson.parse(body.getBytes(StandardCharsets.UTF_8))).getMessage());
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "2024-01-01T00:00:00.123456Z|2024-01-01T00:00:00.123456Z",
      "2024-01-01T00:00:00.123456+02:00|2023-12-31T22:00:00.123456Z",
      "2024-01-01T00:00:00Z|cannot parse \"Z\" as \".000000\"",
      "2024-01-01T00:00:00.123Z|cannot parse \".123Z\" as \".000000\"",
      "2024-01-01T00:00:00.123456789Z|cannot parse \"789Z\" as \"Z07:00\"",
      "2024-01-01|cannot parse \"\" as \"T\"",
      "garbage|cannot parse \"garbage\" as \"2006\""})
  void microTimeNeedsSixDigits(String value, String expected) {
    String got;
    try {
      got = GoTime.formatMicro(GoTime.parse(value, true));
    } catch (GoTime.ParseError e) {
      got = e.getMessage().substring(e.getMessage().indexOf(": ") + 2);
    }
    assertEquals(expected, got);
  }

  @Test
  void timeTakesAnyFractionAndWritesSeconds() {
    assertEquals("2023-12-31T22:00:00Z", GoTime.formatSeconds(GoTime.parse("2024-01-01T00:00:00.123456789+02:00",
        false)));
    assertEquals("parsing time \"2024-13-01T00:00:00Z\": month out of range",
        assertThrows(GoTime.ParseError.class, () -> GoTime.parse("2024-13-01T00:00:00Z", false)).getMessage());
  }

  @Test
  void leasesArePrunedAndZeroValuesWritten() {
    JsonNode lease = decode(ResourceType.LEASES, "{\"metadata\":{\"name\":\"l\",\"x\":1},\"y\":2,\"spec\":"
        + "{\"holderIdentity\":null,\"leaseDurationSeconds\":0,\"HolderIdentity\":\"case\"}}");
    assertEquals("{\"metadata\":{\"name\":\"l\",\"creationTimestamp\":null},\"spec\":{\"leaseDurationSeconds\":0}}",
        lease.toString());
    JsonNode event = decode(ResourceType.EVENTS, "{\"metadata\":{\"name\":\"e\"},\"count\":0}");
    assertEquals("{\"metadata\":{\"name\":\"e\",\"creationTimestamp\":null},\"involvedObject\":{},\"source\":{},"
        + "\"firstTimestamp\":null,\"lastTimestamp\":null,\"eventTime\":null,\"reportingComponent\":\"\","
        + "\"reportingInstance\":\"\"}", event.toString());
  }

  @Test
  void typeErrorsQuoteTheBodyAsJsonIteratorDoes() {
    assertEquals("Lease in version \"v1\" cannot be handled as a Lease: v1.Lease.Spec: v1.LeaseSpec."
        + "LeaseDurationSeconds: readUint32: unexpected character: \uFFFD, error found in #10 byte of ...|Seconds\":"
        + "\"15\"}}|..., bigger context ...|ta\":{\"name\":\"h6\"},\"spec\":{\"leaseDurationSeconds\":\"15\"}}|...",
        read(ResourceType.LEASES, "{\"metadata\":{\"name\":\"h6\"},\"spec\":{\"leaseDurationSeconds\":\"15\"}}")
            .getMessage());
    assertEquals("Lease in version \"v1\" cannot be handled as a Lease: v1.Lease.Spec: v1.LeaseSpec."
        + "LeaseDurationSeconds: assertInteger: can not decode float as int, error found in #10 byte of ...|Seconds"
        + "\":1.5}}|..., bigger context ...|ta\":{\"name\":\"h7\"},\"spec\":{\"leaseDurationSeconds\":1.5}}|...",
        read(ResourceType.LEASES, "{\"metadata\":{\"name\":\"h7\"},\"spec\":{\"leaseDurationSeconds\":1.5}}")
            .getMessage());
    // the general decoder of a large struct reads on after the failure and wraps the error in each field it meets
    String v1 = "{\"metadata\":{\"name\":\"v\"},\"eventTime\":\"2024-01-01T00:00:00Z\",\"action\":\"A\",\"reason\":"
        + "\"R\",\"regarding\":{\"kind\":\"Pod\"},\"note\":\"n\"}";
    String message = read(ResourceType.EVENTS_V1, v1).getMessage();
    assertTrue(message.startsWith("Event in version \"v1\" cannot be handled as a Event: v1.Event.Regarding: "
        + "v1.ObjectReference.Reason: Action: EventTime: unmarshalerDecoder: parsing time"), message);
  }

  @Test
  void bodiesThatAreNotObjectsOrOfAnotherKind() {
    assertEquals("the object provided is unrecognized (must be of type Lease): couldn't get version/kind; json "
        + "parse error: unexpected end of JSON input (<empty>)", read(ResourceType.LEASES, "").getMessage());
    assertEquals("the object provided is unrecognized (must be of type Lease): couldn't get version/kind; json "
        + "parse error: json: cannot unmarshal array into Go value of type struct { APIVersion string \"json:\\\""
        + "apiVersion,omitempty\\\"\"; Kind string \"json:\\\"kind,omitempty\\\"\" } (5b5d)",
        read(ResourceType.LEASES, "[]").getMessage());
    assertEquals("Node in version \"v1\" cannot be handled as a Lease: converting (v1.Node) to "
        + "(coordination.Lease): unknown conversion",
        read(ResourceType.LEASES, "{\"kind\":\"Node\",\"apiVersion\":\"v1\"}").getMessage());
    assertEquals(415, assertThrows(StatusException.class, () -> RequestBody.read(ResourceType.LEASES,
        "text/plain", "{}".getBytes(StandardCharsets.UTF_8))).code);
  }
}
