package io.github.podcidr.controller;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * One platform's image in an OCI image tarball (an OCI image layout in a tar, as controller-app's build writes it:
 * index.json naming one image index, which lists a manifest per platform) read for tests: its configuration, and its
 * layers unpacked in order into a root directory, as a container runtime does.
 *
 * <pre>
 * Path layout = OciImage.extract(tarball, dir);
 * JsonNode platforms = OciImage.imageIndex(layout).path("manifests");
 * OciImage arm64 = OciImage.open(layout, "arm64");
 * </pre>
 *
 * <p>Uses the machine's {@code tar}: as root it keeps the owners and modes written in the layers.
 */
final class OciImage {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Prefix of a whiteout entry: the file of the same name without it is deleted by this layer. */
    private static final String WHITEOUT = ".wh.";
    /** Whiteout entry that empties its directory (of what lower layers put there). */
    private static final String OPAQUE = ".wh..wh..opq";
    static final String INDEX_MEDIA_TYPE = "application/vnd.oci.image.index.v1+json";

    private final Path layout;
    private final JsonNode manifest;
    private final JsonNode config;

    private OciImage(Path layout, JsonNode manifest, JsonNode config) {
        this.layout = layout;
        this.manifest = manifest;
        this.config = config;
    }

    /**
     * Extracts the tarball into {@code workDir}.
     *
     * @param tarball the OCI tarball
     * @param workDir an empty directory for the layout
     * @return the layout's directory ({@code workDir})
     */
    static Path extract(Path tarball, Path workDir) throws IOException, InterruptedException {
        run(List.of("tar", "-xf", tarball.toString(), "-C", workDir.toString()));
        return workDir;
    }

    /** The layout's index.json: one descriptor, of the image index, with the reference (tag) as annotation. */
    static JsonNode topIndex(Path layout) throws IOException {
        return JSON.readTree(layout.resolve("index.json").toFile());
    }

    /**
     * The image index that index.json names: one manifest descriptor per platform, each with its platform.
     *
     * @throws IOException if index.json does not name exactly one image index
     */
    static JsonNode imageIndex(Path layout) throws IOException {
        JsonNode top = topIndex(layout).path("manifests");
        if (top.size() != 1 || !INDEX_MEDIA_TYPE.equals(top.get(0).path("mediaType").asText())) {
            throw new IOException(layout + ": expected index.json to name one image index, found " + top);
        }
        return JSON.readTree(blob(layout, top.get(0).path("digest").asText()));
    }

    /**
     * The linux image of {@code architecture} in the layout, or null when the index lists none.
     *
     * @param architecture an OCI architecture: amd64, arm64
     */
    static OciImage open(Path layout, String architecture) throws IOException {
        for (JsonNode descriptor : imageIndex(layout).path("manifests")) {
            JsonNode platform = descriptor.path("platform");
            if (platform.path("os").asText().equals("linux")
                    && platform.path("architecture").asText().equals(architecture)) {
                JsonNode manifest = JSON.readTree(blob(layout, descriptor.path("digest").asText()));
                JsonNode config = JSON.readTree(blob(layout, manifest.path("config").path("digest").asText()));
                return new OciImage(layout, manifest, config);
            }
        }
        return null;
    }

    private static byte[] blob(Path layout, String digest) throws IOException {
        if (!digest.startsWith("sha256:")) {
            throw new IOException("unexpected digest \"" + digest + "\"; expected sha256:<hex>");
        }
        return Files.readAllBytes(layout.resolve("blobs/sha256").resolve(digest.substring("sha256:".length())));
    }

    /** The {@code config} object of the image configuration: Entrypoint, User, Env, ExposedPorts... */
    JsonNode config() {
        return config.path("config");
    }

    /** The image configuration's {@code architecture} and {@code os}, as "os/architecture". */
    String platform() {
        return config.path("os").asText() + "/" + config.path("architecture").asText();
    }

    /** The paths of every layer's entries (without a leading "/" or "./"), lowest layer first. */
    List<String> entries() throws IOException, InterruptedException {
        List<String> all = new ArrayList<>();
        for (JsonNode layer : manifest.path("layers")) {
            Path file = layout.resolve("blobs/sha256").resolve(layer.path("digest").asText().substring(7));
            for (String entry : run(List.of("tar", "-tzf", file.toString())).split("\n")) {
                all.add(entry.replaceFirst("^\\./", "").replaceFirst("^/", ""));
            }
        }
        return all;
    }

    /** The compressed size of the layers, in bytes: what a node pulls. */
    long compressedSize() {
        long sum = 0;
        for (JsonNode layer : manifest.path("layers")) {
            sum += layer.path("size").asLong();
        }
        return sum;
    }

    /**
     * Unpacks every layer, lowest first, into {@code root}, applying whiteouts.
     *
     * @param root an empty directory
     */
    void unpack(Path root) throws IOException, InterruptedException {
        for (JsonNode layer : manifest.path("layers")) {
            String media = layer.path("mediaType").asText();
            if (!media.endsWith("tar+gzip") && !media.endsWith("tar")) {
                throw new IOException("layer of unexpected media type " + media);
            }
            Path file = layout.resolve("blobs/sha256").resolve(layer.path("digest").asText().substring(7));
            String entries = run(List.of("tar", "-tzf", file.toString()));
            for (String entry : entries.split("\n")) {
                applyWhiteout(root, entry);
            }
            run(List.of("tar", "-xzf", file.toString(), "-C", root.toString(), "--same-owner", "--numeric-owner",
                    "-p", "--exclude=*/" + WHITEOUT + "*", "--exclude=" + WHITEOUT + "*"));
        }
    }

    private static void applyWhiteout(Path root, String entry) throws IOException {
        Path path = Path.of(entry);
        Path name = path.getFileName();
        if (name == null || !name.toString().startsWith(WHITEOUT)) {
            return;
        }
        Path parent = path.getParent() == null ? root : root.resolve(path.getParent().toString());
        if (name.toString().equals(OPAQUE)) {
            try (Stream<Path> children = Files.list(parent)) {
                for (Path child : children.toList()) {
                    deleteTree(child);
                }
            }
        } else {
            deleteTree(parent.resolve(name.toString().substring(WHITEOUT.length())));
        }
    }

    private static void deleteTree(Path path) throws IOException {
        if (!Files.exists(path, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        if (Files.isDirectory(path, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            try (Stream<Path> children = Files.list(path)) {
                for (Path child : children.toList()) {
                    deleteTree(child);
                }
            }
        }
        Files.delete(path);
    }

    /** Runs a command of this machine; its standard output, or an exception with both outputs. */
    static String run(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(new ArrayList<>(command)).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IOException(String.join(" ", command) + " exited " + p.exitValue() + ": " + out);
        }
        return out;
    }
}
