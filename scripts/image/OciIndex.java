import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/**
 * Puts single-platform OCI image tarballs (Jib's {@code buildTar}, one per platform) into one multi-platform OCI
 * image layout tarball, without a container daemon or a registry:
 *
 * <pre>
 * oci-layout                      {"imageLayoutVersion":"1.0.0"}
 * index.json                      one descriptor: the image index below, annotated with the reference (tag)
 * blobs/sha256/&lt;index&gt;          an image index listing each platform's manifest with its platform
 * blobs/sha256/...                every platform's manifest, configuration and layers, as Jib wrote them
 * </pre>
 *
 * A registry client copies it whole ({@code skopeo copy --all oci-archive:<tar>:<tag> docker://...},
 * {@code crane push}, {@code oras cp}), and a node pulls the manifest of its own platform. The platform of each manifest
 * is read from its image configuration (architecture, os), never assumed.
 *
 * <pre>
 * java -cp &lt;jackson-databind and its dependencies&gt; scripts/image/OciIndex.java \
 *     &lt;output.tar&gt; &lt;name:tag&gt; &lt;directory of *.tar, one per platform&gt;
 * </pre>
 *
 * Run by controller-app's build (package phase) after Jib. Needs GNU tar. The output is reproducible: same inputs,
 * same bytes (entries sorted, owner 0, time 0).
 */
public final class OciIndex {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS);
    static final String INDEX = "application/vnd.oci.image.index.v1+json";
    static final String MANIFEST = "application/vnd.oci.image.manifest.v1+json";
    static final String REF_NAME = "org.opencontainers.image.ref.name";

    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: OciIndex <output.tar> <name:tag> <directory of single-platform OCI tarballs>");
            System.exit(2);
        }
        Path output = Path.of(args[0]);
        String reference = args[1];
        List<Path> inputs;
        try (Stream<Path> files = Files.list(Path.of(args[2]))) {
            inputs = files.filter(p -> p.toString().endsWith(".tar")).sorted().toList();
        }
        if (inputs.isEmpty()) {
            throw new IOException("no *.tar in " + args[2] + "; Jib writes one per platform there");
        }
        Path work = Files.createTempDirectory(output.toAbsolutePath().getParent(), "oci-index");
        try {
            List<String> platforms = write(output, reference, inputs, work);
            System.err.println("OciIndex: " + output + " (" + reference + "): " + String.join(", ", platforms)
                    + (platforms.contains("linux/arm64") ? ""
                            : "; linux/amd64 only: no -Dimage.roots (scripts/image/install-roots.sh makes it)"));
        } finally {
            run(List.of("rm", "-rf", work.toString()));
        }
    }

    /** Writes the layout into {@code work}, then tars it to {@code output}; returns the platforms, in order. */
    static List<String> write(Path output, String reference, List<Path> inputs, Path work)
            throws IOException, InterruptedException {
        Path layout = Files.createDirectories(work.resolve("layout"));
        Path blobs = Files.createDirectories(layout.resolve("blobs/sha256"));
        ArrayNode manifests = JSON.createArrayNode();
        List<String> platforms = new ArrayList<>();
        for (Path input : inputs) {
            Path unpacked = Files.createDirectories(work.resolve("in-" + input.getFileName()));
            run(List.of("tar", "-xf", input.toString(), "-C", unpacked.toString()));
            JsonNode index = JSON.readTree(unpacked.resolve("index.json").toFile());
            if (index.path("manifests").size() != 1) {
                throw new IOException(input + ": expected one manifest (one platform), found "
                        + index.path("manifests"));
            }
            JsonNode descriptor = index.path("manifests").get(0);
            JsonNode manifest = JSON.readTree(blob(unpacked, descriptor.path("digest").asText()));
            JsonNode config = JSON.readTree(blob(unpacked, manifest.path("config").path("digest").asText()));
            String platform = config.path("os").asText() + "/" + config.path("architecture").asText();
            if (platforms.contains(platform) || config.path("os").asText().isEmpty()
                    || config.path("architecture").asText().isEmpty()) {
                throw new IOException(input + ": platform \"" + platform + "\" is missing or seen twice");
            }
            platforms.add(platform);
            try (Stream<Path> files = Files.list(unpacked.resolve("blobs/sha256"))) {
                for (Path file : files.toList()) {
                    Files.move(file, blobs.resolve(file.getFileName()), StandardCopyOption.REPLACE_EXISTING);
                }
            }
            ObjectNode entry = JSON.createObjectNode();
            entry.put("mediaType", descriptor.path("mediaType").asText(MANIFEST));
            entry.put("digest", descriptor.path("digest").asText());
            entry.put("size", descriptor.path("size").asLong());
            entry.putObject("platform").put("architecture", config.path("architecture").asText())
                    .put("os", config.path("os").asText());
            manifests.add(entry);
        }
        ObjectNode imageIndex = JSON.createObjectNode().put("schemaVersion", 2).put("mediaType", INDEX);
        imageIndex.set("manifests", manifests);
        byte[] indexBytes = JSON.writeValueAsBytes(imageIndex);
        String indexDigest = "sha256:" + sha256(indexBytes);
        Files.write(blobs.resolve(indexDigest.substring("sha256:".length())), indexBytes);

        ObjectNode top = JSON.createObjectNode().put("schemaVersion", 2).put("mediaType", INDEX);
        ObjectNode ref = top.putArray("manifests").addObject();
        ref.put("mediaType", INDEX).put("digest", indexDigest).put("size", indexBytes.length);
        ref.putObject("annotations").put(REF_NAME, reference);
        Files.write(layout.resolve("index.json"), JSON.writeValueAsBytes(top));
        Files.writeString(layout.resolve("oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}", StandardCharsets.UTF_8);

        Path partial = output.resolveSibling(output.getFileName() + ".partial");
        run(List.of("tar", "--sort=name", "--owner=0", "--group=0", "--numeric-owner", "--mtime=@0", "--format=posix",
                "--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime", "-cf", partial.toString(),
                "-C", layout.toString(), "oci-layout", "index.json", "blobs"));
        Files.move(partial, output, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return platforms;
    }

    private static byte[] blob(Path layout, String digest) throws IOException {
        if (!digest.startsWith("sha256:")) {
            throw new IOException("unexpected digest \"" + digest + "\"; expected sha256:<hex>");
        }
        return Files.readAllBytes(layout.resolve("blobs/sha256").resolve(digest.substring("sha256:".length())));
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError("every JDK has SHA-256", e);
        }
    }

    private static void run(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IOException(String.join(" ", command) + " exited " + p.exitValue() + ": " + out);
        }
    }
}
