package io.github.podcidr.chart;

import static io.github.podcidr.chart.ChartDocs.list;
import static io.github.podcidr.chart.ChartDocs.map;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.google.gson.Gson;
import io.github.podcidr.controller.ExportedMetrics;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Grafana dashboard of files/dashboard.json: well formed for Grafana (unique panel ids, panels on the 24-column
 * grid without overlap, every query on the datasource variable and on one cluster, namespace and job),
 * self-contained, querying only metrics the controller exports with expressions promtool parses; shipped in a
 * ConfigMap with the sidecar's label.
 */
class DashboardTest {
    private static final Path DASHBOARD = ChartDocs.CHART.resolve("files/dashboard.json");

    @SuppressWarnings("unchecked")
    private static Map<String, Object> dashboard() throws IOException {
        return new Gson().fromJson(Files.readString(DASHBOARD), Map.class);
    }

    /** Every target's expression, by "panel title / refId". */
    private static Map<String, String> expressions(Map<String, Object> dashboard) {
        Map<String, String> out = new LinkedHashMap<>();
        for (Map<String, Object> panel : list(dashboard, "panels")) {
            for (Map<String, Object> target : list(panel, "targets")) {
                out.put(panel.get("title") + " / " + target.get("refId"), (String) target.get("expr"));
            }
        }
        return out;
    }

    @Test
    void panelsHaveUniqueIdsAndDoNotOverlapOnTheGrid() throws IOException {
        Map<String, Object> d = dashboard();
        assertEquals("podcidr-controller", d.get("uid"));
        List<Map<String, Object>> panels = list(d, "panels");
        assertTrue(panels.size() >= 10, "panels: " + panels.size());
        Set<Object> ids = new HashSet<>();
        List<int[]> boxes = new ArrayList<>();
        for (Map<String, Object> panel : panels) {
            String title = (String) panel.get("title");
            assertNotNull(title);
            assertTrue(ids.add(panel.get("id")), () -> "panel id " + panel.get("id") + " twice (" + title + ")");
            Map<String, Object> grid = map(panel, "gridPos");
            assertNotNull(grid, title + " has no gridPos");
            int x = ((Number) grid.get("x")).intValue();
            int y = ((Number) grid.get("y")).intValue();
            int w = ((Number) grid.get("w")).intValue();
            int h = ((Number) grid.get("h")).intValue();
            assertTrue(x >= 0 && y >= 0 && w > 0 && h > 0 && x + w <= 24, () -> title + " off the grid: " + grid);
            for (int[] b : boxes) {
                boolean apart = x + w <= b[0] || b[0] + b[2] <= x || y + h <= b[1] || b[1] + b[3] <= y;
                assertTrue(apart, () -> title + " overlaps another panel at " + grid);
            }
            boxes.add(new int[] {x, y, w, h});
            assertFalse(list(panel, "targets").isEmpty(), title + " has no query");
            assertEquals("${datasource}", map(panel, "datasource").get("uid"), title);
            for (Map<String, Object> target : list(panel, "targets")) {
                assertEquals("${datasource}", map(target, "datasource").get("uid"), title);
            }
        }
    }

    @Test
    void theDatasourceIsAVariableAndNothingComesFromOutside() throws IOException {
        Map<String, Object> d = dashboard();
        List<Map<String, Object>> variables = list(map(d, "templating"), "list");
        Map<String, Object> datasource = variables.stream().filter(v -> "datasource".equals(v.get("name")))
                .findFirst().orElseThrow(() -> new AssertionError("no datasource variable: " + variables));
        assertEquals("datasource", datasource.get("type"));
        assertEquals("prometheus", datasource.get("query"));
        assertNull(d.get("__inputs"), "the sidecar does not fill import inputs");
        String text = Files.readString(DASHBOARD);
        assertFalse(text.matches("(?s).*(https?:)?//[a-zA-Z0-9.-]+\\.[a-z]{2,}.*"), "no external resources");
    }

    /** What every metric selector of a query starts with: the series of one release of one cluster. */
    private static final String RELEASE = "cluster=\"$cluster\", namespace=\"$namespace\", job=\"$job\"";
    private static final Pattern METRIC_SELECTOR = Pattern.compile("\\b((?:podcidr|workqueue)_[a-z_]+)(\\{[^}]*})?");

