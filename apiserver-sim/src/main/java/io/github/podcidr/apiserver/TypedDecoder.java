package io.github.podcidr.apiserver;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Decodes a request body into a typed object and writes it back, as kube-apiserver does with its Go structs: the
 * result is what the real server stores. Unknown fields are dropped (case-sensitively), {@code null} means "unset",
 * timestamps are re-written in UTC ({@link GoTime}), unset optional fields disappear and unset required ones take
 * their Go zero value ({@code "spec":{}} for a Lease, {@code "eventTime":null} for an Event).
 *
 * <p>A value of the wrong JSON type fails with json-iterator's message and its quote of the body around the
 * offending byte, e.g. {@code v1.Lease.Spec: v1.LeaseSpec.RenewTime: unmarshalerDecoder: parsing time ... error
 * found in #10 byte of ...|00:00:00Z"}}|..., bigger context ...|...|...}. The types are those of
 * {@link ResourceType#LEASES}, {@link ResourceType#EVENTS}, {@link ResourceType#EVENTS_V1} and
 * {@link ResourceType#NAMESPACES}; {@link #decodes} is false for the others, which are stored as sent.
 */
final class TypedDecoder {
  /** A type-mismatch as json-iterator reports it; {@code head} is where its iterator stood. */
  static final class DecodeError extends RuntimeException {
    private static final long serialVersionUID = 1L;

    DecodeError(String message) {
      super(message, null, false, false);
    }
  }

  private final byte[] body;

  private TypedDecoder(byte[] body) {
    this.body = body;
  }

  /** True when {@code type} has a schema here. */
  static boolean decodes(ResourceType type) {
    return GoSchema.of(type) != null;
  }

  /**
   * Decodes {@code value} (a parse of {@code body}) as {@code type}, keeping {@code kind} and {@code apiVersion}.
   *
   * @throws DecodeError when a value has the wrong type (message without the "cannot be handled" prefix)
   */
  static ObjectNode decode(ResourceType type, byte[] body, GoJson.Value value) {
    GoSchema.Struct schema = GoSchema.of(type);
    ObjectNode out = new TypedDecoder(body).struct(schema, value);
    for (String f : new String[] {"kind", "apiVersion"}) {
      GoJson.Value v = value.fields().get(f);
      if (v != null && v.kind() == GoJson.Kind.STRING && !v.text().isEmpty()) {
        out.put(f, v.text());
      }
    }
    return out;
  }

  /**
   * Decodes the result of a patch, as the patch handler decodes the patched JSON: a type error is 422 on the field
   * {@code patch}, quoting the whole patched object (kube-apiserver's quote also holds its managedFields).
   */
  static ObjectNode decodePatched(ResourceType type, ObjectNode patched) {
    byte[] bytes = Json.bytes(patched);
    try {
      return decode(type, bytes, GoJson.parse(bytes));
    } catch (DecodeError e) {
      String json = new String(bytes, StandardCharsets.UTF_8);
      throw StatusException.invalid("", "", "",
          java.util.List.of(FieldError.invalid("patch", FieldError.quote(json), e.getMessage())));
    }
  }

  // ------------------------------------------------------------------------------------------------ decoding

  private ObjectNode struct(GoSchema.Struct s, GoJson.Value v) {
    ObjectNode out = Json.object();
    if (v.kind() != GoJson.Kind.OBJECT) {
      throw fail(v.start() + 1, "readObjectStart", "expect { or n, but found " + firstChar(v));
    }
    List<Map.Entry<String, GoJson.Value>> entries = new ArrayList<>(v.fields().entrySet());
    for (int k = 0; k < entries.size(); k++) {
      GoSchema.Field f = s.fields().get(entries.get(k).getKey());
      if (f == null) {
        continue; // pruned, as json-iterator skips unknown fields
      }
      try {
        JsonNode decoded = field(f, entries.get(k).getValue());
        if (decoded != null) {
          out.set(f.json(), decoded);
        }
      } catch (DecodeError err) {
        throw new DecodeError(s.goName() + "." + afterFailure(s, entries, k, f.goName() + ": " + err.getMessage()));
      }
    }
    // Go writes every field of the struct: zero values where omitempty does not drop them.
    ObjectNode ordered = Json.object();
    for (GoSchema.Field f : s.fields().values()) {
      JsonNode x = out.get(f.json());
      if (x == null) {
        x = f.zeroValue();
      }
      if (x != null && !(f.omitEmpty() && GoSchema.isEmpty(f, x))) {
        ordered.set(f.json(), x);
      }
    }
    return ordered;
  }

  /**
   * The error once the struct's decoder is done with the fields after the failed one at {@code failed}: the
   * general decoder reads on, and each known field it meets wraps the error in its name; a nested struct's
   * decoder wraps it in its type and leaves the object unread, which ends the loop. Unknown fields are skipped.
   */
  private static String afterFailure(GoSchema.Struct s, List<Map.Entry<String, GoJson.Value>> entries, int failed,
      String error) {
    if (!s.general()) {
      return error;
    }
    String msg = error;
    for (int m = failed + 1; m < entries.size(); m++) {
      GoSchema.Field g = s.fields().get(entries.get(m).getKey());
      if (g == null) {
        continue;
      }
      if (g.type() == GoSchema.Type.STRUCT) {
        return g.goName() + ": " + g.struct().goName() + "." + msg;
      }
      msg = g.goName() + ": " + msg;
    }
    return msg;
  }

  /** One field's value, or null when it is unset (null or a zero value that is omitted). */
  private JsonNode field(GoSchema.Field f, GoJson.Value v) {
    if (v.kind() == GoJson.Kind.NULL) {
      return f.pointer() ? null : f.zeroValue();
    }
    switch (f.type()) {
      case STRING:
        if (v.kind() != GoJson.Kind.STRING) {
          throw fail(v.start() + 1, "ReadString", "expects \" or n, but found " + firstChar(v));
        }
        return Json.NODES.textNode(v.text());
      case INT32:
      case INT64:
        return Json.NODES.numberNode(integer(f, v));
      case BOOL:
        if (v.kind() != GoJson.Kind.BOOL) {
          throw fail(v.start() + 1, "ReadBool", "expect t or f, but found " + firstChar(v));
        }
        return Json.NODES.booleanNode(v.text().equals("true"));
      case TIME:
      case MICRO_TIME:
        return time(f, v);
      case STRING_MAP: {
        if (v.kind() != GoJson.Kind.OBJECT) {
          throw fail(v.start() + 1, "ReadMapCB", "expect { or n, but found " + firstChar(v));
        }
        ObjectNode m = Json.object();
        for (Map.Entry<String, GoJson.Value> e : v.fields().entrySet()) {
          GoJson.Value x = e.getValue();
          if (x.kind() == GoJson.Kind.NULL) {
            m.put(e.getKey(), "");
          } else if (x.kind() != GoJson.Kind.STRING) {
            throw fail(x.start() + 1, "ReadString", "expects \" or n, but found " + firstChar(x));
          } else {
            m.put(e.getKey(), x.text());
          }
        }
        return m;
      }
      case STRUCT:
        return struct(f.struct(), v);
      case LIST: {
        if (v.kind() != GoJson.Kind.ARRAY) {
          throw new DecodeError(f.goType() + ": " + failure(v.start() + 1, "decode slice",
              "expect [ or n, but found " + firstChar(v)));
        }
        ArrayNode a = Json.NODES.arrayNode();
        for (GoJson.Value x : v.items()) {
          try {
            if (f.struct() != null) {
              a.add(x.kind() == GoJson.Kind.NULL ? f.struct().zeroObject() : struct(f.struct(), x));
            } else if (x.kind() == GoJson.Kind.NULL) {
              a.add("");
            } else if (x.kind() != GoJson.Kind.STRING) {
              throw fail(x.start() + 1, "ReadString", "expects \" or n, but found " + firstChar(x));
            } else {
              a.add(x.text());
            }
          } catch (DecodeError err) {
            throw new DecodeError(f.goType() + ": " + err.getMessage());
          }
        }
        return a;
      }
      default:
        throw new IllegalStateException("no decoder for " + f.type());
    }
  }

  private long integer(GoSchema.Field f, GoJson.Value v) {
    String reader = f.type() == GoSchema.Type.INT32 ? "readUint32" : "readUint64";
    if (v.kind() != GoJson.Kind.NUMBER) {
      // json-iterator maps the character to "not a digit" (255) and prints that byte: U+FFFD once encoded.
      throw fail(v.start() + 1, reader, "unexpected character: \uFFFD");
    }
    String lit = v.text();
    int i = lit.startsWith("-") ? 1 : 0;
    int digitsEnd = i;
    while (digitsEnd < lit.length() && Character.isDigit(lit.charAt(digitsEnd))) {
      digitsEnd++;
    }
    if (digitsEnd < lit.length() && lit.charAt(digitsEnd) == '.') {
      throw fail(v.start() + digitsEnd, "assertInteger", "can not decode float as int");
    }
    if (digitsEnd < lit.length()) {
      // an exponent: json-iterator stops at 'e' and then fails on the struct's next token
      throw fail(v.start() + digitsEnd + 1, "ReadObjectCB", "object not ended with }");
    }
    boolean int32 = f.type() == GoSchema.Type.INT32;
    java.math.BigInteger n = new java.math.BigInteger(lit);
    java.math.BigInteger magnitude = n.abs();
    if (magnitude.bitLength() > (int32 ? 32 : 64)) {
      // the unsigned reader wraps while multiplying: it stops with its head after the 8 digits it read at once
      throw fail(v.start() + i + 8, reader, "overflow");
    }
    java.math.BigInteger limit = java.math.BigInteger.valueOf(int32 ? Integer.MAX_VALUE : Long.MAX_VALUE);
    if (magnitude.compareTo(n.signum() < 0 ? limit.add(java.math.BigInteger.ONE) : limit) > 0) {
      throw fail(v.end(), int32 ? "ReadInt32" : "ReadInt64", "overflow: " + magnitude);
    }
    return n.longValueExact();
  }

  private JsonNode time(GoSchema.Field f, GoJson.Value v) {
    String why;
    if (v.kind() != GoJson.Kind.STRING) {
      why = "json: cannot unmarshal " + v.kind().goName + " into Go value of type string";
    } else {
      try {
        boolean micro = f.type() == GoSchema.Type.MICRO_TIME;
        var t = GoTime.parse(v.text(), micro);
        return Json.NODES.textNode(micro ? GoTime.formatMicro(t) : GoTime.formatSeconds(t));
      } catch (GoTime.ParseError e) {
        why = e.getMessage();
      }
    }
    throw fail(v.end(), "unmarshalerDecoder", why);
  }

  private String firstChar(GoJson.Value v) {
    return new String(body, v.start(), 1, StandardCharsets.ISO_8859_1);
  }

  private DecodeError fail(int head, String operation, String message) {
    return new DecodeError(failure(head, operation, message));
  }

  /** json-iterator's {@code ReportError}: the message and the body 10 and 50 bytes either side of the head. */
  private String failure(int head, String operation, String message) {
    int peekStart = Math.max(0, head - 10);
    int peekEnd = Math.min(body.length, head + 10);
    int contextStart = Math.max(0, head - 50);
    int contextEnd = Math.min(body.length, head + 50);
    return operation + ": " + message + ", error found in #" + (head - peekStart) + " byte of ...|"
        + new String(body, peekStart, peekEnd - peekStart, StandardCharsets.UTF_8) + "|..., bigger context ...|"
        + new String(body, contextStart, contextEnd - contextStart, StandardCharsets.UTF_8) + "|...";
  }
}
