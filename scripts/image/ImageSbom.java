import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URLEncoder;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * The image's SBOM, a CycloneDX 1.5 JSON document: one component per Maven artifact in /app/libs (the runtime
 * dependencies, from maven-dependency-plugin's {@code list} with absolute file names: group, name, version, purl, the
 * jar's SHA-256), and one per Debian package each platform's root holds files of: the JDK whose jmods jlink linked
 * into /opt/java/openjdk, and the packages of the shared libraries copied beside it. The roots' packages come from the
 * {@code image-root*.packages.tsv} files that scripts/image/runtime-root.sh writes (role, package, version,
 * architecture, path in the image).
 *
 * <p>Each Debian component has a purl ({@code pkg:deb/debian/libc6@2.36-9%2Bdeb12u14?arch=arm64&distro=debian-12}),
 * and as properties the platform it is in and the image paths it provides; the same package on two platforms is two
 * components, since their files differ. No time stamp, and a serial number derived from the content, so the same
 * inputs give the same bytes.
 *
 * <pre>
 * java -cp &lt;jackson-databind and its dependencies&gt; scripts/image/ImageSbom.java &lt;output.cdx.json&gt; &lt;name:tag&gt; \
 *     &lt;dependency:list output&gt; &lt;directory of image-root*.packages.tsv&gt;
 * </pre>
 */
public final class ImageSbom {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public static void main(String[] args) throws Exception {
        if (args.length != 4) {
            System.err.println("usage: ImageSbom <output.cdx.json> <name:tag> <dependency:list output> <directory of"
                    + " image-root*.packages.tsv>");
            System.exit(2);
        }
        Path output = Path.of(args[0]);
        String reference = args[1];
        List<Path> tables;
        try (Stream<Path> files = Files.list(Path.of(args[3]))) {
            tables = files.filter(p -> p.getFileName().toString().matches("image-root.*\\.packages\\.tsv")).sorted()
                    .toList();
        }
        if (tables.isEmpty()) {
            throw new IOException("no image-root*.packages.tsv in " + args[3] + " (written by runtime-root.sh)");
        }
        String distro = distro(Path.of("/etc/os-release"));

        ObjectNode bom = JSON.createObjectNode();
        bom.put("bomFormat", "CycloneDX").put("specVersion", "1.5");
        bom.put("version", 1);
        ObjectNode metadata = bom.putObject("metadata");
        metadata.putObject("tools").putArray("components").addObject().put("type", "application")
                .put("name", "scripts/image/ImageSbom.java");
        String name = reference.substring(0, reference.lastIndexOf(':'));
        String tag = reference.substring(reference.lastIndexOf(':') + 1);
        metadata.putObject("component").put("type", "container").put("bom-ref", reference).put("name", name)
                .put("version", tag);
        ArrayNode components = bom.putArray("components");
        List<ObjectNode> maven = mavenComponents(Path.of(args[2]));
        maven.forEach(components::add);
        int debian = 0;
        for (Path table : tables) {
            for (ObjectNode component : debianComponents(table, distro)) {
                components.add(component);
                debian++;
            }
        }
        if (maven.isEmpty()) {
            throw new IOException(args[2] + " lists no Maven artifact; expected maven-dependency-plugin's list");
        }
        byte[] content = JSON.writeValueAsBytes(bom);
        bom.put("serialNumber", "urn:uuid:" + UUID.nameUUIDFromBytes(content));
        Files.writeString(output, JSON.writeValueAsString(bom) + "\n", StandardCharsets.UTF_8);
        System.err.println("ImageSbom: " + output + ": " + maven.size() + " Maven artifacts, " + debian
                + " Debian packages of " + tables.stream().map(p -> p.getFileName().toString()).toList());
    }

