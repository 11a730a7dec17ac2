package io.github.podcidr.apiserver;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A parsed {@code labelSelector} plus {@code fieldSelector}, as list and watch accept them.
 *
 * <p>Label grammar as in {@code k8s.io/apimachinery/pkg/labels/selector.go}: comma-separated requirements, each
 * {@code key=v}, {@code key==v}, {@code key!=v}, {@code key in (a,b)}, {@code key notin (a,b)}, {@code key},
 * {@code !key}, {@code key>n}, {@code key<n}. Note that {@code key!=v} and {@code notin} also match objects without
 * the key, as upstream does. Fields: {@code metadata.name} and {@code metadata.namespace} with {@code =}, {@code ==}
 * and {@code !=}; any other field label is rejected with 400 {@code field label not supported: <label>}, as the
 * real server does for labels a resource does not index.
 */
final class Selector implements Predicate<StoredObject> {
  static final Selector EVERYTHING = new Selector(List.of());
  /** {@code key in (a,b)} / {@code key notin (a,b)}; the space before the parenthesis is optional. */
  private static final Pattern SET_REQUIREMENT =
      Pattern.compile("(\\S+)\\s+(in|notin)\\s*\\((.*)\\)");

  private final List<Predicate<StoredObject>> requirements;

  private Selector(List<Predicate<StoredObject>> requirements) {
    this.requirements = requirements;
  }

  boolean matchesEverything() {
    return requirements.isEmpty();
  }

  @Override
  public boolean test(StoredObject o) {
    for (Predicate<StoredObject> r : requirements) {
      if (!r.test(o)) {
        return false;
      }
    }
    return true;
  }

  static Selector parse(String labelSelector, String fieldSelector) {
    return parse(null, labelSelector, fieldSelector);
  }

  /** As {@link #parse(String, String)}, with the field labels {@code type} supports ({@link FieldLabels}). */
  static Selector parse(ResourceType type, String labelSelector, String fieldSelector) {
    List<Predicate<StoredObject>> all = new ArrayList<>();
    if (labelSelector != null && !labelSelector.isBlank()) {
      for (String req : splitTopLevel(labelSelector)) {
        all.add(parseLabelRequirement(req.trim(), labelSelector));
      }
    }
    if (fieldSelector != null && !fieldSelector.isBlank()) {
      for (String req : fieldSelector.split(",")) {
        all.add(parseFieldRequirement(type, req.trim(), fieldSelector));
      }
    }
    return all.isEmpty() ? EVERYTHING : new Selector(List.copyOf(all));
  }

