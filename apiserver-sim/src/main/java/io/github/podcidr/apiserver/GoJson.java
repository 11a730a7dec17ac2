package io.github.podcidr.apiserver;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A JSON reader that keeps each value's byte span and fails with the messages of Go's {@code encoding/json}
 * ({@code invalid character 'x' looking for beginning of value}, {@code unexpected end of JSON input}), which
 * kube-apiserver returns verbatim when a request body is not JSON. The typed decoder ({@link TypedDecoder}) needs
 * the spans to quote the body around a bad value, as json-iterator does.
 *
 * <p>Use: {@code GoJson.Value v = GoJson.parse(bytes)}; a syntax error throws {@link SyntaxError}.
 */
final class GoJson {
  /** A JSON kind, named as Go's {@code UnmarshalTypeError} names them. */
  enum Kind {
    OBJECT("object"), ARRAY("array"), STRING("string"), NUMBER("number"), BOOL("bool"), NULL("null");

    final String goName;

    Kind(String goName) {
      this.goName = goName;
    }
  }

  /**
   * One parsed value.
   *
   * @param kind its JSON kind
   * @param start offset of its first byte in the input
   * @param end offset just past its last byte
   * @param text the decoded string, the number's literal, "true"/"false", or null
   * @param fields members of an object in input order (a repeated key keeps its last value), else null
   * @param items elements of an array, else null
   */
  record Value(Kind kind, int start, int end, String text, Map<String, Value> fields, List<Value> items) {}

  /** A syntax error with Go's message. */
  static final class SyntaxError extends RuntimeException {
    private static final long serialVersionUID = 1L;

    SyntaxError(String message) {
      super(message, null, false, false);
    }
  }

  private final byte[] in;
  private int pos;

  private GoJson(byte[] in) {
    this.in = in;
  }

  /** Parses a whole document: one value and only whitespace after it. */
  static Value parse(byte[] in) {
    GoJson p = new GoJson(in);
    p.skipSpace();
    Value v = p.value("looking for beginning of value");
    p.skipSpace();
    if (p.pos < in.length) {
      throw p.invalid("after top-level value");
    }
    return v;
  }

  private void skipSpace() {
    while (pos < in.length && (in[pos] == ' ' || in[pos] == '\t' || in[pos] == '\n' || in[pos] == '\r')) {
      pos++;
    }
  }

  private int peek() {
    if (pos >= in.length) {
      throw new SyntaxError("unexpected end of JSON input");
    }
    return in[pos] & 0xff;
  }

  private SyntaxError invalid(String context) {
    return new SyntaxError("invalid character " + quoteChar(in[pos] & 0xff) + " " + context);
  }

  /** Go's {@code quoteChar}: {@code 'x'}, {@code '\''}, {@code '"'}, {@code '\n'}, {@code '\x01'}. */
  static String quoteChar(int c) {
    if (c == '\'') {
      return "'\\''";
    }
    if (c == '"') {
      return "'\"'";
    }
    switch (c) {
      case '\n':
        return "'\\n'";
      case '\r':
        return "'\\r'";
      case '\t':
        return "'\\t'";
      case '\\':
        return "'\\\\'";
      default:
        break;
    }
    if (c < 0x20 || c == 0x7f) {
      return String.format("'\\x%02x'", c);
    }
    if (c >= 0x80) {
      return "'\\x" + String.format("%02x", c) + "'";
    }
    return "'" + (char) c + "'";
  }

  private Value value(String context) {
    int c = peek();
    int start = pos;
    switch (c) {
      case '{':
        return object(start);
      case '[':
        return array(start);
      case '"': {
        String text = string();
        return new Value(Kind.STRING, start, pos, text, null, null);
      }
      case 't':
        literal("true");
        return new Value(Kind.BOOL, start, pos, "true", null, null);
      case 'f':
        literal("false");
        return new Value(Kind.BOOL, start, pos, "false", null, null);
      case 'n':
        literal("null");
        return new Value(Kind.NULL, start, pos, null, null, null);
      default:
        if (c == '-' || (c >= '0' && c <= '9')) {
          number();
          return new Value(Kind.NUMBER, start, pos, new String(in, start, pos - start, StandardCharsets.US_ASCII),
              null, null);
        }
        throw invalid(context);
    }
  }