    /**
     * One component per line of maven-dependency-plugin's list with absolute file names:
     * {@code group:artifact:type[:classifier]:version:scope:/path/to/file.jar -- module name}.
     */
    static List<ObjectNode> mavenComponents(Path list) throws IOException, NoSuchAlgorithmException {
        List<ObjectNode> out = new ArrayList<>();
        for (String raw : Files.readAllLines(list, StandardCharsets.UTF_8)) {
            String line = raw.strip();
            int module = line.indexOf(" -- ");
            if (module >= 0) {
                line = line.substring(0, module);
            }
            int file = line.indexOf(":/");
            if (file < 0) {
                continue; // the heading, blank lines
            }
            String[] f = line.substring(0, file).split(":");
            if (f.length != 5 && f.length != 6) {
                throw new IOException(list + ": expected group:artifact:type[:classifier]:version:scope:path; got \""
                        + raw.strip() + "\"");
            }
            String group = f[0], artifact = f[1], type = f[2];
            String classifier = f.length == 6 ? f[3] : null;
            String version = f[f.length - 2];
            String purl = "pkg:maven/" + group + "/" + artifact + "@" + version + "?"
                    + (classifier == null ? "" : "classifier=" + classifier + "&") + "type=" + type;
            ObjectNode c = JSON.createObjectNode();
            c.put("type", "library").put("bom-ref", purl).put("group", group).put("name", artifact)
                    .put("version", version).put("purl", purl);
            Path jar = Path.of(line.substring(file + 1));
            if (Files.isRegularFile(jar)) {
                c.putArray("hashes").addObject().put("alg", "SHA-256").put("content",
                        HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(jar))));
            }
            c.putArray("properties").addObject().put("name", "podcidr:path").put("value", "/app/libs");
            out.add(c);
        }
        return out;
    }

    /** One component per (package, architecture) of a table, in the order the table first names them. */
    static List<ObjectNode> debianComponents(Path table, String distro) throws IOException {
        Map<String, ObjectNode> byKey = new LinkedHashMap<>();
        for (String line : Files.readAllLines(table, StandardCharsets.UTF_8)) {
            if (line.isBlank()) {
                continue;
            }
            String[] f = line.split("\t", -1);
            if (f.length != 5) {
                throw new IOException(table + ": expected role, package, version, architecture, path; got \""
                        + line + "\"");
            }
            String role = f[0], pkg = f[1], version = f[2], arch = f[3], path = f[4];
            ObjectNode c = byKey.get(pkg + ":" + arch);
            if (c == null) {
                c = JSON.createObjectNode();
                boolean debian = !pkg.contains(" ");
                String purl = debian ? "pkg:deb/" + distro.split("-")[0] + "/" + pkg + "@" + encode(version)
                        + "?arch=" + arch + "&distro=" + distro : null;
                c.put("type", role.equals("runtime") ? "framework" : "library");
                c.put("bom-ref", debian ? purl : pkg + "@" + version + "?arch=" + arch);
                c.put("name", pkg).put("version", version);
                if (debian) {
                    c.put("purl", purl);
                }
                c.put("description", role.equals("runtime")
                        ? "the Java runtime at /opt/java/openjdk, linked by jlink from this package's jmods"
                        : "shared libraries of the Java runtime");
                ArrayNode properties = c.putArray("properties");
                properties.addObject().put("name", "podcidr:platform").put("value", "linux/" + arch);
                properties.addObject().put("name", "podcidr:role").put("value", role);
                byKey.put(pkg + ":" + arch, c);
            }
            ((ArrayNode) c.get("properties")).addObject().put("name", "podcidr:path").put("value", path);
        }
        return new ArrayList<>(byKey.values());
    }

    /** "debian-12" from the machine's os-release (the archive both platforms' packages come from). */
    static String distro(Path osRelease) throws IOException {
        String id = "debian", version = "";
        if (Files.isRegularFile(osRelease)) {
            for (String line : Files.readAllLines(osRelease, StandardCharsets.UTF_8)) {
                if (line.startsWith("ID=")) {
                    id = line.substring(3).replace("\"", "");
                } else if (line.startsWith("VERSION_ID=")) {
                    version = line.substring(11).replace("\"", "");
                }
            }
        }
        return version.isEmpty() ? id : id + "-" + version;
    }

    private static String encode(String version) {
        return URLEncoder.encode(version, StandardCharsets.UTF_8).replace("%7E", "~");
    }
}
