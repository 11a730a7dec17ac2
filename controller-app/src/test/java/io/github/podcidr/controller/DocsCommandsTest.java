package io.github.podcidr.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Keeps the command blocks of README.md and docs/*.md in step with the code, and their links working.
 *
 * <p>A fenced block whose first line is {@code $ java -jar controller-app/target/podcidr-controller.jar ARGS} is a
 * transcript: the command runs here in process ({@link Main#run}) and what it prints (standard output, then standard
 * error) must be the rest of the block, character for character ({@code --help}, flag errors, {@code plan}). A
 * {@code demo} transcript shows the summary only ({@code ...} stands for the progress lines): its lines must carry the
 * same labels in the same order, and the lines that do not depend on timing (nodes, lease, result) must be equal.
 *
 * <p>Every relative link of those files (and of the benchmark history and apiserver-sim's README) must name a file
 * that exists and, with {@code #anchor}, a heading of that file as GitHub derives anchors from headings.
 */
class DocsCommandsTest {
    private static final Path ROOT = Path.of("..");
    private static final String JAR = "java -jar controller-app/target/podcidr-controller.jar";
    private static final Pattern FENCE = Pattern.compile("(?ms)^( *)```[a-z]*\\n(.*?)^\\1```\\s*$");
    private static final Pattern LINK = Pattern.compile("\\]\\(([^)\\s]+)\\)");
    /** The demo summary's lines whose text does not depend on timing or on which node of the duplicate pair loses. */
    private static final Set<String> STABLE_DEMO_LINES = Set.of("nodes", "lease", "result");