  private Value object(int start) {
    pos++;
    Map<String, Value> fields = new LinkedHashMap<>();
    skipSpace();
    if (peek() == '}') {
      pos++;
      return new Value(Kind.OBJECT, start, pos, null, fields, null);
    }
    while (true) {
      skipSpace();
      if (peek() != '"') {
        throw invalid("looking for beginning of object key string");
      }
      String key = string();
      skipSpace();
      if (peek() != ':') {
        throw invalid("after object key");
      }
      pos++;
      skipSpace();
      Value v = value("looking for beginning of value");
      fields.remove(key);
      fields.put(key, v);
      skipSpace();
      int c = peek();
      if (c == ',') {
        pos++;
      } else if (c == '}') {
        pos++;
        return new Value(Kind.OBJECT, start, pos, null, fields, null);
      } else {
        throw invalid("after object key:value pair");
      }
    }
  }

  private Value array(int start) {
    pos++;
    List<Value> items = new java.util.ArrayList<>();
    skipSpace();
    if (peek() == ']') {
      pos++;
      return new Value(Kind.ARRAY, start, pos, null, null, items);
    }
    while (true) {
      skipSpace();
      items.add(value("looking for beginning of value"));
      skipSpace();
      int c = peek();
      if (c == ',') {
        pos++;
      } else if (c == ']') {
        pos++;
        return new Value(Kind.ARRAY, start, pos, null, null, items);
      } else {
        throw invalid("after array element");
      }
    }
  }

  private void literal(String word) {
    for (int i = 0; i < word.length(); i++) {
      int c = peek();
      if (c != word.charAt(i)) {
        throw invalid("in literal " + word + " (expecting " + quoteChar(word.charAt(i)) + ")");
      }
      pos++;
    }
  }

  private void number() {
    if (peek() == '-') {
      pos++;
      int c = peek();
      if (c < '0' || c > '9') {
        throw invalid("in numeric literal");
      }
    }
    if (peek() == '0') {
      pos++;
    } else {
      digits();
    }
    if (pos < in.length && in[pos] == '.') {
      pos++;
      int c = peek();
      if (c < '0' || c > '9') {
        throw invalid("after decimal point in numeric literal");
      }
      digits();
    }
    if (pos < in.length && (in[pos] == 'e' || in[pos] == 'E')) {
      pos++;
      if (peek() == '+' || peek() == '-') {
        pos++;
      }
      int c = peek();
      if (c < '0' || c > '9') {
        throw invalid("in exponent of numeric literal");
      }
      digits();
    }
  }

  private void digits() {
    while (pos < in.length && in[pos] >= '0' && in[pos] <= '9') {
      pos++;
    }
  }

  /** Reads a string starting at its opening quote; returns its decoded text. */
  private String string() {
    pos++;
    StringBuilder b = new StringBuilder();
    int runStart = pos;
    while (true) {
      int c = peek();
      if (c == '"') {
        b.append(new String(in, runStart, pos - runStart, StandardCharsets.UTF_8));
        pos++;
        return b.toString();
      }
      if (c < 0x20) {
        throw invalid("in string literal");
      }
      if (c == '\\') {
        b.append(new String(in, runStart, pos - runStart, StandardCharsets.UTF_8));
        pos++;
        int e = peek();
        switch (e) {
          case '"':
          case '\\':
          case '/':
            b.append((char) e);
            break;
          case 'b':
            b.append('\b');
            break;
          case 'f':
            b.append('\f');
            break;
          case 'n':
            b.append('\n');
            break;
          case 'r':
            b.append('\r');
            break;
          case 't':
            b.append('\t');
            break;
          case 'u': {
            int code = 0;
            for (int i = 0; i < 4; i++) {
              pos++;
              int h = Character.digit(peek(), 16);
              if (h < 0) {
                throw invalid("in \\u hexadecimal character escape");
              }
              code = code * 16 + h;
            }
            b.append((char) code);
            break;
          }
          default:
            throw invalid("in string escape code");
        }
        pos++;
        runStart = pos;
        continue;
      }
      pos++;
    }
  }
}
