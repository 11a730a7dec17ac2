package io.github.podcidr.controller;

import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Go-style flag parsing: {@code --name=value}, {@code --name value}, one dash or two, booleans as {@code --flag}
 * or {@code --flag=false} (never {@code --flag false}, as in Go, so that a following argument is not swallowed).
 * A repeated list flag appends; any other repeated flag keeps the last value. Unknown flags and stray arguments are
 * errors, with a "did you mean" for a close name. Parsing only splits and records raw text; the typed readers
 * ({@link Values#integer}, {@link Values#duration}...) report every bad value as a {@link ConfigError}, so a caller
 * collects all errors before acting.
 */
final class FlagSet {
    /** What a flag takes. */
    enum Kind {
        STRING, INT, FLOAT, BOOL, DURATION, LIST
    }

    /**
     * One flag.
     *
     * @param name the name without dashes
     * @param kind what it takes
     * @param defaultText the default as shown in help, or "" for none
     * @param usage what it does
     */
    record Flag(String name, Kind kind, String defaultText, String usage) {
    }

    private final String command;
    private final Map<String, Flag> flags = new LinkedHashMap<>();

    FlagSet(String command) {
        this.command = command;
    }

    FlagSet add(String name, Kind kind, String defaultText, String usage) {
        flags.put(name, new Flag(name, kind, defaultText, usage));
        return this;
    }

    List<Flag> flags() {
        return List.copyOf(flags.values());
    }

    /** The raw values given, and the errors of the command line itself. */
    static final class Values {
        private final Map<String, String> given = new LinkedHashMap<>();
        private final List<ConfigError> errors = new ArrayList<>();
        private boolean help;

        boolean help() {
            return help;
        }

        List<ConfigError> errors() {
            return errors;
        }

        void error(String flag, String value, String message) {
            errors.add(new ConfigError(flag, value, message));
        }

        boolean has(String name) {
            return given.containsKey(name);
        }

        String raw(String name) {
            return given.get(name);
        }

        String string(String name, String dflt) {
            return given.getOrDefault(name, dflt);
        }

        /** Reads an integer flag; a bad value is recorded as an error and the default returned. */
        int integer(String name, int dflt, String example) {
            String v = given.get(name);
            if (v == null) {
                return dflt;
            }
            try {
                return Integer.parseInt(v.strip());
            } catch (NumberFormatException e) {
                error(name, v, "is not a whole number; e.g. --" + name + "=" + example);
                return dflt;
            }
        }

        double decimal(String name, double dflt, String example) {
            String v = given.get(name);
            if (v == null) {
                return dflt;
            }
            try {
                double d = Double.parseDouble(v.strip());
                if (Double.isNaN(d) || Double.isInfinite(d)) {
                    throw new NumberFormatException(v);
                }
                return d;
            } catch (NumberFormatException e) {
                error(name, v, "is not a number; e.g. --" + name + "=" + example);
                return dflt;
            }
        }

        boolean bool(String name, boolean dflt) {
            String v = given.get(name);
            if (v == null) {
                return dflt;
            }
            switch (v.toLowerCase(Locale.ROOT)) {
                case "true", "1", "t" -> {
                    return true;
                }
                case "false", "0", "f" -> {
                    return false;
                }
                default -> {
                    error(name, v, "is not a boolean; expected true or false, e.g. --" + name + "=false");
                    return dflt;
                }
            }
        }

        Duration duration(String name, Duration dflt, String example) {
            String v = given.get(name);
            if (v == null) {
                return dflt;
            }
            try {
                return GoDuration.parse(v);
            } catch (IllegalArgumentException e) {
                error(name, v, GoDuration.problem(v) + "; e.g. --" + name + "=" + example);
                return dflt;
            }
        }

        /** A comma list: items stripped, empty items dropped. */
        List<String> list(String name) {
            String v = given.get(name);
            List<String> out = new ArrayList<>();
            if (v == null) {
                return out;
            }
            for (String item : v.split(",", -1)) {
                if (!item.isBlank()) {
                    out.add(item.strip());
                }
            }
            return out;
        }
    }

    /**
     * Splits a command line into flag values; never throws.
     *
     * @param args the arguments after the command name
     * @return the values and the errors of the command line
     */
    Values parse(String[] args) {
        Values v = new Values();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (!arg.startsWith("-") || arg.equals("-") || arg.equals("--")) {
                v.error("argument " + (i + 1), arg, "is not a flag; " + command + " takes only --name=value flags"
                        + " (see --help)");
                continue;
            }
            String body = arg.startsWith("--") ? arg.substring(2) : arg.substring(1);
            int eq = body.indexOf('=');
            String name = eq < 0 ? body : body.substring(0, eq);
            String value = eq < 0 ? null : body.substring(eq + 1);
            if (name.equals("help") || name.equals("h")) {
                v.help = true;
                continue;
            }
            Flag flag = flags.get(name);
            if (flag == null) {
                String near = nearest(name);
                v.error(name, value, "unknown flag" + (near == null ? "" : "; did you mean --" + near + "?")
                        + " (see --help)");
                if (value == null && i + 1 < args.length && !args[i + 1].startsWith("-")) {
                    i++; // most likely its value: do not report it a second time
                }
                continue;
            }
            if (value == null) {
                if (flag.kind() == Kind.BOOL) {
                    value = "true";
                } else if (i + 1 < args.length) {
                    value = args[++i];
                } else {
                    v.error(name, null, "needs a value, e.g. --" + name + "=" + exampleOf(flag));
                    continue;
                }
            }
            if (flag.kind() == Kind.LIST && v.given.containsKey(name) && !v.given.get(name).isEmpty()) {
                value = v.given.get(name) + "," + value;
            }
            v.given.put(name, value);
        }
        return v;
    }

    private static String exampleOf(Flag f) {
        return f.defaultText().isEmpty() ? "..." : f.defaultText();
    }

    /** The known flag closest to {@code name} by edit distance, if close enough to be a typo. */
    String nearest(String name) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String known : flags.keySet()) {
            int d = editDistance(name.toLowerCase(Locale.ROOT), known);
            if (d < bestDistance) {
                best = known;
                bestDistance = d;
            }
        }
        int allowed = Math.max(2, name.length() / 4);
        if (best != null && (bestDistance <= allowed || best.startsWith(name) && name.length() >= 4)) {
            return best;
        }
        for (String known : flags.keySet()) {
            if (name.length() >= 4 && known.endsWith("-" + name)) {
                return known; // a shortened name: --lease-name for --leader-elect-lease-name
            }
        }
        return null;
    }

    static int editDistance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }

    /**
     * Prints the flags as a table.
     *
     * @param out where to print
     * @param synopsis the usage line
     */
    void printHelp(PrintStream out, String synopsis) {
        out.println("Usage: " + synopsis);
        out.println();
        int width = 0;
        for (Flag f : flags.values()) {
            width = Math.max(width, f.name().length() + typeName(f.kind()).length() + 3);
        }
        for (Flag f : flags.values()) {
            String left = "--" + f.name() + " " + typeName(f.kind());
            StringBuilder line = new StringBuilder("  ").append(left);
            line.append(" ".repeat(width + 2 - left.length())).append(f.usage());
            if (!f.defaultText().isEmpty()) {
                line.append(" (default ").append(f.defaultText()).append(')');
            }
            out.println(line);
        }
        out.println("  --help" + " ".repeat(Math.max(1, width - 4)) + "print this table and exit");
    }

    static String typeName(Kind k) {
        return switch (k) {
            case STRING -> "string";
            case INT -> "int";
            case FLOAT -> "float";
            case BOOL -> "bool";
            case DURATION -> "duration";
            case LIST -> "list";
        };
    }
}
