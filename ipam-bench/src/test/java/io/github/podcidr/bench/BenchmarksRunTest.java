package io.github.podcidr.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.BenchmarkList;
import org.openjdk.jmh.runner.BenchmarkListEntry;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.format.OutputFormatFactory;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

/**
 * Keeps the benchmarks from rotting: runs every benchmark, with every implementation, through the JMH runner in this
 * JVM ({@code -f 0 -wi 0 -i 1 -r 10ms}) on tiny pools, so that each setup and body runs and a broken one fails the
 * build. No figure is checked; CI runs no real benchmark.
 */
class BenchmarksRunTest {

    /** Tiny stand-ins for each benchmark's parameters; the implementation lists stay as declared. */
    static Stream<Arguments> benchmarks() {
        return Stream.of(
                Arguments.of(S1FillBenchmark.class, Map.of("pool", "10.0.0.0/24>28")),
                Arguments.of(S2ExhaustedBenchmark.class, Map.of("pool", "10.0.0.0/24>28")),
                Arguments.of(S3ChurnBenchmark.class, Map.of("pool", "10.0.0.0/24>28")),
                Arguments.of(S4RestoreBenchmark.class, Map.of("pool", "10.0.0.0/24>28")),
                Arguments.of(S5Ipv6FillBenchmark.class, Map.of("pool", "fd00::/60>64")),
                Arguments.of(S6SizeSweepBenchmark.class, Map.of("pool", "10.0.0.0/24>28,10.0.0.0/24>30")),
                Arguments.of(S6LargePoolBenchmark.class, Map.of("allocations", "1000")),
                Arguments.of(S6MemoryBenchmark.class, Map.of("pool", "10.0.0.0/24>28")),
                Arguments.of(S6LargePoolMemoryBenchmark.class, Map.of("allocations", "1000")),
                Arguments.of(S6ScatteredMemoryBenchmark.class, Map.of("occupies", "100")),
                Arguments.of(S7WorstCaseBenchmark.class, Map.of("pool", "10.0.0.0/24>28")),
                Arguments.of(S8NodeChurnBenchmark.class,
                        Map.of("nodes", "10", "ipv4Pool", "10.0.0.0/24>28", "ipv6Pool", "fd00::/56>64")),
                Arguments.of(S9RestoreBenchmark.class,
                        Map.of("nodes", "10", "ipv4Pool", "10.0.0.0/24>28", "ipv6Pool", "fd00::/56>64")),
                Arguments.of(S10WideClaimReadoptBenchmark.class,
                        Map.of("pool", "10.0.0.0/16>24", "claim", "10.0.0.0/16")),
                Arguments.of(ConversionBenchmark.class, Map.of("pool", "10.0.0.0/24>28,fd00::/60>64")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("benchmarks")
    void runsOnTinyPools(Class<?> benchmark, Map<String, String> params) throws RunnerException {
        ChainedOptionsBuilder options = new OptionsBuilder()
                .include("^" + benchmark.getName().replace(".", "\\.") + "\\.")
                .forks(0)
                .warmupIterations(0)
                .measurementIterations(1)
                .measurementTime(TimeValue.milliseconds(10))
                .shouldFailOnError(true)
                .verbosity(VerboseMode.SILENT);
        params.forEach((name, values) -> options.param(name, values.split(",")));
        Collection<RunResult> results = new Runner(options.build()).run();
        assertFalse(results.isEmpty(), "no benchmark of " + benchmark.getSimpleName() + " ran");
        Set<String> impls = new TreeSet<>();
        for (RunResult r : results) {
            double score = r.getPrimaryResult().getScore();
            assertTrue(score >= 0 && !Double.isNaN(score), r.getParams() + ": score " + score);
            String impl = r.getParams().getParam("impl");
            if (impl != null) {
                impls.add(impl);
            }
        }
        if (!impls.isEmpty()) {
            assertEquals(new TreeSet<>(List.of(Implementations.OURS, Implementations.BOOLEAN_ARRAY,
                    Implementations.BIT_SCAN)), impls, "every implementation ran");
        }
    }

    @Test
    void everyBenchmarkClassIsCovered() {
        Set<String> listed = BenchmarkList.defaultList()
                .getAll(OutputFormatFactory.createFormatInstance(System.out, VerboseMode.SILENT), List.of())
                .stream()
                .map(BenchmarkListEntry::getUserClassQName)
                .collect(Collectors.toCollection(TreeSet::new));
        Set<String> covered = benchmarks()
                .map(a -> ((Class<?>) a.get()[0]).getName())
                .collect(Collectors.toCollection(TreeSet::new));
        assertEquals(listed, covered, "add new benchmark classes to BenchmarksRunTest.benchmarks()");
    }
}
