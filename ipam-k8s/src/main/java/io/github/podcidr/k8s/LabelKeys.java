package io.github.podcidr.k8s;

import java.util.regex.Pattern;

/**
 * Syntax of label and taint keys: an optional DNS-subdomain prefix of at most 253 characters and a slash, then a
 * name of at most 63 characters that starts and ends with an alphanumeric character and otherwise holds
 * alphanumerics, '-', '_' and '.'. Kubernetes: {@code k8s.io/apimachinery/pkg/util/validation/validation.go}
 * ({@code IsQualifiedName}).
 */
final class LabelKeys {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?");
    private static final Pattern PREFIX = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");

    private LabelKeys() {
    }

    /** Null if the key is valid, else a sentence saying why not. */
    static String check(String key) {
        int slash = key.indexOf('/');
        String name = slash < 0 ? key : key.substring(slash + 1);
        if (slash >= 0) {
            String prefix = key.substring(0, slash);
            if (prefix.isEmpty() || prefix.length() > 253 || !PREFIX.matcher(prefix).matches()) {
                return "key \"" + key + "\" has prefix \"" + prefix + "\", which is not a lower-case DNS subdomain"
                        + " (e.g. example.com/name)";
            }
        }
        if (name.isEmpty() || name.length() > 63 || !NAME.matcher(name).matches()) {
            return "key \"" + key + "\" has name \"" + name + "\"; a name is 1 to 63 characters of letters, digits,"
                    + " '-', '_' and '.', starting and ending with a letter or digit";
        }
        return null;
    }
}
