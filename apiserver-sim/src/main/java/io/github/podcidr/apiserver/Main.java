package io.github.podcidr.apiserver;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

/**
 * Runs the simulator standalone.
 *
 * <pre>
 * java -jar apiserver-sim/target/apiserver-sim.jar --port 0 --nodes 1000 --tainted 10 --kubeconfig-out /tmp/sim.kubeconfig
 * </pre>
 * Prints {@code apiserver-sim listening on http://127.0.0.1:<port>} on stdout once every node exists and requests
 * are served, then runs until killed; SIGTERM (or Ctrl-C) stops it cleanly. Bad flags: a message on stderr and
 * exit code 2.
 */
public final class Main {
  static final String USAGE = "usage: java -jar apiserver-sim.jar [--port N] [--nodes N] [--tainted N] "
      + "[--kubeconfig-out FILE] [--seed N] [--compress]\n"
      + "  --port N             TCP port on 127.0.0.1 (default 0: a free port)\n"
      + "  --nodes N            create N generated nodes without podCIDR (default 0)\n"
      + "  --tainted N          give the first N of them the taint " + NodeGenerator.TKE_ENI_TAINT_KEY
      + ":NoSchedule (default 0)\n"
      + "  --kubeconfig-out F   write a kubeconfig for this server to F\n"
      + "  --seed N             seed of the node generator (default 1)\n"
      + "  --compress           hold objects DEFLATE-compressed (about 4x less heap, slower reads)\n";

  /** Parsed command line. */
  record Options(int port, int nodes, int tainted, Path kubeconfigOut, long seed, boolean compress) {}

  private Main() {}

  public static void main(String[] args) throws InterruptedException {
    Options options;
    try {
      options = parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println("apiserver-sim: " + e.getMessage());
      System.err.print(USAGE);
      System.exit(2);
      return;
    }
    if (options == null) {
      System.out.print(USAGE);
      return;
    }
    run(options, System.out);
    new CountDownLatch(1).await(); // until SIGTERM; the shutdown hook stops the server
  }

  static ApiServerSim run(Options options, PrintStream out) {
    ApiServerSim sim = ApiServerSim.builder().port(options.port()).compressObjects(options.compress()).start();
    Runtime.getRuntime().addShutdownHook(new Thread(sim::close, "apiserver-sim-shutdown"));
    new NodeGenerator(options.seed()).populate(sim, options.nodes(), options.tainted());
    if (options.kubeconfigOut() != null) {
      sim.writeKubeconfig(options.kubeconfigOut());
    }
    out.println("apiserver-sim listening on " + sim.baseUrl());
    out.flush();
    return sim;
  }

  /** Parses flags; returns null for {@code --help}; throws IllegalArgumentException with the reason. */
  static Options parse(String[] args) {
    int port = 0;
    int nodes = 0;
    int tainted = 0;
    long seed = 1;
    Path kubeconfig = null;
    boolean compress = false;
    for (int i = 0; i < args.length; i++) {
      String flag = args[i];
      if (flag.equals("--compress")) {
        compress = true;
        continue;
      }
      String value = null;
      int eq = flag.indexOf('=');
      if (flag.startsWith("--") && eq > 0) {
        value = flag.substring(eq + 1);
        flag = flag.substring(0, eq);
      }
      if (flag.equals("--help") || flag.equals("-h")) {
        return null;
      }
      if (!flag.equals("--port") && !flag.equals("--nodes") && !flag.equals("--tainted")
          && !flag.equals("--kubeconfig-out") && !flag.equals("--seed")) {
        throw new IllegalArgumentException("unknown flag \"" + args[i] + "\"");
      }
      if (value == null) {
        if (i + 1 >= args.length) {
          throw new IllegalArgumentException("flag " + flag + " needs a value");
        }
        value = args[++i];
      }
      switch (flag) {
        case "--port":
          port = number(flag, value, 0, 65535);
          break;
        case "--nodes":
          nodes = number(flag, value, 0, 1 << 24);
          break;
        case "--tainted":
          tainted = number(flag, value, 0, 1 << 24);
          break;
        case "--seed":
          try {
            seed = Long.parseLong(value);
          } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--seed \"" + value + "\" is not an integer");
          }
          break;
        default:
          if (value.isEmpty()) {
            throw new IllegalArgumentException("--kubeconfig-out needs a file name");
          }
          kubeconfig = Path.of(value);
          break;
      }
    }
    if (tainted > nodes) {
      throw new IllegalArgumentException("--tainted " + tainted + " is more than --nodes " + nodes);
    }
    return new Options(port, nodes, tainted, kubeconfig, seed, compress);
  }

  private static int number(String flag, String value, int min, int max) {
    try {
      int n = Integer.parseInt(value);
      if (n < min || n > max) {
        throw new IllegalArgumentException(flag + " must be within " + min + ".." + max + ", got " + value);
      }
      return n;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(flag + " \"" + value + "\" is not an integer");
    }
  }
}
