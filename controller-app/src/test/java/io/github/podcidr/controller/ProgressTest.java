package io.github.podcidr.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class ProgressTest {
    @Test
    void offATerminalAtMostOneLineASecondAndTheLastCountOnce() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Progress p = new Progress(new PrintStream(bytes, true, StandardCharsets.UTF_8), false, 10);
        p.update(1, 0, 2, 1_000);
        p.update(5, 1, 2, 1_500); // within the second: not printed
        p.update(9, 1, 2, 1_900);
        p.update(10, 2, 2, 1_950); // every node done: printed at once
        p.update(10, 2, 2, 2_100); // and only once, however often the caller repeats it
        p.update(10, 2, 2, 3_500);
        p.finish();
        List<String> lines = bytes.toString(StandardCharsets.UTF_8).lines().toList();
        assertEquals(List.of("progress: 1/10 nodes have pod CIDRs, 0/2 taints removed, 1.0 s",
                "progress: 10/10 nodes have pod CIDRs, 2/2 taints removed, 2.0 s"), lines);
    }
}
