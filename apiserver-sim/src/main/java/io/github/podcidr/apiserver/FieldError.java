package io.github.podcidr.apiserver;

/**
 * One validation failure, rendered as {@code k8s.io/apimachinery/pkg/util/validation/field/errors.go} does:
 * {@code <field>: <type>: <detail>}, e.g. {@code spec.podCIDRs: Forbidden: node updates may not change podCIDR
 * except from "" to valid}.
 *
 * @param field the JSON path, e.g. {@code spec.taints[0].effect}
 * @param type the error type ({@code Invalid value}, {@code Forbidden}, {@code Required value}...)
 * @param causeType the Status cause reason ({@code FieldValueInvalid}...)
 * @param badValue the value rendered as the real server does (quoted string, JSON), or null when not shown
 * @param detail the explanation, may be empty
 */
record FieldError(String field, String type, String causeType, String badValue, String detail) {

  static FieldError invalid(String field, String renderedValue, String detail) {
    return new FieldError(field, "Invalid value", "FieldValueInvalid", renderedValue, detail);
  }

  static FieldError required(String field, String detail) {
    return new FieldError(field, "Required value", "FieldValueRequired", null, detail);
  }

  static FieldError forbidden(String field, String detail) {
    return new FieldError(field, "Forbidden", "FieldValueForbidden", null, detail);
  }

  static FieldError notSupported(String field, String renderedValue, String supported) {
    return new FieldError(field, "Unsupported value", "FieldValueNotSupported", renderedValue,
        "supported values: " + supported);
  }

  static String quote(String s) {
    return Json.text(Json.NODES.textNode(s));
  }

  /** The part after {@code <field>: }, which is also the cause's message. */
  String detailMessage() {
    StringBuilder b = new StringBuilder(type);
    if (badValue != null) {
      b.append(": ").append(badValue);
    }
    if (detail != null && !detail.isEmpty()) {
      b.append(": ").append(detail);
    }
    return b.toString();
  }

  @Override
  public String toString() {
    return field + ": " + detailMessage();
  }
}
