package io.github.podcidr.chart;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.TemplateCommand;
import io.kubernetes.client.util.Yaml;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The chart rendered offline by helm, as plain maps (for kinds the client has no model of). */
final class ChartDocs {
    static final java.nio.file.Path CHART = java.nio.file.Path.of("podcidr-controller");

    private ChartDocs() {
    }

    /** The release name and namespace to render for. */
    record Options(String release, String namespace) {
        static final Options DEFAULT = new Options("podcidr-controller", "kube-system");
    }

    /**
     * Renders the chart as release "podcidr-controller" in kube-system with {@code values} (--set pairs).
     *
     * @return every document of the output
     */
    static List<Map<String, Object>> render(Map<String, String> values) {
        return render(Options.DEFAULT, values);
    }

    /**
     * Renders the chart as {@code options}' release in its namespace with {@code values} (--set pairs).
     *
     * @return every document of the output
     */
    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> render(Options options, Map<String, String> values) {
        TemplateCommand t = new Helm(CHART).template().withName(options.release())
                .withNamespace(options.namespace());
        values.forEach(t::set);
        List<Map<String, Object>> docs = new ArrayList<>();
        for (String doc : t.call().split("(?m)^---\\s*$")) {
            if (!doc.isBlank() && doc.contains("kind:")) {
                docs.add(Yaml.getSnakeYaml(Map.class).load(doc));
            }
        }
        return docs;
    }

    /**
     * Returns the only document of {@code kind}, or null when there is none.
     *
     * @throws AssertionError when there are several
     */
    static Map<String, Object> only(List<Map<String, Object>> docs, String kind) {
        List<Map<String, Object>> found = docs.stream().filter(d -> kind.equals(d.get("kind"))).toList();
        if (found.size() > 1) {
            throw new AssertionError(found.size() + " documents of kind " + kind);
        }
        return found.isEmpty() ? null : found.get(0);
    }

    /** Returns map.get(key) as a map (for walking a parsed document). */
    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Map<String, Object> map, String key) {
        return (Map<String, Object>) map.get(key);
    }

    /** Returns map.get(key) as a list of maps. */
    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> list(Map<String, Object> map, String key) {
        return (List<Map<String, Object>>) map.get(key);
    }
}
