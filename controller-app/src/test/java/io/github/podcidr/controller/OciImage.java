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
 * An OCI image tarball (an OCI image layout in a tar, as Jib's {@code buildTar} writes it) read for tests: its
 * configuration, and its layers unpacked in order into a root directory, as a container runtime does.
 *
 * <p>Uses the machine's {@code tar}: as root it keeps the owners and modes written in the layers.
 */
final class OciImage {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Prefix of a whiteout entry: the file of the same name without it is deleted by this layer. */
    private static final String WHITEOUT = ".wh.";
    /** Whiteout entry that empties its directory (of what lower layers put there). */
    private static final String OPAQUE = ".wh..wh..opq";

    private final Path layout;
    private final JsonNode manifest;
    private final JsonNode config;

    private OciImage(Path layout, JsonNode manifest, JsonNode config) {
        this.layout = layout;
        this.manifest = manifest;
        this.config = config;
    }

    /**
     * Extracts the tarball into {@code workDir} and reads its only manifest and the configuration.
     *
     * @param tarball the OCI tarball
     * @param workDir an empty directory for the layout
     * @return the image
     * @throws IOException if the tarball is not an OCI layout with one image
     */
    static OciImage open(Path tarball, Path workDir) throws IOException, InterruptedException {
        run(List.of("tar", "-xf", tarball.toString(), "-C", workDir.toString()));
        JsonNode index = JSON.readTree(workDir.resolve("index.json").toFile());
        if (index.path("manifests").size() != 1) {
            throw new IOException(tarball + ": expected one manifest in index.json, found " + index.path("manifests"));
        }
        JsonNode manifest = JSON.readTree(blob(workDir, index.path("manifests").get(0).path("digest").asText()));
        JsonNode config = JSON.readTree(blob(workDir, manifest.path("config").path("digest").asText()));
        return new OciImage(workDir, manifest, config);
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
