package io.github.podcidr.chart;

import static io.github.podcidr.chart.ChartDocs.list;
import static io.github.podcidr.chart.ChartDocs.map;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.podcidr.controller.ExportedMetrics;
import io.kubernetes.client.util.Yaml;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The alert rules: files/alerts.yaml passes promtool's unit tests (charts/src/test/resources/promtool), every alert
 * is tested firing and not firing, reads only metrics the controller exports and links to a runbook section that
 * exists; the chart ships that file unchanged unless values override an alert.
 */
class AlertRulesTest {
    private static final Path RULES = ChartDocs.CHART.resolve("files/alerts.yaml");
    private static final Path TESTS = Path.of("src/test/resources/promtool/alerts-test.yaml");
    private static final Path RUNBOOK = Path.of("../docs/operations.md");
    /** Where the runbooks are browsed: the repository of Chart.yaml's home, its main branch. */
    private static final String RUNBOOKS = "https://github.com/podcidr/podcidr-controller/blob/main/";
    /** The series of the release podcidr-controller in kube-system, as the chart's ServiceMonitor scrapes them. */
    private static final String FILE_SELECTOR = "job=\"podcidr-controller-metrics\", namespace=\"kube-system\"";
    private static final Pattern METRIC_SELECTOR = Pattern.compile("\\b((?:podcidr|workqueue)_[a-z_]+)(\\{[^}]*})?");

    @SuppressWarnings("unchecked")
    private static Map<String, Object> yaml(Path file) throws IOException {
        return Yaml.getSnakeYaml(Map.class).load(Files.readString(file));
    }

    private static List<Map<String, Object>> alerts() throws IOException {
        return list(list(yaml(RULES), "groups").get(0), "rules");
    }

    @Test
    void promtoolUnitTestsPass() throws Exception {
        Optional<Promtool> promtool = Promtool.find();
        assumeTrue(promtool.isPresent(), Promtool.SKIPPED);
        Promtool.Result check = promtool.get().run(Path.of("."), "check", "rules", RULES.toString());
        assertEquals(0, check.exitCode(), check.output());
        Promtool.Result test = promtool.get().run(Path.of("."), "test", "rules", TESTS.toString());
        assertEquals(0, test.exitCode(), test.output());
        assertTrue(test.output().contains("SUCCESS"), test.output());
    }

    @Test
    @SuppressWarnings("unchecked")
    void everyAlertIsTestedFiringAndNotFiring() throws IOException {
        Set<String> fires = new TreeSet<>();
        Set<String> staysQuiet = new TreeSet<>();
        Map<String, Object> tests = yaml(TESTS);
        assertEquals(List.of("../../../../podcidr-controller/files/alerts.yaml"), tests.get("rule_files"),
                "promtool must test the file the chart ships");
        for (Map<String, Object> test : list(tests, "tests")) {
            for (Map<String, Object> check : list(test, "alert_rule_test")) {
                List<Object> expected = (List<Object>) check.get("exp_alerts");
                (expected == null || expected.isEmpty() ? staysQuiet : fires).add((String) check.get("alertname"));
            }
        }
        Set<String> names = alerts().stream().map(a -> (String) a.get("alert")).collect(Collectors.toCollection(
                TreeSet::new));
        assertEquals(10, names.size(), names.toString());
        assertEquals(names, fires, "alerts tested firing");
        assertEquals(names, staysQuiet, "alerts tested not firing");
    }

    @Test
    void alertsReadOnlyExportedMetricsAndLinkToTheirRunbookSection() throws IOException {
        Set<String> exported = ExportedMetrics.seriesNames();
        assertTrue(exported.contains("podcidr_api_request_duration_seconds_bucket"), exported.toString());
        Set<String> anchors = anchors(Files.readString(RUNBOOK));
        for (Map<String, Object> alert : alerts()) {
            String name = (String) alert.get("alert");
            Set<String> read = PromQl.metricNames((String) alert.get("expr"));
            assertFalse(read.isEmpty(), name);
            assertTrue(exported.containsAll(read), () -> name + " reads " + read + "; the controller exports "
                    + exported);
            Map<String, Object> annotations = map(alert, "annotations");
            assertNotNull(annotations.get("summary"), name);
            assertNotNull(annotations.get("description"), name);
            String anchor = name.toLowerCase(Locale.ROOT);
            assertEquals(RUNBOOKS + "docs/operations.md#" + anchor, annotations.get("runbook_url"), name);
            assertTrue(anchors.contains(anchor), () -> "no section " + anchor + " in " + RUNBOOK + ": " + anchors);
            assertTrue(Set.of("warning", "critical").contains(map(alert, "labels").get("severity")), name);
        }
    }