  /** Splits on commas that are not inside parentheses. */
  private static List<String> splitTopLevel(String s) {
    List<String> parts = new ArrayList<>();
    int depth = 0;
    int start = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '(') {
        depth++;
      } else if (c == ')') {
        depth--;
      } else if (c == ',' && depth == 0) {
        parts.add(s.substring(start, i));
        start = i + 1;
      }
    }
    parts.add(s.substring(start));
    return parts;
  }

  private static StatusException bad(String selector, String why) {
    return StatusException.badRequest("unable to parse requirement: " + why + " in selector \"" + selector + "\"");
  }

  private static Predicate<StoredObject> parseLabelRequirement(String req, String whole) {
    if (req.isEmpty()) {
      throw bad(whole, "empty requirement");
    }
    if (req.indexOf('(') >= 0 && req.indexOf(')') < 0) {
      // The lexer of labels.Parse reaches the end of the input inside a set.
      throw StatusException.badRequest("unable to parse requirement: found '', expected: ',' or ')'");
    }
    if (req.startsWith("!")) {
      String key = checkKey(req.substring(1).trim(), whole);
      return o -> !o.labels.containsKey(key);
    }
    Matcher set = SET_REQUIREMENT.matcher(req);
    if (set.matches()) {
      String key = checkKey(set.group(1), whole);
      Set<String> values = parseSet("(" + set.group(3) + ")", whole);
      return set.group(2).equals("in") ? o -> values.contains(o.labels.get(key))
          : o -> !values.contains(o.labels.get(key));
    }
    int op;
    if ((op = req.indexOf("!=")) > 0) {
      String key = checkKey(req.substring(0, op).trim(), whole);
      String value = req.substring(op + 2).trim();
      return o -> !value.equals(o.labels.get(key));
    }
    if ((op = req.indexOf("==")) > 0) {
      String key = checkKey(req.substring(0, op).trim(), whole);
      String value = req.substring(op + 2).trim();
      return o -> value.equals(o.labels.get(key));
    }
    if ((op = req.indexOf('=')) > 0) {
      String key = checkKey(req.substring(0, op).trim(), whole);
      String value = req.substring(op + 1).trim();
      return o -> value.equals(o.labels.get(key));
    }
    if ((op = req.indexOf('>')) > 0 || (op = req.indexOf('<')) > 0) {
      boolean greater = req.charAt(op) == '>';
      String key = checkKey(req.substring(0, op).trim(), whole);
      long bound;
      try {
        bound = Long.parseLong(req.substring(op + 1).trim());
      } catch (NumberFormatException e) {
        throw bad(whole, "for 'Gt', 'Lt' operators, the value must be an integer");
      }
      return o -> {
        String v = o.labels.get(key);
        if (v == null) {
          return false;
        }
        try {
          long n = Long.parseLong(v);
          return greater ? n > bound : n < bound;
        } catch (NumberFormatException e) {
          return false;
        }
      };
    }
    String key = checkKey(req, whole);
    return o -> o.labels.containsKey(key);
  }

  private static String checkKey(String key, String whole) {
    if (key.isEmpty() || key.contains(" ") || key.contains("(") || key.contains(")")) {
      throw bad(whole, "invalid label key \"" + key + "\"");
    }
    // labels.Parse validates each key as a qualified name (validateLabelKey).
    List<FieldError> errors = new ArrayList<>();
    Validation.checkQualifiedName("", key, errors);
    if (!errors.isEmpty()) {
      List<String> why = new ArrayList<>();
      errors.forEach(e -> why.add(e.detail()));
      throw StatusException.badRequest("unable to parse requirement: invalid label key " + FieldError.quote(key)
          + ": " + String.join("; ", why));
    }
    return key;
  }

  private static Set<String> parseSet(String s, String whole) {
    if (!s.startsWith("(") || !s.endsWith(")")) {
      throw bad(whole, "found '" + s + "', expected: '('");
    }
    Set<String> values = new HashSet<>();
    for (String v : s.substring(1, s.length() - 1).split(",")) {
      values.add(v.trim());
    }
    return values;
  }

  private static Predicate<StoredObject> parseFieldRequirement(ResourceType type, String req, String whole) {
    String field;
    String value;
    boolean negate;
    int op;
    if ((op = req.indexOf("!=")) > 0) {
      negate = true;
      field = req.substring(0, op).trim();
      value = req.substring(op + 2).trim();
    } else if ((op = req.indexOf("==")) > 0) {
      negate = false;
      field = req.substring(0, op).trim();
      value = req.substring(op + 2).trim();
    } else if ((op = req.indexOf('=')) > 0) {
      negate = false;
      field = req.substring(0, op).trim();
      value = req.substring(op + 1).trim();
    } else {
      throw StatusException.badRequest("invalid selector: '" + whole + "'; can't understand '" + req + "'");
    }
    Predicate<StoredObject> p;
    switch (field) {
      case "metadata.name":
        p = o -> value.equals(o.name);
        break;
      case "metadata.namespace":
        if (type != null && !type.namespaced()) {
          // cluster-scoped types select on metadata.name only (ObjectMetaFieldsSet(meta, false))
          p = FieldLabels.predicate(type, field, value);
          break;
        }
        p = o -> value.equals(o.namespace);
        break;
      default:
        p = FieldLabels.predicate(type, field, value);
        break;
    }
    return negate ? p.negate() : p;
  }
}
