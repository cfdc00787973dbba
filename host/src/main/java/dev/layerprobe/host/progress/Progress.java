package dev.layerprobe.host.progress;

import dev.layerprobe.core.io.Terminal;
import java.io.PrintWriter;
import java.nio.charset.Charset;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Progress of a counted task. On an interactive terminal it
 * draws a me.tongfei progress bar on stderr; otherwise (CI logs, pipes, tests) it prints plain
 * lines such as {@code calibrating: 16/64}: every step when there are at most 20, else at every
 * tenth of the total, and always the last one, so logs stay short. Close it to finish the bar or
 * print the final count. Thread-safe: steps may come from worker threads.
 */
public final class Progress implements AutoCloseable {
    private static final int EVERY_STEP_UP_TO = 20;

    private final String label;
    private final long total;
    private final ProgressBar bar;
    private final PrintWriter lines;
    private long current;
    private long printed = -1;
    private boolean closed;

    private Progress(String label, long total, ProgressBar bar, PrintWriter lines) {
        this.label = label;
        this.total = total;
        this.bar = bar;
        this.lines = lines;
    }

    /** A bar on a terminal, else plain lines on stderr. */
    public static Progress start(String label, long total) {
        return start(label, total, Terminal.stderr());
    }

    /** A bar on a terminal, else plain lines on {@code out}. */
    public static Progress start(String label, long total, PrintWriter out) {
        if (Terminal.interactive()) {
            ProgressBarBuilder b = new ProgressBarBuilder()
                    .setTaskName(label)
                    .setInitialMax(total)
                    .setUpdateIntervalMillis(200);
            // Unicode blocks garble on terminals without a UTF-8 charset.
            if (!Charset.defaultCharset()
                    .name()
                    .toUpperCase(java.util.Locale.ROOT)
                    .contains("UTF")) {
                b.setStyle(ProgressBarStyle.ASCII);
            }
            return new Progress(label, total, b.build(), null);
        }
        return plain(label, total, out);
    }

    /** Always plain lines on {@code out}, whatever the terminal. */
    public static Progress plain(String label, long total, PrintWriter out) {
        return new Progress(label, total, null, out);
    }

    public void step() {
        stepBy(1);
    }

    public synchronized void stepBy(long n) {
        stepTo(current + n);
    }

    public synchronized void stepTo(long n) {
        if (closed) {
            return;
        }
        current = n;
        if (bar != null) {
            bar.stepTo(n);
        } else if (due()) {
            print();
        }
    }

    public synchronized long current() {
        return current;
    }

    public long total() {
        return total;
    }

    private boolean due() {
        if (total <= EVERY_STEP_UP_TO || current >= total) {
            return true;
        }
        return current * 10 / total != printed * 10 / total;
    }

    private void print() {
        if (printed == current) {
            return;
        }
        printed = current;
        lines.println(label + ": " + current + "/" + total);
        lines.flush();
    }

    /** Finishes the bar, or prints the final count if it was not printed yet. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (bar != null) {
            bar.close();
        } else {
            print();
        }
    }
}
