package dev.layerprobe.host.report;

import dev.layerprobe.host.compare.MetricResult;
import java.io.PrintWriter;
import java.util.Locale;

/**
 * Prints a report as a fixed-width table in the spirit of RKNN-Toolkit2's accuracy analysis: one
 * row per layer with the cosine of each of the four columns (docs/architecture.md#three-results-four-comparisons), blank where a column has
 * no value. Names longer than the column are shortened in the middle with {@code ...}, since ONNX
 * names differ mostly at their ends. The root-cause layer's row ends with {@code <- runtime fault}.
 * Cosines are printed with five decimals, truncated toward zero rather than rounded so that
 * 0.999996 never shows as a bit-exact-looking 1.00000. ASCII only. Stateless once built.
 */
public final class ConsoleTable {
    /** Default width of the layer-name column. */
    public static final int DEFAULT_NAME_WIDTH = 40;

    private static final int OP_WIDTH = 18;
    private static final int NUM_WIDTH = 10;
    private static final String MARKER = "  <- runtime fault";

    private final int nameWidth;

    public ConsoleTable() {
        this(DEFAULT_NAME_WIDTH);
    }

    public ConsoleTable(int nameWidth) {
        if (nameWidth < 8) {
            throw new IllegalArgumentException("name column width must be at least 8, got " + nameWidth);
        }
        this.nameWidth = nameWidth;
    }

    /** Prints the header and one row per layer; flushes. */
    public void print(Report r, PrintWriter out) {
        String fault = r.rootCause() != null && r.rootCause().runtime() != null
                ? r.rootCause().runtime().layer()
                : null;
        String fmt = "%-" + nameWidth + "s %-" + OP_WIDTH + "s %" + NUM_WIDTH + "s %" + NUM_WIDTH + "s %" + NUM_WIDTH
                + "s %" + NUM_WIDTH + "s";
        out.println(String.format(Locale.ROOT, fmt, "layer", "op", "entire", "per_layer", "simu_err", "golden_err")
                .stripTrailing());
        out.println("-".repeat(nameWidth) + " " + "-".repeat(OP_WIDTH) + (" " + "-".repeat(NUM_WIDTH)).repeat(4));
        for (Report.Layer l : r.layers()) {
            String row = String.format(
                            Locale.ROOT,
                            fmt,
                            fit(l.name(), nameWidth),
                            fit(l.op(), OP_WIDTH),
                            cos(l.entire()),
                            cos(l.perLayer()),
                            cos(l.simuErr()),
                            cos(l.goldenErr()))
                    .stripTrailing();
            out.println(l.name() != null && l.name().equals(fault) ? row + MARKER : row);
        }
        out.flush();
    }

    /** Shortens {@code s} to {@code w} characters by replacing its middle with "...". */
    static String fit(String s, int w) {
        if (s == null) {
            return "";
        }
        if (s.length() <= w) {
            return s;
        }
        int keep = w - 3;
        int head = keep / 2;
        return s.substring(0, head) + "..." + s.substring(s.length() - (keep - head));
    }

    static String cos(MetricResult m) {
        return m == null ? "" : cos5(m.cos());
    }

    /**
     * A cosine as every LayerProbe table and sentence prints it: five decimals, truncated toward zero
     * (see the class comment), {@code nan} for NaN.
     */
    public static String cos5(double cos) {
        if (Double.isNaN(cos)) {
            return "nan";
        }
        double t = cos >= 0 ? Math.floor(cos * 1e5) / 1e5 : Math.ceil(cos * 1e5) / 1e5;
        return String.format(Locale.ROOT, "%.5f", t);
    }
}
