package io.github.podcidr.controller;

import com.sun.management.HotSpotDiagnosticMXBean;
import com.sun.management.VMOption;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.stream.Stream;
import okhttp3.CipherSuite;
import okhttp3.ConnectionSpec;
import okhttp3.OkHttpClient;

/**
 * Offers ChaCha20-Poly1305 before AES-GCM when this JVM has no C2 compiler, as in the image
 * ({@code -XX:TieredStopAtLevel=1}).
 *
 * <p>C2's intrinsics make AES-GCM the cheaper cipher. Code compiled by C1 runs AES and GHASH as plain Java, and
 * then ChaCha20-Poly1305 is the cheaper one. Filling 20,000 nodes, OkHttp's reading thread, which decrypts every
 * list and watch event, took 15 of the controller's 28 CPU-seconds with AES-GCM under C1 (mostly
 * {@code GHASH.blockMult}), and 7 of 20 with ChaCha20 (ipam-bench/results/HISTORY.md, round 4). The order of the offered
 * suites decides: Go's TLS server takes ChaCha20 when the client names it first (it reads that as a client without
 * AES hardware), and servers that do not honour the client's order are not harmed. The set of suites is unchanged.
 */
final class TlsCipherOrder {
    private TlsCipherOrder() {
    }

    /**
     * Tells whether this JVM compiles with C2, which has the AES-GCM intrinsics.
     *
     * @return false when tiered compilation stops before level 4 (C1 only); true otherwise, and when it cannot tell
     */
    static boolean hasC2() {
        try {
            HotSpotDiagnosticMXBean vm = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
            if (vm == null || !Boolean.parseBoolean(option(vm, "TieredCompilation"))) {
                return true; // no tiering: the JVM's one compiler is C2
            }
            return Integer.parseInt(option(vm, "TieredStopAtLevel")) >= 4;
        } catch (RuntimeException e) {
            return true; // not HotSpot: keep OkHttp's order
        }
    }

    private static String option(HotSpotDiagnosticMXBean vm, String name) {
        VMOption option = vm.getVMOption(name);
        return option.getValue();
    }

    private static boolean isChacha(String suite) {
        return suite.contains("CHACHA20");
    }

    /**
     * The client with its TLS connection specs offering ChaCha20 first; OkHttp offers the suites in its spec's order.
     *
     * @param http the client, as the Kubernetes client built it
     * @return a client that differs only in the order of the offered suites
     */
    static OkHttpClient preferChacha(OkHttpClient http) {
        return http.newBuilder().connectionSpecs(http.connectionSpecs().stream().map(TlsCipherOrder::chachaFirst)
                .toList()).build();
    }

    /**
     * The spec with every ChaCha20 suite moved to the front, each group in its given order; a spec without TLS or
     * without a list of suites, unchanged.
     *
     * @param spec one of OkHttp's connection specs
     * @return the spec, reordered
     */
    static ConnectionSpec chachaFirst(ConnectionSpec spec) {
        List<CipherSuite> suites = spec.cipherSuites();
        if (!spec.isTls() || suites == null) {
            return spec;
        }
        CipherSuite[] ordered = Stream.concat(suites.stream().filter(c -> isChacha(c.javaName())),
                suites.stream().filter(c -> !isChacha(c.javaName()))).toArray(CipherSuite[]::new);
        return new ConnectionSpec.Builder(spec).cipherSuites(ordered).build();
    }
}
