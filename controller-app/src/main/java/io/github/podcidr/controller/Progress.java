package io.github.podcidr.controller;

import java.io.PrintStream;

/**
 * Progress of the demo: a bar redrawn in place on a terminal, plain lines (at most one a second) otherwise, so that
 * a log file or CI output stays readable.
 */
final class Progress {
    private static final int WIDTH = 30;
    private final PrintStream out;
    private final boolean terminal;
    private final long total;
    private long lastLine;
    /** Whether the line with every node done was printed (off a terminal it is printed once). */
    private boolean printedDone;

    Progress(PrintStream out, boolean terminal, long total) {
        this.out = out;
        this.terminal = terminal;
        this.total = total;
    }

    /** Whether standard output is a terminal. */
    static boolean isTerminal() {
        return System.console() != null;
    }

    void update(long done, long taints, long taintsTotal, long elapsedMillis) {
        String counts = String.format("%,d/%,d nodes have pod CIDRs, %,d/%,d taints removed, %.1f s", done, total,
                taints, taintsTotal, elapsedMillis / 1000.0);
        if (terminal) {
            int filled = total == 0 ? WIDTH : (int) Math.min(WIDTH, done * WIDTH / total);
            out.print("\r[" + "#".repeat(filled) + ".".repeat(WIDTH - filled) + "] " + counts + "   ");
            out.flush();
        } else if (done == total ? !printedDone : elapsedMillis - lastLine >= 1000) {
            lastLine = elapsedMillis;
            printedDone = done == total;
            out.println("progress: " + counts);
        }
    }

    void finish() {
        if (terminal) {
            out.println();
        }
    }
}
