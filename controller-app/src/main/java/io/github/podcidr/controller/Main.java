package io.github.podcidr.controller;

import io.prometheus.client.CollectorRegistry;
import io.prometheus.client.hotspot.DefaultExports;
import java.io.IOException;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code java -jar podcidr-controller.jar [flags] | demo [flags] | plan [flags]}.
 *
 * <p>Exit codes: 0 after a graceful stop (SIGTERM/SIGINT) or a successful demo/plan; 1 when the Lease was lost (the
 * pod restarts and campaigns anew), the controller failed, the demo did not converge or the plan is unsafe; 2 for
 * bad flags, reported all at once before anything touches the cluster.
 */
public final class Main {
    /** Exit code of a configuration error. */
    public static final int EXIT_CONFIG = 2;
    private static final Logger LOG = LoggerFactory.getLogger(Main.class);

    static {
        // The JDK's HTTP server (the demo's embedded API server, our endpoints) writes headers and body apart; with
        // Nagle's algorithm on, each response then waits for the peer's delayed ACK, about 40 ms per request.
        if (System.getProperty("sun.net.httpserver.nodelay") == null) {
            System.setProperty("sun.net.httpserver.nodelay", "true");
        }
    }

    private Main() {
    }

    /**
     * Runs a command and exits with its code.
     *
     * @param args the command line
     */
    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /**
     * Runs a command; the controller command returns only after it has stopped.
     *
     * @param args the command line
     * @param out standard output
     * @param err standard error
     * @return the exit code
     */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 1 && args[0].equals("--version")) {
            out.println("podcidr-controller " + Version.current());
            return 0;
        }
        if (args.length > 0 && args[0].equals("demo")) {
            return DemoCommand.run(Arrays.copyOfRange(args, 1, args.length), out, err);
        }
        if (args.length > 0 && args[0].equals("plan")) {
            return PlanCommand.run(Arrays.copyOfRange(args, 1, args.length), out, err);
        }
        return runController(args, out, err);
    }

    static void printErrors(PrintStream err, String command, List<ConfigError> errors) {
        err.println(command + ": " + errors.size() + " configuration error" + (errors.size() == 1 ? "" : "s")
                + "; nothing was started:");
        errors.forEach(e -> err.println("  " + e));
        err.println("Run with --help for every flag.");
    }

    private static int runController(String[] args, PrintStream out, PrintStream err) {
        ControllerFlags.Result parsed = ControllerFlags.parse(args);
        if (parsed.help()) {
            ControllerFlags.printHelp(out);
            return 0;
        }
        if (!parsed.ok()) {
            printErrors(err, "podcidr-controller", parsed.errors());
            return EXIT_CONFIG;
        }
        ControllerFlags flags = parsed.flags();
        if (flags.kubeconfig() == null && !KubeClients.inCluster()) {
            printErrors(err, "podcidr-controller", List.of(new ConfigError("kubeconfig", null, "not given, and this"
                    + " process is not in a pod (KUBERNETES_SERVICE_HOST is unset); give a kubeconfig outside a"
                    + " cluster, e.g. --kubeconfig=$HOME/.kube/config")));
            return EXIT_CONFIG;
        }
        Logging.configure(flags.logFormat(), flags.logLevel());
        DefaultExports.initialize();
        CountDownLatch stop = new CountDownLatch(1);
        AtomicInteger exitCode = new AtomicInteger();
        Signals.onTerminate(stop::countDown); // before anything starts: a SIGTERM during start-up still exits 0
        ControllerApp app;
        try {
            app = ControllerApp.start(flags, KubeClients.of(flags.kubeconfig(), flags.kubeApiQps(),
                    flags.kubeApiBurst(), true), CollectorRegistry.defaultRegistry, () -> {
                        exitCode.set(1);
                        stop.countDown();
                    });
        } catch (IOException | RuntimeException e) {
            LOG.error("could not start: {}", e.toString());
            return 1;
        }
        Thread hook = new Thread(app::close, "podcidr-shutdown");
        Runtime.getRuntime().addShutdownHook(hook); // other exits (System.exit elsewhere, SIGHUP): still graceful
        try {
            stop.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        int code = exitCode.get();
        LOG.atInfo().setMessage("stopping").addKeyValue("exit_code", code).log();
        haltAfter(flags.shutdownGracePeriod().toMillis(), code); // --shutdown-grace-period, under the pod's grace
        app.close();
        return code;
    }

    /** Makes sure the process ends even if a graceful step hangs. */
    private static void haltAfter(long millis, int code) {
        Thread t = new Thread(() -> {
            try {
                Thread.sleep(millis);
            } catch (InterruptedException e) {
                return;
            }
            System.err.println("podcidr-controller: graceful stop took over " + millis + " ms; halting");
            Runtime.getRuntime().halt(code);
        }, "podcidr-halt-watchdog");
        t.setDaemon(true);
        t.start();
    }
}
