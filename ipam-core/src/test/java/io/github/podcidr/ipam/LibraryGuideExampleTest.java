package io.github.podcidr.ipam;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Keeps the library guide's example (docs/library.md) compiling and true: the code between the markers below is the
 * guide's Java block, character for character (after removing the method's indentation), and it runs here with its
 * results checked.
 */
class LibraryGuideExampleTest {

    @Test
    void theGuidesExampleRunsAndSaysWhatItDoes() {
        // GUIDE-BEGIN
        NodeIpam ipam = NodeIpam.builder()
                .addPool(Cidr.parse("10.244.0.0/16"), 24)      // the first pool's family is primary
                .addPool(Cidr.parse("fd00:10:244::/56"), 64)   // dual-stack: one IPv6 /64 per node too
                .reserve(Cidr.parse("10.244.255.0/24"))        // never handed out
                .build();

        // Restore what the cluster already has; conflicts and malformed values are reported, never fatal.
        RestoreReport report = ipam.restore(List.of(
                new ExistingNode("node-a", List.of("10.244.0.0/24", "fd00:10:244::/64"))));

        NodeAssignment b = ipam.assign("node-b");  // [10.244.1.0/24, fd00:10:244:1::/64]
        ipam.release("node-b");                    // once node-b is gone from the API
        // GUIDE-END

        assertEquals(2, report.adoptedSubnets());
        assertTrue(report.problems().isEmpty());
        assertEquals(List.of("10.244.1.0/24", "fd00:10:244:1::/64"), b.podCidrs());
        assertEquals(1, ipam.nodeCount());
    }

    @Test
    void theGuideShowsExactlyThisExample() throws IOException {
        List<String> source = Files.readAllLines(Path.of("src/test/java/io/github/podcidr/ipam/LibraryGuideExampleTest.java"));
        int begin = source.indexOf("        // GUIDE-BEGIN");
        int end = source.indexOf("        // GUIDE-END");
        String snippet = source.subList(begin + 1, end).stream()
                .map(line -> line.length() >= 8 ? line.substring(8) : line.strip())
                .collect(Collectors.joining("\n"));
        String guide = Files.readString(Path.of("../docs/library.md"));
        assertTrue(guide.contains("```java\n" + snippet + "\n```"),
                "docs/library.md must hold this block verbatim:\n```java\n" + snippet + "\n```");
    }
}
