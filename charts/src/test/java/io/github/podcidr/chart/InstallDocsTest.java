package io.github.podcidr.chart;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Keeps the documented install in step with the tests and the chart: README's helm command is the one
 * {@code ChartInstallRealIT} and {@code ControllerRbacRealIT} install ({@link ControllerRbacRealIT#TKE_GUIDE}), its
 * image placeholder aside, and every value that values.yaml describes has a row in docs/configuration.md.
 *
 * <p>helm-java installs without {@code --wait --atomic}: no kubelet runs in the real tier, so the pods never become
 * ready and a waiting install would time out. The README keeps both flags, and this test checks that it does.
 */
class InstallDocsTest {
    private static final Path README = Path.of("..", "README.md");
    private static final Path REFERENCE = Path.of("..", "docs", "configuration.md");
    private static final Path VALUES = Path.of("podcidr-controller", "values.yaml");
    private static final String COMMAND = "helm upgrade --install podcidr-controller ./charts/podcidr-controller";
    /** What the README writes where the tests name a registry. */
    private static final String REGISTRY_PLACEHOLDER = "<registry>";

    /** The README's helm command, its continuation lines joined, as words. */
    private static List<String> readmeCommand() throws IOException {
        String readme = Files.readString(README, StandardCharsets.UTF_8);
        int start = readme.indexOf(COMMAND);
        assertTrue(start >= 0, "README shows `" + COMMAND + " ...`");
        int end = readme.indexOf("```", start);
        String joined = readme.substring(start, end).replaceAll("\\\\\\n\\s*", " ").strip();
        return List.of(joined.split("\\s+"));
    }

    @Test
    void theReadmeInstallsWhatTheRealTierInstalls() throws IOException {
        List<String> words = readmeCommand();
        Map<String, String> sets = new LinkedHashMap<>();
        List<String> others = new ArrayList<>();
        for (int i = 0; i < words.size(); i++) {
            if (words.get(i).equals("--set")) {
                String pair = words.get(++i);
                int eq = pair.indexOf('=');
                sets.put(pair.substring(0, eq), pair.substring(eq + 1).replace("\"", ""));
            } else {
                others.add(words.get(i));
            }
        }
        assertEquals(List.of("helm", "upgrade", "--install", "podcidr-controller", "./charts/podcidr-controller", "-n",
                "kube-system", "--wait", "--atomic"), others);
        Map<String, String> tested = new LinkedHashMap<>(ControllerRbacRealIT.TKE_GUIDE);
        tested.replace("image.repository", tested.get("image.repository").replace("registry.example.com",
                REGISTRY_PLACEHOLDER));
        assertEquals(tested, sets, "README's --set pairs, in order, are the real tier's (TKE guide plus image)");
        assertEquals(new ArrayList<>(tested.keySet()), new ArrayList<>(sets.keySet()));
    }

    @Test
    void everyDescribedValueHasARowInTheReference() throws IOException {
        String reference = Files.readString(REFERENCE, StandardCharsets.UTF_8);
        Matcher m = Pattern.compile("(?m)^\\s*# ([A-Za-z0-9_.]+) -- ").matcher(
                Files.readString(VALUES, StandardCharsets.UTF_8));
        int n = 0;
        while (m.find()) {
            n++;
            String key = m.group(1);
            assertTrue(reference.contains("| `" + key + "` |"), () -> "docs/configuration.md lacks a row for " + key);
        }
        assertTrue(n > 50, "values described in values.yaml: " + n);
    }
}
