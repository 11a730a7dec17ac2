package io.github.podcidr.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Keeps the root README's flags table and `plan` example true to the code. */
class ReadmeTest {
    private static String readme() throws IOException {
        return Files.readString(Path.of("..", "README.md"), StandardCharsets.UTF_8);
    }

    @Test
    void everyFlagIsInTheTable() throws IOException {
        String readme = readme();
        for (FlagSet.Flag f : ControllerFlags.flagSet().flags()) {
            assertTrue(readme.contains("| `--" + f.name() + "` |"), () -> "README lacks a row for --" + f.name());
        }
        assertTrue(readme.contains("mvn -B verify"));
        assertTrue(readme.contains(
                "mvn -B -q package -DskipTests && java -jar controller-app/target/podcidr-controller.jar demo"));
    }

    @Test
    void thePlanExampleIsWhatPlanPrints() throws IOException {
        String readme = readme();
        ControllerFlagsTest.Output o = ControllerFlagsTest.Main_run(new String[] {"plan", "--cluster-cidr",
            "10.244.0.0/16", "--node-cidr-mask-size", "24", "--reserved-cidrs", "10.96.0.0/12,172.16.0.0/16",
            "--nodes", "200"});
        assertEquals(0, o.code());
        assertTrue(readme.contains("```\n" + o.out() + "```"), () -> "README's plan output differs from:\n" + o.out());
    }
}