    @Test
    void everySeriesAnAlertReadsIsThisReleasesByJobAndNamespace() throws IOException {
        for (Map<String, Object> alert : alerts()) {
            String expr = (String) alert.get("expr");
            Matcher m = METRIC_SELECTOR.matcher(expr);
            int selectors = 0;
            while (m.find()) {
                selectors++;
                String matchers = m.group(2);
                assertTrue(matchers != null && matchers.startsWith("{" + FILE_SELECTOR), () -> alert.get("alert")
                        + " reads " + m.group() + " without " + FILE_SELECTOR);
            }
            assertTrue(selectors > 0, expr);
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void theChartPicksItsOwnReleasesSeries() throws IOException {
        // another release and namespace: its metrics Service's job and its namespace, in every expression
        ChartDocs.Options other = new ChartDocs.Options("cidrs", "network");
        Map<String, Object> rule = ChartDocs.only(ChartDocs.render(other, Map.of("metrics.prometheusRule.enabled",
                "true")), "PrometheusRule");
        List<Map<String, Object>> rules = list(list(map(rule, "spec"), "groups").get(0), "rules");
        assertEquals(alerts().size(), rules.size());
        for (int i = 0; i < rules.size(); i++) {
            String shipped = (String) alerts().get(i).get("expr");
            String rendered = (String) rules.get(i).get("expr");
            assertFalse(rendered.contains(FILE_SELECTOR), rendered);
            assertEquals(shipped.replace(FILE_SELECTOR,
                    "job=\"cidrs-podcidr-controller-metrics\", namespace=\"network\""), rendered);
        }
        // a selector of the operator's own (a scrape config of theirs)
        Map<String, Object> own = ChartDocs.only(ChartDocs.render(Map.of("metrics.prometheusRule.enabled", "true",
                "metrics.prometheusRule.selector", "job=\"podcidr\"")), "PrometheusRule");
        String noLeader = list(list(map(own, "spec"), "groups").get(0), "rules").stream()
                .filter(r -> "PodCidrMetricsAbsent".equals(r.get("alert"))).map(r -> (String) r.get("expr"))
                .findFirst().orElseThrow();
        assertEquals("absent(podcidr_leader{job=\"podcidr\"})", noLeader.strip());
        IllegalStateException refused = assertThrows(IllegalStateException.class, () -> ChartDocs.render(Map.of(
                "metrics.prometheusRule.selector", "podcidr")));
        assertTrue(refused.getMessage().contains("selector"), refused.getMessage());
    }

    /** The anchors a Markdown renderer gives the headings: lower case, punctuation dropped, spaces as dashes. */
    static Set<String> anchors(String markdown) {
        Set<String> out = new LinkedHashSet<>();
        for (String line : markdown.split("\n")) {
            if (line.startsWith("#")) {
                out.add(line.replaceFirst("^#+\\s*", "").trim().toLowerCase(Locale.ROOT)
                        .replaceAll("[^\\p{L}\\p{N} _-]", "").replace(' ', '-'));
            }
        }
        return out;
    }

    @Test
    void thePromQlScannerFindsMetricsNotFunctionsOrLabels() {
        assertEquals(Set.of("a_bucket"), PromQl.metricNames(
                "histogram_quantile(0.99, sum by (le, verb) (rate(a_bucket{verb!=\"watch\", x=~\"y|z\"}[5m])))"));
        assertEquals(Set.of("a", "b", "c"), PromQl.metricNames(
                "max without (instance, pod) ((a + b) / c) > 0.9 < 1 or absent(a) unless on (job) c == bool 1"));
        assertEquals(Set.of("invented_metric"), PromQl.metricNames("sum(rate(invented_metric[$__rate_interval]))"));
    }

    @Test
    void noRuleByDefault() {
        assertNull(ChartDocs.only(ChartDocs.render(Map.of()), "PrometheusRule"));
    }

    @Test
    void theChartShipsTheTestedFileUnchanged() throws IOException {
        Map<String, Object> rule = ChartDocs.only(ChartDocs.render(Map.of("metrics.prometheusRule.enabled", "true")),
                "PrometheusRule");
        assertNotNull(rule);
        assertEquals("monitoring.coreos.com/v1", rule.get("apiVersion"));
        assertEquals("kube-system", map(rule, "metadata").get("namespace"));
        assertEquals("podcidr-controller", map(rule, "metadata").get("name"));
        assertEquals(yaml(RULES).get("groups"), map(rule, "spec").get("groups"));
    }

    @Test
    void valuesTurnOffRetimeAndLabelAlerts() throws IOException {
        Map<String, String> v = new LinkedHashMap<>();
        v.put("metrics.prometheusRule.enabled", "true");
        v.put("metrics.prometheusRule.namespace", "monitoring");
        v.put("metrics.prometheusRule.additionalLabels.release", "kube-prometheus-stack");
        v.put("metrics.prometheusRule.ruleLabels.team", "platform");
        v.put("metrics.prometheusRule.runbookBaseUrl", "https://git.example/podcidr-controller/blob/main/");
        v.put("metrics.prometheusRule.alerts.PodCidrNodesFailingClosed.enabled", "false");
        v.put("metrics.prometheusRule.alerts.PodCidrPoolAlmostFull.for", "30m");
        v.put("metrics.prometheusRule.alerts.PodCidrWriteFailures.severity", "info");
        v.put("metrics.prometheusRule.alerts.PodCidrNoLeader.enabled", "true");
        Map<String, Object> rule = ChartDocs.only(ChartDocs.render(v), "PrometheusRule");
        assertEquals("monitoring", map(rule, "metadata").get("namespace"));
        assertEquals("kube-prometheus-stack", map(map(rule, "metadata"), "labels").get("release"));
        Map<String, Map<String, Object>> byName = new LinkedHashMap<>();
        list(list(map(rule, "spec"), "groups").get(0), "rules").forEach(r -> byName.put((String) r.get("alert"), r));
        assertEquals(List.of("PodCidrPoolAlmostFull", "PodCidrPoolFull", "PodCidrGroupExhausted",
                "PodCidrNodesWaitingForRoom", "PodCidrNoLeader", "PodCidrSeveralLeaders", "PodCidrMetricsAbsent",
                "PodCidrWriteFailures", "PodCidrNodesWithOversizedCidr"), List.copyOf(byName.keySet()));
        assertEquals("30m", byName.get("PodCidrPoolAlmostFull").get("for"));
        assertEquals("1m", byName.get("PodCidrPoolFull").get("for"));
        assertEquals(Map.of("severity", "info", "team", "platform"), map(byName.get("PodCidrWriteFailures"),
                "labels"));
        assertEquals(Map.of("severity", "critical", "team", "platform"), map(byName.get("PodCidrNoLeader"),
                "labels"));
        assertEquals("https://git.example/podcidr-controller/blob/main/docs/operations.md#podcidrnoleader",
                map(byName.get("PodCidrNoLeader"), "annotations").get("runbook_url"));
        // the expressions are the tested ones
        Map<String, Object> shipped = alerts().get(0);
        assertEquals(shipped.get("expr"), byName.get("PodCidrPoolAlmostFull").get("expr"));
    }

    @Test
    void anUnknownAlertNameOrABadDurationFailsAgainstTheSchema() {
        IllegalStateException name = assertThrows(IllegalStateException.class, () -> ChartDocs.render(Map.of(
                "metrics.prometheusRule.alerts.PodCidrPoolAlmostFul.for", "30m")));
        assertTrue(name.getMessage().contains("PodCidrPoolAlmostFul"), name.getMessage());
        IllegalStateException duration = assertThrows(IllegalStateException.class, () -> ChartDocs.render(Map.of(
                "metrics.prometheusRule.alerts.PodCidrPoolFull.for", "10 minutes")));
        assertTrue(duration.getMessage().contains("for"), duration.getMessage());
    }
}