    /** README.md and every Markdown file of docs/. */
    static List<Path> docs() {
        List<Path> out = new ArrayList<>();
        out.add(ROOT.resolve("README.md"));
        try (Stream<Path> files = Files.list(ROOT.resolve("docs"))) {
            files.filter(p -> p.toString().endsWith(".md")).sorted().forEach(out::add);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    private static String read(Path p) {
        try {
            return Files.readString(p, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The contents of each fenced block of {@code text}, its indentation removed, each line ending with a newline. */
    static List<String> blocks(String text) {
        List<String> out = new ArrayList<>();
        Matcher m = FENCE.matcher(text);
        while (m.find()) {
            String indent = m.group(1);
            StringBuilder b = new StringBuilder();
            for (String line : m.group(2).split("\n", -1)) {
                b.append(line.startsWith(indent) ? line.substring(indent.length()) : line).append('\n');
            }
            out.add(b.substring(0, b.length() - 1)); // the fence's own line break is not content
        }
        return out;
    }

    @TestFactory
    Stream<DynamicTest> everyTranscriptIsWhatTheCommandPrints() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Path doc : docs()) {
            for (String block : blocks(read(doc))) {
                if (!block.startsWith("$ " + JAR)) {
                    continue;
                }
                int eol = block.indexOf('\n');
                String command = block.substring(2, eol);
                String expected = block.substring(eol + 1);
                tests.add(DynamicTest.dynamicTest(ROOT.relativize(doc) + ": " + command,
                        () -> checkTranscript(command, expected)));
            }
        }
        assertTrue(tests.size() >= 6, "transcripts found: " + tests.size());
        return tests.stream();
    }

    private static void checkTranscript(String command, String expected) {
        String rest = command.substring(JAR.length()).strip();
        String[] args = rest.isEmpty() ? new String[0] : rest.split(" +");
        ControllerFlagsTest.Output o = ControllerFlagsTest.Main_run(args);
        String printed = o.out() + o.err();
        if (args.length > 0 && args[0].equals("demo") && !List.of(args).contains("--help")) {
            assertEquals(0, o.code(), printed);
            assertTrue(expected.startsWith("...\nSummary\n"), "a demo transcript shows the summary after ...");
            checkDemoSummary(expected.substring(4), printed);
            return;
        }
        assertEquals(expected, printed, () -> "the block of `" + command + "` differs from what it prints");
        assertEquals(o.err().isEmpty() ? 0 : Main.EXIT_CONFIG, o.code(), printed);
    }

    /** Same labels in the same order; the stable lines equal. */
    private static void checkDemoSummary(String expected, String printed) {
        int at = printed.indexOf("\nSummary\n");
        assertTrue(at >= 0, printed);
        List<String> want = expected.lines().toList();
        List<String> got = printed.substring(at + 1).lines().toList();
        assertEquals(labels(want), labels(got), () -> "the demo's summary has other lines now:\n" + printed);
        for (int i = 0; i < want.size(); i++) {
            if (STABLE_DEMO_LINES.contains(label(want.get(i)))) {
                assertEquals(want.get(i), got.get(i), "line " + label(want.get(i)));
            }
        }
    }

    private static List<String> labels(List<String> lines) {
        return lines.stream().map(DocsCommandsTest::label).toList();
    }

    /** "  nodes              2,000 (..." -> "nodes": the summary's first column, 19 characters after the indent. */
    private static String label(String line) {
        return line.startsWith("  ") ? line.substring(2, Math.min(line.length(), 21)).strip() : line;
    }

    @Test
    void everyFlagHasARowInTheConfigurationReference() {
        String reference = read(ROOT.resolve("docs/configuration.md"));
        for (FlagSet.Flag f : ControllerFlags.flagSet().flags()) {
            if (!f.name().equals("help")) {
                assertTrue(reference.contains("| `--" + f.name() + "` |"),
                        () -> "docs/configuration.md lacks a row for --" + f.name());
            }
        }
    }

    @Test
    void theReadmeShowsTheTwoCommandsAndCiRunsTheFirst() {
        String readme = read(ROOT.resolve("README.md"));
        List<String> blocks = blocks(readme);
        assertTrue(blocks.contains("mvn -B verify\n"), "README's test command");
        assertTrue(blocks.contains(
                "mvn -B -q package -DskipTests && java -jar controller-app/target/podcidr-controller.jar demo\n"),
                "README's demo command");
        String ci = read(ROOT.resolve(".ci/run"));
        assertTrue(ci.contains("Runs the README's test command") && ci.contains("\nmvn -B verify "), ci);
    }

    @Test
    void noCommandTeachesReuseValues() {
        for (Path doc : docs()) {
            for (String block : blocks(read(doc))) {
                assertFalse(block.replace("--reset-then-reuse-values", "").contains("--reuse-values"),
                        () -> doc + " shows --reuse-values, which after an upgrade from the Go chart leaves every new"
                                + " key nil:\n" + block);
            }
        }
    }

    @Test
    void everyRelativeLinkResolves() {
        List<Path> files = new ArrayList<>(docs());
        files.add(ROOT.resolve("ipam-bench/results/HISTORY.md"));
        files.add(ROOT.resolve("apiserver-sim/README.md"));
        Map<Path, Set<String>> anchors = new HashMap<>();
        List<String> broken = new ArrayList<>();
        int checked = 0;
        for (Path file : files) {
            String text = FENCE.matcher(read(file)).replaceAll("");
            Matcher m = LINK.matcher(text);
            while (m.find()) {
                String target = m.group(1);
                if (target.matches("^[a-z]+:.*")) {
                    continue; // https:, mailto:
                }
                checked++;
                int hash = target.indexOf('#');
                String path = hash < 0 ? target : target.substring(0, hash);
                Path resolved = path.isEmpty() ? file : file.getParent().resolve(path).normalize();
                if (!Files.exists(resolved)) {
                    broken.add(ROOT.relativize(file) + ": " + target + " (no file " + ROOT.relativize(resolved) + ")");
                } else if (hash >= 0 && !anchors.computeIfAbsent(resolved, DocsCommandsTest::anchorsOf)
                        .contains(target.substring(hash + 1))) {
                    broken.add(ROOT.relativize(file) + ": " + target + " (no such heading)");
                }
            }
        }
        assertEquals(List.of(), broken);
        assertTrue(checked > 50, "links checked: " + checked);
    }

    /** The anchors GitHub gives the headings of a Markdown file (lower case, punctuation dropped, spaces to -). */
    static Set<String> anchorsOf(Path file) {
        Set<String> out = new LinkedHashSet<>();
        Map<String, Integer> seen = new HashMap<>();
        for (String line : FENCE.matcher(read(file)).replaceAll("").split("\n")) {
            Matcher h = Pattern.compile("^#{1,6} +(.*?) *#*$").matcher(line);
            if (!h.matches()) {
                continue;
            }
            String slug = h.group(1).toLowerCase(Locale.ROOT).replaceAll("[^\\p{L}\\p{N} _-]", "").replace(' ', '-');
            int n = seen.merge(slug, 1, Integer::sum);
            out.add(n == 1 ? slug : slug + "-" + (n - 1));
        }
        return out;
    }
}
