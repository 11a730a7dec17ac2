package io.github.podcidr.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The SBOM beside the image (target/podcidr-controller-image.cdx.json, CycloneDX JSON, written by
 * scripts/image/ImageSbom.java) against the image itself (target/podcidr-controller-image.tar): for every platform in
 * the index, the JDK package and libc6 with versions, and every shared library in that platform's layers owned by a
 * listed package; and the application's Maven dependencies. Reads the layers' listings only, so it needs no root;
 * skipped with one line when the image was not built (-Dimage.skip).
 */
class ImageSbomIT {
    private static final Path TARBALL = Path.of("target", "podcidr-controller-image.tar");
    private static final Path SBOM = Path.of("target", "podcidr-controller-image.cdx.json");

    @TempDir
    static Path work;
    private static JsonNode bom;
    private static Path layout;

    @BeforeAll
    static void read() throws Exception {
        if (!Files.isRegularFile(TARBALL) || !Files.isRegularFile(SBOM)) {
            String missing = "no " + TARBALL + " or " + SBOM + " (built by package, unless -Dimage.skip)";
            System.err.println("ImageSbomIT skipped: " + missing);
            Assumptions.abort(missing);
        }
        bom = new ObjectMapper().readTree(SBOM.toFile()); // throws on anything that is not JSON
        layout = OciImage.extract(TARBALL, work);
    }

    @Test
    void isCycloneDxNamingTheImage() throws Exception {
        assertEquals("CycloneDX", bom.path("bomFormat").asText());
        assertEquals("1.5", bom.path("specVersion").asText());
        assertTrue(bom.path("serialNumber").asText().matches("urn:uuid:[0-9a-f-]{36}"), bom.path("serialNumber")
                .toString());
        JsonNode image = bom.path("metadata").path("component");
        String version = OciImage.open(layout, "amd64").config().path("Labels")
                .path("org.opencontainers.image.version").asText();
        assertEquals("container", image.path("type").asText());
        assertEquals("podcidr-controller", image.path("name").asText());
        assertEquals(version, image.path("version").asText());
        Set<String> refs = new TreeSet<>();
        for (JsonNode c : bom.path("components")) {
            assertTrue(refs.add(c.path("bom-ref").asText()), "bom-ref seen twice: " + c);
            assertFalse(c.path("name").asText().isBlank() || c.path("version").asText().isBlank(), c.toString());
        }
    }

    @Test
    void listsTheMavenDependenciesWithVersionsAndHashes() {
        List<JsonNode> maven = components().stream().filter(c -> c.path("purl").asText().startsWith("pkg:maven/"))
                .toList();
        JsonNode client = maven.stream().filter(c -> c.path("group").asText().equals("io.kubernetes")
                && c.path("name").asText().equals("client-java")).findFirst().orElseThrow(
                        () -> new AssertionError("no io.kubernetes:client-java in " + maven));
        assertTrue(client.path("version").asText().matches("\\d+\\.\\d+\\.\\d+"), client.toString());
        assertEquals("pkg:maven/io.kubernetes/client-java@" + client.path("version").asText() + "?type=jar",
                client.path("purl").asText());
        assertTrue(client.path("hashes").get(0).path("content").asText().matches("[0-9a-f]{64}"), client.toString());
        assertTrue(maven.stream().noneMatch(c -> c.path("name").asText().equals("apiserver-sim")
                || c.path("name").asText().startsWith("junit")), "provided and test scopes are not in the image");
    }

    @Test
    void listsTheJdkAndEachLibraryOfEachPlatformWithItsDebianPackage() throws Exception {
        JsonNode index = OciImage.imageIndex(layout);
        for (JsonNode descriptor : index.path("manifests")) {
            String arch = descriptor.path("platform").path("architecture").asText();
            List<JsonNode> debian = components().stream()
                    .filter(c -> c.path("purl").asText().startsWith("pkg:deb/"))
                    .filter(c -> property(c, "podcidr:platform").contains("linux/" + arch)).toList();
            JsonNode jdk = debian.stream().filter(c -> property(c, "podcidr:role").contains("runtime")).findFirst()
                    .orElseThrow(() -> new AssertionError("no runtime component for " + arch + ": " + debian));
            assertEquals("openjdk-17-jdk-headless", jdk.path("name").asText(), jdk.toString());
            assertTrue(jdk.path("version").asText().startsWith("17."), jdk.toString());
            assertTrue(jdk.path("purl").asText().contains("?arch=" + arch + "&"), jdk.toString());
            JsonNode libc = debian.stream().filter(c -> c.path("name").asText().equals("libc6")).findFirst()
                    .orElseThrow(() -> new AssertionError("no libc6 for " + arch + ": " + debian));
            assertTrue(libc.path("version").asText().matches("\\d+\\.\\d+-.+"), libc.toString());

            // every shared library outside the runtime, in this platform's layers, is a path of a listed package
            Set<String> listed = new TreeSet<>();
            debian.forEach(c -> listed.addAll(property(c, "podcidr:path")));
            List<String> unlisted = new ArrayList<>();
            for (String entry : OciImage.open(layout, arch).entries()) {
                if (entry.matches("(usr/)?lib(64)?/.*\\.so(\\.[0-9]+)*") && !listed.contains("/" + entry)) {
                    unlisted.add(entry);
                }
            }
            assertEquals(List.of(), unlisted, "libraries of linux/" + arch + " the SBOM does not list");
            assertTrue(listed.contains("/opt/java/openjdk"), listed.toString());
        }
    }

    private static List<JsonNode> components() {
        return StreamSupport.stream(bom.path("components").spliterator(), false).toList();
    }

    private static List<String> property(JsonNode component, String name) {
        List<String> values = new ArrayList<>();
        for (JsonNode p : component.path("properties")) {
            if (p.path("name").asText().equals(name)) {
                values.add(p.path("value").asText());
            }
        }
        return values;
    }
}