    @Test
    void clusterNamespaceAndJobAreVariablesThatEveryQueryUses() throws IOException {
        Map<String, Object> d = dashboard();
        List<Map<String, Object>> variables = list(map(d, "templating"), "list");
        assertEquals(List.of("datasource", "cluster", "namespace", "job"), variables.stream().map(v -> v.get("name"))
                .toList());
        // each lists the values within the one before, from a series every replica exports
        assertEquals(List.of("label_values(podcidr_build_info, cluster)",
                "label_values(podcidr_build_info{cluster=\"$cluster\"}, namespace)",
                "label_values(podcidr_build_info{cluster=\"$cluster\", namespace=\"$namespace\"}, job)"),
                variables.subList(1, 4).stream().map(v -> v.get("query")).toList());
        for (Map<String, Object> v : variables.subList(1, 4)) {
            assertEquals("query", v.get("type"));
            assertEquals("${datasource}", map(v, "datasource").get("uid"), () -> v.get("name") + "");
            assertEquals(Boolean.FALSE, v.get("multi"), () -> v.get("name") + ": one release at a time");
            assertEquals(Boolean.FALSE, v.get("includeAll"), () -> v.get("name") + ": one release at a time");
        }
        assertTrue(ExportedMetrics.seriesNames().contains("podcidr_build_info"));
        expressions(d).forEach((where, expr) -> {
            Matcher m = METRIC_SELECTOR.matcher(expr);
            int selectors = 0;
            while (m.find()) {
                selectors++;
                assertTrue(m.group(2) != null && m.group(2).startsWith("{" + RELEASE), () -> where + " reads "
                        + m.group() + " of every cluster and release: " + expr);
            }
            assertTrue(selectors > 0, where);
        });
    }

    @Test
    void everyQueryReadsOnlyExportedMetrics() throws IOException {
        Set<String> exported = ExportedMetrics.seriesNames();
        Set<String> used = new TreeSet<>();
        expressions(dashboard()).forEach((where, expr) -> {
            Set<String> read = PromQl.metricNames(expr);
            assertFalse(read.isEmpty(), () -> where + " reads no metric: " + expr);
            assertTrue(exported.containsAll(read), () -> where + " reads " + read + "; the controller exports "
                    + exported);
            used.addAll(read);
        });
        for (String needed : List.of("podcidr_pool_capacity_subnets", "podcidr_nodes_waiting_for_room",
                "podcidr_nodes_failing_closed", "podcidr_write_failures_total",
                "podcidr_api_request_duration_seconds_bucket", "podcidr_leader", "podcidr_group_exhausted_total")) {
            assertTrue(used.contains(needed), () -> "no panel reads " + needed);
        }
    }

    @Test
    void promtoolParsesEveryQuery(@TempDir Path dir) throws Exception {
        Optional<Promtool> promtool = Promtool.find();
        assumeTrue(promtool.isPresent(), Promtool.SKIPPED);
        // each query as a recording rule, Grafana's interval variables replaced by a duration
        StringBuilder rules = new StringBuilder("groups:\n  - name: dashboard\n    rules:\n");
        int n = 0;
        for (String expr : expressions(dashboard()).values()) {
            String promql = expr.replace("$__rate_interval", "1m").replace("$__interval", "1m");
            rules.append("      - record: dashboard:query").append(++n).append("\n        expr: ")
                    .append(new Gson().toJson(promql)).append('\n');
        }
        Files.writeString(dir.resolve("dashboard-rules.yaml"), rules);
        Promtool.Result check = promtool.get().run(dir, "check", "rules", "dashboard-rules.yaml");
        assertEquals(0, check.exitCode(), check.output());
        assertTrue(check.output().contains("SUCCESS: " + n + " rules found"), check.output());
    }

    @Test
    void noConfigMapByDefault() {
        assertNull(ChartDocs.only(ChartDocs.render(Map.of()), "ConfigMap"));
    }

    @Test
    void theConfigMapCarriesTheSidecarLabelAndTheFile() throws IOException {
        Map<String, Object> cm = ChartDocs.only(ChartDocs.render(Map.of("grafana.dashboard.enabled", "true")),
                "ConfigMap");
        assertNotNull(cm);
        assertEquals("podcidr-controller-dashboard", map(cm, "metadata").get("name"));
        assertEquals("kube-system", map(cm, "metadata").get("namespace"));
        assertEquals("1", map(map(cm, "metadata"), "labels").get("grafana_dashboard"));
        assertEquals(Files.readString(DASHBOARD).strip(), ((String) map(cm, "data").get("podcidr-controller.json"))
                .strip());
    }

    @Test
    void namespaceLabelsAndAnnotationsFromValues() {
        Map<String, String> v = new LinkedHashMap<>();
        v.put("grafana.dashboard.enabled", "true");
        v.put("grafana.dashboard.namespace", "monitoring");
        v.put("grafana.dashboard.labels.dashboards", "kube");
        v.put("grafana.dashboard.annotations.grafana_folder", "Kubernetes");
        v.put("fullnameOverride", "x".repeat(63));
        Map<String, Object> cm = ChartDocs.only(ChartDocs.render(v), "ConfigMap");
        Map<String, Object> metadata = map(cm, "metadata");
        assertEquals("monitoring", metadata.get("namespace"));
        assertEquals("kube", map(metadata, "labels").get("dashboards"));
        assertEquals("1", map(metadata, "labels").get("grafana_dashboard"), "the default label stays");
        assertEquals(Map.of("grafana_folder", "Kubernetes"), map(metadata, "annotations"));
        assertTrue(((String) metadata.get("name")).length() <= 63, (String) metadata.get("name"));
    }
}
