package dev.layerprobe.host.report;

import static dev.layerprobe.host.report.ConsoleTable.cos5;
import static dev.layerprobe.host.report.Html.cls;
import static dev.layerprobe.host.report.Html.column;
import static dev.layerprobe.host.report.Html.esc;
import static dev.layerprobe.host.report.Html.full;
import static dev.layerprobe.host.report.Html.num;

import dev.layerprobe.host.compare.MetricResult;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * The inline SVG charts of {@code report.html}: the cosine of the four columns over the layers in
 * execution order, with the thresholds and the runtime fault marked, and the worst layers as bars.
 *
 * <p>The cosine axis is a "nines" scale, {@code y = -log10(1 - cos)} clamped to
 * [0, {@value #MAX_NINES}], so 0.9 / 0.99 / 0.999 are equally spaced and the warning (0.99) and
 * wrong (0.98) thresholds are clearly apart from 1.0; a cosine of 1 − 1e-7 or better is drawn at the
 * top ("exact"), a cosine of 0 or below at the bottom. A null column (or NaN cosine) leaves a gap.
 * Coordinates are written with one decimal. Stateless.
 */
final class HtmlCharts {
    /** Top of the nines axis: cos ≥ 1 − 10^-MAX_NINES is drawn as exact. */
    static final int MAX_NINES = 7;
    /** Series colours, in {@link ReportWriter#COLUMNS} order. */
    private static final String[] COLORS = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728"};
    /** Dash patterns, so overlapping series stay distinguishable. */
    private static final String[] DASHES = {"", "7 4", "2 4", "10 4 2 4"};

    private static final double[] WIDTHS = {2.6, 2.2, 2.2, 2.0};
    private static final int WORST = 12;

    private HtmlCharts() {}

    /** The nines value of a cosine, clamped to [0, MAX_NINES]; NaN stays NaN. */
    static double nines(double cos) {
        if (Double.isNaN(cos)) {
            return Double.NaN;
        }
        if (cos <= 0) {
            return 0;
        }
        double e = 1 - cos;
        if (e <= Math.pow(10, -MAX_NINES)) {
            return MAX_NINES;
        }
        return Math.max(0, Math.min(MAX_NINES, -Math.log10(e)));
    }

    private static String tickLabel(int k) {
        if (k == 0) {
            return "0";
        }
        if (k == MAX_NINES) {
            return "1 (exact)";
        }
        return "0." + "9".repeat(k);
    }

    /** The line chart of every column's cosine per layer. */
    static void lineChart(StringBuilder b, Report r, String faultLayer, double warn, double wrong) {
        List<Report.Layer> layers = r.layers();
        int n = layers.size();
        double w = 1300;
        double h = 470;
        double left = 110;
        double right = 20;
        double top = 40;
        double bottom = 60;
        double pw = w - left - right;
        double ph = h - top - bottom;
        java.util.function.DoubleUnaryOperator x = i -> left + (n <= 1 ? pw / 2 : pw * i / (n - 1));
        java.util.function.DoubleUnaryOperator y = v -> top + ph * (1 - v / MAX_NINES);
        b.append("<svg class=\"chart\" id=\"cos-chart\" viewBox=\"0 0 ")
                .append(f(w))
                .append(' ')
                .append(f(h))
                .append("\" width=\"100%\" role=\"img\" aria-label=\"cosine per layer\" ")
                .append(">\n");
        b.append("<rect x=\"")
                .append(f(left))
                .append("\" y=\"")
                .append(f(top))
                .append("\" width=\"")
                .append(f(pw))
                .append("\" height=\"")
                .append(f(ph))
                .append("\" class=\"plot\"/>\n");
        // y grid and labels
        for (int k = 0; k <= MAX_NINES; k++) {
            double yy = y.applyAsDouble(k);
            b.append("<line class=\"grid\" x1=\"")
                    .append(f(left))
                    .append("\" x2=\"")
                    .append(f(left + pw))
                    .append("\" y1=\"")
                    .append(f(yy))
                    .append("\" y2=\"")
                    .append(f(yy))
                    .append("\"/>")
                    .append("<text class=\"ytick\" x=\"")
                    .append(f(left - 8))
                    .append("\" y=\"")
                    .append(f(yy + 4))
                    .append("\">")
                    .append(tickLabel(k))
                    .append("</text>\n");
        }
        // thresholds
        thresholdLine(b, left, pw, y.applyAsDouble(nines(warn)), "warn " + num(warn), "warnline");
        thresholdLine(b, left, pw, y.applyAsDouble(nines(wrong)), "wrong " + num(wrong), "wrongline");
        // x ticks
        int step = niceStep(n);
        for (int i = 0; i < n; i += step) {
            double xx = x.applyAsDouble(i);
            b.append("<line class=\"tick\" x1=\"")
                    .append(f(xx))
                    .append("\" x2=\"")
                    .append(f(xx))
                    .append("\" y1=\"")
                    .append(f(top + ph))
                    .append("\" y2=\"")
                    .append(f(top + ph + 5))
                    .append("\"/>")
                    .append("<text class=\"xtick\" x=\"")
                    .append(f(xx))
                    .append("\" y=\"")
                    .append(f(top + ph + 19))
                    .append("\">")
                    .append(i)
                    .append("</text>\n");
        }
        b.append("<text class=\"axis\" x=\"")
                .append(f(left + pw / 2))
                .append("\" y=\"")
                .append(f(h - 12))
                .append("\">layer index (execution order; hover a point for its name)</text>\n");
        b.append("<text class=\"axis\" transform=\"translate(16 ")
                .append(f(top + ph / 2))
                .append(") rotate(-90)\">cos, scale &#8722;log10(1 &#8722; cos)</text>\n");
        // root cause marker
        int fault = indexOf(layers, faultLayer);
        if (fault >= 0) {
            double xx = x.applyAsDouble(fault);
            boolean rightSide = xx > left + pw * 0.7;
            b.append("<g class=\"root-cause\" data-layer=\"")
                    .append(esc(faultLayer))
                    .append("\">")
                    .append("<title>runtime fault: ")
                    .append(esc(faultLayer))
                    .append("</title>")
                    .append("<line x1=\"")
                    .append(f(xx))
                    .append("\" x2=\"")
                    .append(f(xx))
                    .append("\" y1=\"")
                    .append(f(top - 6))
                    .append("\" y2=\"")
                    .append(f(top + ph))
                    .append("\"/>")
                    .append("<text x=\"")
                    .append(f(rightSide ? xx - 6 : xx + 6))
                    .append("\" y=\"")
                    .append(f(top + ph - 8))
                    .append("\" text-anchor=\"")
                    .append(rightSide ? "end" : "start")
                    .append("\">runtime fault: ")
                    .append(esc(shorten(faultLayer, 48)))
                    .append(" (#")
                    .append(fault)
                    .append(")</text></g>\n");
        }
        // series: one path per column (gaps where a column has no value), then the points
        for (int c = 0; c < 4; c++) {
            StringBuilder d = new StringBuilder();
            boolean pen = false;
            for (int i = 0; i < n; i++) {
                MetricResult m = column(layers.get(i), c);
                double v = m == null ? Double.NaN : nines(m.cos());
                if (Double.isNaN(v)) {
                    pen = false;
                    continue;
                }
                d.append(pen ? " L" : (d.length() == 0 ? "M" : " M"))
                        .append(f(x.applyAsDouble(i)))
                        .append(' ')
                        .append(f(y.applyAsDouble(v)));
                pen = true;
            }
            String col = ReportWriter.COLUMNS.get(c);
            b.append("<path class=\"series\" data-column=\"")
                    .append(col)
                    .append("\" fill=\"none\" stroke=\"")
                    .append(COLORS[c])
                    .append("\" stroke-width=\"")
                    .append(f(WIDTHS[c]))
                    .append('"')
                    .append(DASHES[c].isEmpty() ? "" : " stroke-dasharray=\"" + DASHES[c] + "\"")
                    .append(" d=\"")
                    .append(d.length() == 0 ? "M0 0" : d)
                    .append("\"/>\n");
        }
        for (int c = 0; c < 4; c++) {
            String col = ReportWriter.COLUMNS.get(c);
            b.append("<g class=\"points\" data-column=\"")
                    .append(col)
                    .append("\" fill=\"")
                    .append(COLORS[c])
                    .append("\">");
            for (int i = 0; i < n; i++) {
                Report.Layer l = layers.get(i);
                MetricResult m = column(l, c);
                double v = m == null ? Double.NaN : nines(m.cos());
                if (Double.isNaN(v)) {
                    continue;
                }
                b.append("<circle cx=\"")
                        .append(f(x.applyAsDouble(i)))
                        .append("\" cy=\"")
                        .append(f(y.applyAsDouble(v)))
                        .append("\" r=\"")
                        .append(n > 150 ? "2" : "3.2")
                        .append("\"><title>#")
                        .append(i)
                        .append(' ')
                        .append(esc(l.name()))
                        .append(" (")
                        .append(esc(l.op()))
                        .append(")\n")
                        .append(col)
                        .append(" cos = ")
                        .append(full(m.cos()))
                        .append("</title></circle>");
            }
            b.append("</g>\n");
        }
        // legend
        double lx = left + 10;
        for (int c = 0; c < 4; c++) {
            double xx = lx + c * 150;
            b.append("<g class=\"legend\"><line x1=\"")
                    .append(f(xx))
                    .append("\" x2=\"")
                    .append(f(xx + 34))
                    .append("\" y1=\"20\" y2=\"20\" stroke=\"")
                    .append(COLORS[c])
                    .append("\" stroke-width=\"3\"")
                    .append(DASHES[c].isEmpty() ? "" : " stroke-dasharray=\"" + DASHES[c] + "\"")
                    .append("/><text x=\"")
                    .append(f(xx + 40))
                    .append("\" y=\"25\">")
                    .append(ReportWriter.COLUMNS.get(c))
                    .append("</text></g>\n");
        }
        b.append("</svg>\n<p class=\"note\">y axis: cos on a &#8220;nines&#8221; scale, &#8722;log10(1 &#8722; cos),")
                .append(" so 0.9, 0.99, 0.999 are equally spaced; cos &#8805; 1 &#8722; 1e-7 is drawn at the top,")
                .append(" cos &#8804; 0 at the bottom; a missing value leaves a gap. Dashed lines: warn and wrong")
                .append(" thresholds.</p>\n");
    }

    private static void thresholdLine(StringBuilder b, double left, double pw, double yy, String label, String cls) {
        b.append("<line class=\"")
                .append(cls)
                .append("\" x1=\"")
                .append(f(left))
                .append("\" x2=\"")
                .append(f(left + pw))
                .append("\" y1=\"")
                .append(f(yy))
                .append("\" y2=\"")
                .append(f(yy))
                .append("\"/><text class=\"")
                .append(cls)
                .append("\" x=\"")
                .append(f(left + pw - 4))
                .append("\" y=\"")
                .append(f(cls.equals("warnline") ? yy - 4 : yy + 13))
                .append("\" text-anchor=\"end\">")
                .append(label)
                .append("</text>\n");
    }

    /** The bar chart of the worst layers, by the worst column of each. */
    static void worstChart(StringBuilder b, Report r, double warn, double wrong) {
        record Worst(int index, Report.Layer layer, int column, double cos) {}
        List<Worst> all = new ArrayList<>();
        for (int i = 0; i < r.layers().size(); i++) {
            Report.Layer l = r.layers().get(i);
            int wc = -1;
            double wcos = Double.POSITIVE_INFINITY;
            for (int c = 0; c < 4; c++) {
                MetricResult m = column(l, c);
                if (m == null) {
                    continue;
                }
                double v = Double.isNaN(m.cos()) ? Double.NEGATIVE_INFINITY : m.cos();
                if (v < wcos) {
                    wcos = v;
                    wc = c;
                }
            }
            if (wc >= 0 && nines(wcos) < MAX_NINES) {
                all.add(new Worst(i, l, wc, column(l, wc).cos()));
            }
        }
        all.sort(Comparator.comparingDouble((Worst w) -> Double.isNaN(w.cos()) ? Double.NEGATIVE_INFINITY : w.cos())
                .thenComparingInt(Worst::index));
        List<Worst> top = all.subList(0, Math.min(WORST, all.size()));
        if (top.isEmpty()) {
            b.append("<p>Every computed column of every layer is exact (cos &#8805; 1 &#8722; 1e-7).</p>\n");
            return;
        }
        double w = 1300;
        double labelW = 430;
        double barW = w - labelW - 140;
        double row = 24;
        double h = 30 + row * top.size();
        b.append("<svg class=\"chart\" id=\"worst-chart\" viewBox=\"0 0 ")
                .append(f(w))
                .append(' ')
                .append(f(h))
                .append("\" width=\"100%\" role=\"img\" aria-label=\"worst layers\" ")
                .append(">\n")
                .append("<text class=\"axis\" x=\"")
                .append(f(labelW + barW / 2))
                .append("\" y=\"14\">")
                .append("bar length = error, 1 &#8722; cos, log scale from 1e-7 (none) to 1; worst column of each")
                .append(" layer</text>\n");
        for (int j = 0; j < top.size(); j++) {
            Worst t = top.get(j);
            double yy = 24 + j * row;
            double len = Double.isNaN(t.cos()) ? barW : barW * (MAX_NINES - nines(t.cos())) / MAX_NINES;
            String c = cls(t.cos(), warn, wrong);
            b.append("<g class=\"bar ")
                    .append(c)
                    .append("\"><title>#")
                    .append(t.index())
                    .append(' ')
                    .append(esc(t.layer().name()))
                    .append(" (")
                    .append(esc(t.layer().op()))
                    .append(")\n")
                    .append(ReportWriter.COLUMNS.get(t.column()))
                    .append(" cos = ")
                    .append(full(t.cos()))
                    .append("</title><text class=\"barlabel\" x=\"")
                    .append(f(labelW - 8))
                    .append("\" y=\"")
                    .append(f(yy + 15))
                    .append("\">#")
                    .append(t.index())
                    .append(' ')
                    .append(esc(shorten(t.layer().name(), 44)))
                    .append(" (")
                    .append(esc(shorten(t.layer().op(), 18)))
                    .append(")</text><rect x=\"")
                    .append(f(labelW))
                    .append("\" y=\"")
                    .append(f(yy + 3))
                    .append("\" width=\"")
                    .append(f(Math.max(1, len)))
                    .append("\" height=\"")
                    .append(f(row - 6))
                    .append("\" fill=\"")
                    .append(COLORS[t.column()])
                    .append("\"/><text class=\"barvalue\" x=\"")
                    .append(f(labelW + Math.max(1, len) + 6))
                    .append("\" y=\"")
                    .append(f(yy + 15))
                    .append("\">")
                    .append(ReportWriter.COLUMNS.get(t.column()))
                    .append(' ')
                    .append(cos5(t.cos()))
                    .append("</text></g>\n");
        }
        b.append("</svg>\n");
    }

    private static String f(double v) {
        return String.format(Locale.ROOT, "%.1f", v);
    }

    private static String shorten(String s, int w) {
        return ConsoleTable.fit(s, w);
    }

    private static int indexOf(List<Report.Layer> layers, String name) {
        if (name == null) {
            return -1;
        }
        for (int i = 0; i < layers.size(); i++) {
            if (name.equals(layers.get(i).name())) {
                return i;
            }
        }
        return -1;
    }

    private static int niceStep(int n) {
        int target = Math.max(1, (int) Math.ceil(n / 25.0));
        for (int s : new int[] {1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000}) {
            if (s >= target) {
                return s;
            }
        }
        return target;
    }
}
