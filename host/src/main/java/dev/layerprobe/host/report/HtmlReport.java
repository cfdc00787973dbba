package dev.layerprobe.host.report;

import dev.layerprobe.core.io.AtomicFiles;
import dev.layerprobe.host.compare.MetricResult;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Writes a {@link Report} as one self-contained {@code report.html} (DESIGN §10): inline CSS, inline
 * SVG charts drawn here, and a few lines of inline JavaScript that only sort the layer table. The
 * page references nothing outside itself, so it opens offline and can be mailed as one file.
 *
 * <p>Contents: the model and device; the verdict, the runtime root cause (layer, op, evidence) and
 * the quantization hot spots; a line chart of the cosine of the four columns (DESIGN §2) over the
 * layers in execution order; a bar chart of the worst layers; a table of every layer.
 *
 * <p>The cosine axis is a "nines" scale, {@code y = -log10(1 - cos)} clamped to
 * [0, {@value #MAX_NINES}], so 0.9 / 0.99 / 0.999 are equally spaced and the warning (0.99) and
 * wrong (0.98) thresholds are clearly apart from 1.0; a cosine of 1 − 1e-7 or better is drawn at the
 * top ("exact"), a cosine of 0 or below at the bottom. A null column (or NaN cosine) leaves a gap.
 *
 * <p>Every string from the model (layer names, ops, evidence, fault names) is HTML-escaped. Table
 * cosines are shown with five decimals truncated toward zero, like {@link ConsoleTable}, with the
 * full value as a tooltip; cells are coloured by the summary's thresholds. When the layers carry a
 * vendor tool's own figures ({@code compare} with RKNN-Toolkit2's {@code error_analysis.txt}), the
 * table shows the vendor's cosine for each column beside ours, marking with &#8800; each figure that
 * falls in another threshold band than ours, and the mapping section lists where the two differ.
 * Stateless.
 */
public final class HtmlReport {
    /** Top of the nines axis: cos ≥ 1 − 10^-MAX_NINES is drawn as exact. */
    static final int MAX_NINES = 7;
    /** Series colours, in {@link ReportWriter#COLUMNS} order. */
    private static final String[] COLORS = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728"};
    /** Dash patterns, so overlapping series stay distinguishable. */
    private static final String[] DASHES = {"", "7 4", "2 4", "10 4 2 4"};
    private static final double[] WIDTHS = {2.6, 2.2, 2.2, 2.0};
    private static final int WORST = 12;

    private HtmlReport() {
    }

    /** Writes the page to {@code file} atomically (a temporary file in the same folder, then a move). */
    public static void write(Report r, Path file) throws IOException {
        AtomicFiles.writeString(file, render(r));
    }

    /** The whole page. */
    public static String render(Report r) {
        double warn = r.summary() != null ? r.summary().warnCos() : 0.99;
        double wrong = r.summary() != null ? r.summary().wrongCos() : 0.98;
        String faultLayer = r.rootCause() != null && r.rootCause().runtime() != null
                ? r.rootCause().runtime().layer() : null;
        StringBuilder b = new StringBuilder(64 * 1024);
        b.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
                .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
                .append("<title>LayerProbe report: ").append(esc(r.model())).append("</title>\n")
                .append("<style>\n").append(CSS).append("</style>\n</head>\n<body>\n");
        header(b, r);
        verdict(b, r, warn, wrong);
        b.append("<section>\n<h2>Cosine per layer, execution order</h2>\n");
        lineChart(b, r, faultLayer, warn, wrong);
        b.append("</section>\n<section>\n<h2>Worst layers</h2>\n");
        worstChart(b, r, warn, wrong);
        b.append("</section>\n<section>\n<h2>All layers</h2>\n");
        table(b, r, faultLayer, warn, wrong);
        mapping(b, r);
        b.append("</section>\n<script>\n").append(JS).append("</script>\n</body>\n</html>\n");
        return b.toString();
    }

    // ---------------------------------------------------------------- header and verdict

    private static void header(StringBuilder b, Report r) {
        b.append("<header>\n<h1>LayerProbe report <span class=\"model\">").append(esc(r.model()))
                .append("</span></h1>\n<table class=\"kv\">\n");
        kv(b, "model", esc(r.model()));
        Report.Device d = r.device();
        if (d == null) {
            kv(b, "device", "<i>none (no runtime column)</i>");
        } else {
            kv(b, "device", esc(d.name()));
            kv(b, "backend", esc(d.backend()));
            kv(b, "profile", esc(d.profile()));
            StringBuilder f = new StringBuilder();
            if (d.faults().isEmpty()) {
                f.append("none");
            }
            for (String s : d.faults()) {
                f.append("<span class=\"tag\">").append(esc(s)).append("</span> ");
            }
            kv(b, "faults", f.toString().trim());
            StringBuilder v = new StringBuilder();
            for (Map.Entry<String, String> e : new TreeMap<>(d.versions()).entrySet()) {
                v.append("<span class=\"tag\">").append(esc(e.getKey())).append(' ').append(esc(e.getValue()))
                        .append("</span> ");
            }
            kv(b, "versions", v.length() == 0 ? "" : v.toString().trim());
        }
        b.append("</table>\n</header>\n");
    }

    private static void kv(StringBuilder b, String k, String htmlValue) {
        b.append("<tr><th>").append(k).append("</th><td>").append(htmlValue == null ? "" : htmlValue)
                .append("</td></tr>\n");
    }

    private static void verdict(StringBuilder b, Report r, double warn, double wrong) {
        Report.Summary s = r.summary();
        Report.RuntimeFault f = r.rootCause() != null ? r.rootCause().runtime() : null;
        Report.ModelVerdict model = s != null ? s.model() : null;
        boolean bad = f != null || (s != null && s.wrong() > 0) || (model != null && model.outputCos() < wrong);
        boolean warned = !bad && s != null && s.warnings() > 0;
        b.append("<section class=\"verdict ").append(bad ? "bad" : warned ? "warned" : "good").append("\">\n")
                .append("<h2>Verdict</h2>\n<p class=\"sentence\">")
                .append(s != null && s.verdict() != null ? esc(s.verdict()) : "no verdict").append("</p>\n");
        if (s != null) {
            b.append("<p class=\"counts\">").append(s.layers()).append(" layers &middot; ").append(s.warnings())
                    .append(" below warn (cos &lt; ").append(num(warn)).append(") &middot; ").append(s.wrong())
                    .append(" wrong (cos &lt; ").append(num(wrong)).append(")</p>\n");
        }
        if (model != null) {
            modelVerdict(b, model, warn, wrong);
        }
        if (f != null) {
            b.append("<div class=\"rootcause\" id=\"root-cause\">\n<h3>Root cause: runtime fault</h3>\n")
                    .append("<table class=\"kv\">\n");
            kv(b, "layer", "<a href=\"#row-fault\"><code>" + esc(f.layer()) + "</code></a>");
            kv(b, "op", "<code>" + esc(f.op()) + "</code>");
            kv(b, "evidence", esc(f.evidence()));
            b.append("</table>\n</div>\n");
        } else {
            b.append("<p>No runtime fault: the device agrees with the simulator wherever it was compared.</p>\n");
        }
        List<Report.HotSpot> hot = r.rootCause() != null ? r.rootCause().quantization() : List.of();
        if (!hot.isEmpty()) {
            b.append("<h3>Quantization hot spots</h3>\n<table class=\"grid hot\">\n<thead><tr><th>layer</th>")
                    .append("<th>op</th><th>per_layer cos</th><th>likely cause</th><th>cheapest fix</th>")
                    .append("</tr></thead>\n<tbody>\n");
            for (Report.HotSpot h : hot) {
                b.append("<tr><td><code>").append(esc(h.layer())).append("</code></td><td>").append(esc(h.op()))
                        .append("</td><td class=\"num ").append(cls(h.cos(), warn, wrong)).append("\">")
                        .append(cosText(h.cos())).append("</td><td>").append(esc(h.cause())).append("</td><td>")
                        .append(esc(h.fix())).append("</td></tr>\n");
            }
            b.append("</tbody>\n</table>\n");
        }
        b.append("</section>\n");
    }

    /** The verdict about the quantized model: its case, the figures behind it and the fix. */
    private static void modelVerdict(StringBuilder b, Report.ModelVerdict m, double warn, double wrong) {
        b.append("<div class=\"model\" id=\"model-verdict\">\n<h3>The quantized model: <code>")
                .append(esc(m.modelCase())).append("</code></h3>\n<p>").append(esc(m.text())).append("</p>\n")
                .append("<table class=\"kv\">\n");
        kv(b, "output", "<code>" + esc(m.output()) + "</code>, entire cos <span class=\"num "
                + cls(m.outputCos(), warn, wrong) + "\">" + cosText(m.outputCos()) + "</span>, relative error "
                + sig(m.outputRelErr()));
        if (m.amplification() != null) {
            kv(b, "amplification", sig(m.amplification()) + "x: the output's relative error over what all layers' own"
                    + " errors add up to (" + sig(m.layersRelErr()) + ")");
        }
        if (m.worstLayer() != null) {
            kv(b, "largest own error", "<code>" + esc(m.worstLayer()) + "</code>, per_layer cos "
                    + cosText(m.worstLayerCos()) + ", relative error " + sig(m.worstLayerRelErr()));
        }
        for (Report.Culprit c : m.layers()) {
            kv(b, "layer", "<code>" + esc(c.layer()) + "</code> (" + esc(c.op()) + "), per_layer cos "
                    + cosText(c.cos()) + ", " + Math.round(100 * c.share()) + "% of the layers' own error: "
                    + esc(c.cause()) + "; fix: " + esc(c.fix()));
        }
        if (m.input() != null) {
            kv(b, "input", "<code>" + esc(m.input().input()) + "</code>: " + esc(m.input().evidence()));
        }
        if (m.check() != null) {
            kv(b, "quick check", esc(m.check().what()) + " on <code>" + esc(m.check().input()) + "</code>: entire cos "
                    + cosText(m.check().cos()) + " (this run " + cosText(m.check().baselineCos()) + ")");
        }
        if (m.fix() != null) {
            kv(b, "fix", esc(m.fix()));
        }
        b.append("</table>\n</div>\n");
    }

    // ---------------------------------------------------------------- charts

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

    private static MetricResult column(Report.Layer l, int c) {
        return switch (c) {
            case 0 -> l.entire();
            case 1 -> l.perLayer();
            case 2 -> l.simuErr();
            default -> l.goldenErr();
        };
    }

    private static void lineChart(StringBuilder b, Report r, String faultLayer, double warn, double wrong) {
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
        b.append("<svg class=\"chart\" id=\"cos-chart\" viewBox=\"0 0 ").append(f(w)).append(' ').append(f(h))
                .append("\" width=\"100%\" role=\"img\" aria-label=\"cosine per layer\" ")
                .append(">\n");
        b.append("<rect x=\"").append(f(left)).append("\" y=\"").append(f(top)).append("\" width=\"").append(f(pw))
                .append("\" height=\"").append(f(ph)).append("\" class=\"plot\"/>\n");
        // y grid and labels
        for (int k = 0; k <= MAX_NINES; k++) {
            double yy = y.applyAsDouble(k);
            b.append("<line class=\"grid\" x1=\"").append(f(left)).append("\" x2=\"").append(f(left + pw))
                    .append("\" y1=\"").append(f(yy)).append("\" y2=\"").append(f(yy)).append("\"/>")
                    .append("<text class=\"ytick\" x=\"").append(f(left - 8)).append("\" y=\"").append(f(yy + 4))
                    .append("\">").append(tickLabel(k)).append("</text>\n");
        }
        // thresholds
        thresholdLine(b, left, pw, y.applyAsDouble(nines(warn)), "warn " + num(warn), "warnline");
        thresholdLine(b, left, pw, y.applyAsDouble(nines(wrong)), "wrong " + num(wrong), "wrongline");
        // x ticks
        int step = niceStep(n);
        for (int i = 0; i < n; i += step) {
            double xx = x.applyAsDouble(i);
            b.append("<line class=\"tick\" x1=\"").append(f(xx)).append("\" x2=\"").append(f(xx)).append("\" y1=\"")
                    .append(f(top + ph)).append("\" y2=\"").append(f(top + ph + 5)).append("\"/>")
                    .append("<text class=\"xtick\" x=\"").append(f(xx)).append("\" y=\"").append(f(top + ph + 19))
                    .append("\">").append(i).append("</text>\n");
        }
        b.append("<text class=\"axis\" x=\"").append(f(left + pw / 2)).append("\" y=\"").append(f(h - 12))
                .append("\">layer index (execution order; hover a point for its name)</text>\n");
        b.append("<text class=\"axis\" transform=\"translate(16 ").append(f(top + ph / 2))
                .append(") rotate(-90)\">cos, scale &#8722;log10(1 &#8722; cos)</text>\n");
        // root cause marker
        int fault = indexOf(layers, faultLayer);
        if (fault >= 0) {
            double xx = x.applyAsDouble(fault);
            boolean rightSide = xx > left + pw * 0.7;
            b.append("<g class=\"root-cause\" data-layer=\"").append(esc(faultLayer)).append("\">")
                    .append("<title>runtime fault: ").append(esc(faultLayer)).append("</title>")
                    .append("<line x1=\"").append(f(xx)).append("\" x2=\"").append(f(xx)).append("\" y1=\"")
                    .append(f(top - 6)).append("\" y2=\"").append(f(top + ph)).append("\"/>")
                    .append("<text x=\"").append(f(rightSide ? xx - 6 : xx + 6)).append("\" y=\"")
                    .append(f(top + ph - 8)).append("\" text-anchor=\"").append(rightSide ? "end" : "start")
                    .append("\">runtime fault: ").append(esc(shorten(faultLayer, 48))).append(" (#")
                    .append(fault).append(")</text></g>\n");
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
                d.append(pen ? " L" : (d.length() == 0 ? "M" : " M")).append(f(x.applyAsDouble(i))).append(' ')
                        .append(f(y.applyAsDouble(v)));
                pen = true;
            }
            String col = ReportWriter.COLUMNS.get(c);
            b.append("<path class=\"series\" data-column=\"").append(col).append("\" fill=\"none\" stroke=\"")
                    .append(COLORS[c]).append("\" stroke-width=\"").append(f(WIDTHS[c])).append('"')
                    .append(DASHES[c].isEmpty() ? "" : " stroke-dasharray=\"" + DASHES[c] + "\"")
                    .append(" d=\"").append(d.length() == 0 ? "M0 0" : d).append("\"/>\n");
        }
        for (int c = 0; c < 4; c++) {
            String col = ReportWriter.COLUMNS.get(c);
            b.append("<g class=\"points\" data-column=\"").append(col).append("\" fill=\"").append(COLORS[c])
                    .append("\">");
            for (int i = 0; i < n; i++) {
                Report.Layer l = layers.get(i);
                MetricResult m = column(l, c);
                double v = m == null ? Double.NaN : nines(m.cos());
                if (Double.isNaN(v)) {
                    continue;
                }
                b.append("<circle cx=\"").append(f(x.applyAsDouble(i))).append("\" cy=\"")
                        .append(f(y.applyAsDouble(v))).append("\" r=\"").append(n > 150 ? "2" : "3.2")
                        .append("\"><title>#").append(i).append(' ').append(esc(l.name())).append(" (")
                        .append(esc(l.op())).append(")\n").append(col).append(" cos = ").append(full(m.cos()))
                        .append("</title></circle>");
            }
            b.append("</g>\n");
        }
        // legend
        double lx = left + 10;
        for (int c = 0; c < 4; c++) {
            double xx = lx + c * 150;
            b.append("<g class=\"legend\"><line x1=\"").append(f(xx)).append("\" x2=\"").append(f(xx + 34))
                    .append("\" y1=\"20\" y2=\"20\" stroke=\"").append(COLORS[c]).append("\" stroke-width=\"3\"")
                    .append(DASHES[c].isEmpty() ? "" : " stroke-dasharray=\"" + DASHES[c] + "\"")
                    .append("/><text x=\"").append(f(xx + 40)).append("\" y=\"25\">")
                    .append(ReportWriter.COLUMNS.get(c)).append("</text></g>\n");
        }
        b.append("</svg>\n<p class=\"note\">y axis: cos on a &#8220;nines&#8221; scale, &#8722;log10(1 &#8722; cos),")
                .append(" so 0.9, 0.99, 0.999 are equally spaced; cos &#8805; 1 &#8722; 1e-7 is drawn at the top,")
                .append(" cos &#8804; 0 at the bottom; a missing value leaves a gap. Dashed lines: warn and wrong")
                .append(" thresholds.</p>\n");
    }

    private static void thresholdLine(StringBuilder b, double left, double pw, double yy, String label, String cls) {
        b.append("<line class=\"").append(cls).append("\" x1=\"").append(f(left)).append("\" x2=\"")
                .append(f(left + pw)).append("\" y1=\"").append(f(yy)).append("\" y2=\"").append(f(yy))
                .append("\"/><text class=\"").append(cls).append("\" x=\"").append(f(left + pw - 4))
                .append("\" y=\"").append(f(cls.equals("warnline") ? yy - 4 : yy + 13))
                .append("\" text-anchor=\"end\">").append(label).append("</text>\n");
    }

    private static void worstChart(StringBuilder b, Report r, double warn, double wrong) {
        record Worst(int index, Report.Layer layer, int column, double cos) {
        }
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
        b.append("<svg class=\"chart\" id=\"worst-chart\" viewBox=\"0 0 ").append(f(w)).append(' ').append(f(h))
                .append("\" width=\"100%\" role=\"img\" aria-label=\"worst layers\" ")
                .append(">\n")
                .append("<text class=\"axis\" x=\"").append(f(labelW + barW / 2)).append("\" y=\"14\">")
                .append("bar length = error, 1 &#8722; cos, log scale from 1e-7 (none) to 1; worst column of each")
                .append(" layer</text>\n");
        for (int j = 0; j < top.size(); j++) {
            Worst t = top.get(j);
            double yy = 24 + j * row;
            double len = Double.isNaN(t.cos()) ? barW : barW * (MAX_NINES - nines(t.cos())) / MAX_NINES;
            String c = cls(t.cos(), warn, wrong);
            b.append("<g class=\"bar ").append(c).append("\"><title>#").append(t.index()).append(' ')
                    .append(esc(t.layer().name())).append(" (").append(esc(t.layer().op())).append(")\n")
                    .append(ReportWriter.COLUMNS.get(t.column())).append(" cos = ").append(full(t.cos()))
                    .append("</title><text class=\"barlabel\" x=\"").append(f(labelW - 8)).append("\" y=\"")
                    .append(f(yy + 15)).append("\">#").append(t.index()).append(' ')
                    .append(esc(shorten(t.layer().name(), 44))).append(" (").append(esc(shorten(t.layer().op(), 18)))
                    .append(")</text><rect x=\"").append(f(labelW)).append("\" y=\"").append(f(yy + 3))
                    .append("\" width=\"").append(f(Math.max(1, len))).append("\" height=\"").append(f(row - 6))
                    .append("\" fill=\"").append(COLORS[t.column()]).append("\"/><text class=\"barvalue\" x=\"")
                    .append(f(labelW + Math.max(1, len) + 6)).append("\" y=\"").append(f(yy + 15)).append("\">")
                    .append(ReportWriter.COLUMNS.get(t.column())).append(' ').append(cosText(t.cos()))
                    .append("</text></g>\n");
        }
        b.append("</svg>\n");
    }

    // ---------------------------------------------------------------- table

    private static void table(StringBuilder b, Report r, String faultLayer, double warn, double wrong) {
        b.append("<p class=\"note\">Cosines truncated to five decimals (hover for the full value); ")
                .append("<span class=\"ok\">&#8805; ").append(num(warn)).append("</span> <span class=\"warn\">below ")
                .append(num(warn)).append("</span> <span class=\"wrong\">below ").append(num(wrong))
                .append("</span>; blank: column not computed for the layer. Click a header to sort.</p>\n")
                .append("<table class=\"grid layers\" id=\"layers\">\n<thead><tr><th data-type=\"num\">#</th>")
                .append("<th>name</th><th>op</th><th>shape</th><th>placement</th>");
        for (String c : ReportWriter.COLUMNS) {
            b.append("<th data-type=\"num\">").append(c).append("</th>");
        }
        String tool = r.layers().stream().filter(l -> l.vendor() != null).map(l -> l.vendor().tool()).findFirst()
                .orElse(null);
        if (tool != null) {
            for (String c : ReportWriter.COLUMNS) {
                b.append("<th data-type=\"num\" class=\"vendor\">").append(esc(tool)).append("<br>").append(c)
                        .append("</th>");
            }
        }
        b.append("</tr></thead>\n<tbody>\n");
        boolean faultSeen = false;
        for (int i = 0; i < r.layers().size(); i++) {
            Report.Layer l = r.layers().get(i);
            boolean fault = faultLayer != null && faultLayer.equals(l.name());
            b.append("<tr");
            if (fault) {
                b.append(" class=\"fault\"");
                if (!faultSeen) {
                    b.append(" id=\"row-fault\"");
                    faultSeen = true;
                }
            }
            b.append("><td class=\"num\" data-v=\"").append(i).append("\">").append(i).append("</td><td class=\"name\"");
            if (!l.fusedNodes().isEmpty()) {
                b.append(" title=\"covers: ").append(esc(String.join(", ", l.fusedNodes()))).append('"');
            }
            b.append("><code>").append(esc(l.name())).append("</code>")
                    .append(fault ? " <span class=\"faultmark\">&#9664; runtime fault</span>" : "")
                    .append("</td><td>").append(esc(l.op())).append("</td><td>").append(esc(ReportWriter.shape(l.shape())))
                    .append("</td><td>").append(esc(l.placement())).append("</td>");
            for (int c = 0; c < 4; c++) {
                MetricResult m = column(l, c);
                if (m == null) {
                    b.append("<td class=\"num\" data-v=\"\"></td>");
                } else {
                    b.append("<td class=\"num ").append(cls(m.cos(), warn, wrong)).append("\" data-v=\"")
                            .append(Double.isNaN(m.cos()) ? "-9" : full(m.cos())).append("\" title=\"")
                            .append(esc(m.toString())).append("\">").append(cosText(m.cos())).append("</td>");
                }
            }
            if (tool != null) {
                for (int c = 0; c < 4; c++) {
                    vendorCell(b, l, c, warn, wrong);
                }
            }
            b.append("</tr>\n");
        }
        b.append("</tbody>\n</table>\n");
    }

    /** The vendor's cosine for column {@code c} of a row, marked where it falls in another band than ours. */
    private static void vendorCell(StringBuilder b, Report.Layer l, int c, double warn, double wrong) {
        Report.VendorFigure v = l.vendor() == null ? null : l.vendor().column(ReportWriter.COLUMNS.get(c));
        if (v == null || v.cos() == null) {
            b.append("<td class=\"num vendor\" data-v=\"\"></td>");
            return;
        }
        MetricResult ours = column(l, c);
        boolean differs = ours != null && !cls(ours.cos(), warn, wrong).equals(cls(v.cos(), warn, wrong));
        b.append("<td class=\"num vendor ").append(cls(v.cos(), warn, wrong)).append(differs ? " differs" : "")
                .append("\" data-v=\"").append(full(v.cos())).append("\" title=\"").append(esc(l.vendor().tool()))
                .append(' ').append(esc(l.vendor().layer())).append(": cos ").append(full(v.cos()))
                .append(v.euc() == null ? "" : ", euc " + v.euc())
                .append(ours == null ? "" : "; ours " + full(ours.cos())).append("\">")
                .append(differs ? "&#8800; " : "").append(cosText(v.cos())).append("</td>");
    }

    // ---------------------------------------------------------------- helpers

    /** HTML-escapes text and attribute values; null becomes the empty string. */
    /** How compare mapped the dumps' layers: every line, and what stayed unmapped. */
    private static void mapping(StringBuilder b, Report r) {
        Report.Mapping m = r.mapping();
        if (m == null) {
            return;
        }
        b.append("</section>\n<section>\n<h2>Layer mapping</h2>\n<table class=\"kv\">\n");
        kv(b, "A", esc(m.reference()));
        kv(b, "B", esc(m.other()));
        kv(b, "unmapped in A", m.unmappedReference().isEmpty() ? "none" : esc(String.join(", ", m.unmappedReference())));
        kv(b, "unmapped in B", m.unmapped().isEmpty() ? "none" : esc(String.join(", ", m.unmapped())));
        kv(b, "no value in B", m.missing().isEmpty() ? "none" : esc(String.join(", ", m.missing())));
        b.append("</table>\n<details><summary>B's layers (").append(m.mapped().size()).append(")</summary><pre>");
        m.mapped().forEach(line -> b.append(esc(line)).append('\n'));
        b.append("</pre></details>\n<details><summary>A's layers (").append(m.referenceMapped().size())
                .append(")</summary><pre>");
        m.referenceMapped().forEach(line -> b.append(esc(line)).append('\n'));
        b.append("</pre></details>\n");
        if (m.simulator() != null) {
            b.append("<details><summary>simulator side: ").append(esc(m.simulator())).append(" (")
                    .append(m.simulatorMapped() == null ? 0 : m.simulatorMapped().size()).append(")</summary><pre>");
            if (m.simulatorMapped() != null) {
                m.simulatorMapped().forEach(line -> b.append(esc(line)).append('\n'));
            }
            b.append("</pre></details>\n");
        }
        vendor(b, m.vendor());
    }

    /** The vendor tool's own table: where it came from, and where it and LayerProbe differ. */
    private static void vendor(StringBuilder b, Report.VendorSource v) {
        if (v == null) {
            return;
        }
        b.append("</section>\n<section id=\"vendor\">\n<h2>").append(esc(v.tool())).append("'s own figures</h2>\n")
                .append("<table class=\"kv\">\n");
        kv(b, "source", "<code>" + esc(v.source()) + "</code> (" + esc(v.form()) + ")");
        kv(b, "rows", v.rows() + " read, " + v.mapped().size() + " mapped onto layers"
                + (v.unmapped().isEmpty() ? "" : ", unmapped: " + esc(String.join(", ", v.unmapped()))));
        kv(b, "agreement", (v.compared() - v.differences().size()) + " of " + v.compared()
                + " figures present on both sides fall in the same threshold band");
        b.append("</table>\n");
        if (!v.differences().isEmpty()) {
            b.append("<table class=\"grid\" id=\"vendor-differences\">\n<thead><tr><th>layer</th><th>column</th>")
                    .append("<th>LayerProbe cos</th><th>").append(esc(v.tool())).append(" cos</th></tr></thead>\n<tbody>\n");
            for (Report.VendorDifference d : v.differences()) {
                b.append("<tr><td><code>").append(esc(d.layer())).append("</code></td><td>").append(esc(d.column()))
                        .append("</td><td class=\"num\">").append(cosText(d.cos())).append("</td><td class=\"num\">")
                        .append(cosText(d.vendorCos())).append("</td></tr>\n");
            }
            b.append("</tbody>\n</table>\n");
        }
        b.append("<details><summary>").append(esc(v.tool())).append("'s rows (").append(v.mapped().size())
                .append(")</summary><pre>");
        v.mapped().forEach(line -> b.append(esc(line)).append('\n'));
        b.append("</pre></details>\n");
    }

    static String esc(String s) {
        if (s == null) {
            return "";
        }
        StringBuilder b = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            switch (ch) {
                case '&' -> b.append("&amp;");
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> {
                    if (ch < 0x20 && ch != '\n' && ch != '\t' && ch != '\r') {
                        b.append("&#xFFFD;");
                    } else {
                        b.append(ch);
                    }
                }
            }
        }
        return b.toString();
    }

    private static String cls(double cos, double warn, double wrong) {
        if (Double.isNaN(cos) || cos < wrong) {
            return "wrong";
        }
        return cos < warn ? "warn" : "ok";
    }

    private static String cosText(double cos) {
        if (Double.isNaN(cos)) {
            return "nan";
        }
        double t = cos >= 0 ? Math.floor(cos * 1e5) / 1e5 : Math.ceil(cos * 1e5) / 1e5;
        return String.format(Locale.ROOT, "%.5f", t);
    }

    private static String full(double v) {
        return Double.isNaN(v) ? "nan" : String.format(Locale.ROOT, "%.9f", v);
    }

    /** Three significant digits, for the model verdict's figures. */
    private static String sig(double v) {
        return String.format(Locale.ROOT, "%.3g", v);
    }

    private static String num(double v) {
        return String.format(Locale.ROOT, "%s", v);
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

    private static final String CSS = """
            body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0 auto;\
            max-width:1360px;padding:16px 24px;color:#1b1f24;background:#fff}
            h1{font-size:22px;margin:4px 0 10px}h1 .model{font-weight:400;color:#555}
            h2{font-size:17px;margin:22px 0 8px;border-bottom:1px solid #ddd;padding-bottom:3px}
            h3{font-size:15px;margin:12px 0 6px}
            code{font:12.5px/1.3 ui-monospace,"DejaVu Sans Mono",monospace;word-break:break-all}
            table.kv{border-collapse:collapse}table.kv th{text-align:left;padding:2px 14px 2px 0;color:#555;\
            font-weight:600;vertical-align:top}table.kv td{padding:2px 0}
            .tag{display:inline-block;background:#eef1f5;border:1px solid #d5dbe3;border-radius:4px;padding:0 6px;\
            margin:1px 2px 1px 0;font-size:13px}
            section.verdict{border-radius:8px;padding:4px 18px 12px;margin:14px 0;border:2px solid}
            section.verdict h2{border:none;margin-top:10px}
            section.verdict.bad{background:#fdecea;border-color:#d62728}
            section.verdict.warned{background:#fff6e0;border-color:#e0a000}
            section.verdict.good{background:#eaf7ec;border-color:#2ca02c}
            .sentence{font-size:18px;font-weight:700;margin:4px 0}
            .rootcause{background:#fff;border-left:6px solid #d62728;padding:6px 14px;margin:10px 0}
            .model{background:#fff;border-left:6px solid #1f77b4;padding:6px 14px;margin:10px 0}
            .model h3{margin-top:4px}
            .rootcause h3{color:#b00;margin-top:4px}
            .chart{display:block;background:#fff}.chart .plot{fill:#fafbfc;stroke:#999}
            .chart .grid{stroke:#e3e6ea}.chart .tick{stroke:#777}
            .chart text{font-size:13px;fill:#333}.chart .ytick{text-anchor:end}.chart .xtick{text-anchor:middle}
            .chart .axis{text-anchor:middle;fill:#555;font-size:13px}
            .chart line.warnline{stroke:#e0a000;stroke-dasharray:6 4;stroke-width:1.5}
            .chart line.wrongline{stroke:#d62728;stroke-dasharray:6 4;stroke-width:1.5}
            .chart text.warnline{fill:#a07000;font-size:12px}.chart text.wrongline{fill:#b00;font-size:12px}
            .chart .root-cause line{stroke:#b00;stroke-width:2.5}
            .chart .root-cause text{fill:#b00;font-weight:700;paint-order:stroke;stroke:#fff;stroke-width:4px;\
            stroke-linejoin:round}
            .chart .legend text{font-size:14px}
            .chart .barlabel{text-anchor:end;font-size:12.5px}.chart .barvalue{font-size:12.5px}
            .note{color:#555;font-size:13px;margin:4px 0 8px}
            table.grid{border-collapse:collapse;width:100%}
            table.grid th,table.grid td{border:1px solid #dde1e6;padding:3px 7px;vertical-align:top}
            table.grid thead th{background:#f0f2f5;position:sticky;top:0;cursor:pointer;text-align:left}
            td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
            .ok{background:#e8f6ea}.warn{background:#ffe9a8}.wrong{background:#f9c0bd;font-weight:600}
            tr.fault td{border-top:2px solid #d62728;border-bottom:2px solid #d62728}
            tr.fault td.name{background:#fdecea}.faultmark{color:#b00;font-weight:700;white-space:nowrap}
            th.vendor{background:#e9eef7}td.vendor{border-left-style:dashed}td.differs{outline:2px solid #6a3d9a;\
            outline-offset:-2px}
            """;

    private static final String JS = """
            (function () {
              var t = document.getElementById('layers');
              if (!t || !t.tHead || !t.tBodies.length) { return; }
              var ths = t.tHead.rows[0].cells, dir = {};
              for (var i = 0; i < ths.length; i++) {
                (function (col, numeric) {
                  ths[col].addEventListener('click', function () {
                    var body = t.tBodies[0], rows = Array.prototype.slice.call(body.rows);
                    dir[col] = -(dir[col] || -1);
                    rows.sort(function (a, b) {
                      var x = a.cells[col], y = b.cells[col];
                      var u = x ? (x.getAttribute('data-v') !== null ? x.getAttribute('data-v') : x.textContent) : '';
                      var v = y ? (y.getAttribute('data-v') !== null ? y.getAttribute('data-v') : y.textContent) : '';
                      if (numeric) {
                        if (u === '' || v === '') { return u === v ? 0 : (u === '' ? 1 : -1); }
                        return dir[col] * (parseFloat(u) - parseFloat(v));
                      }
                      return dir[col] * u.localeCompare(v);
                    });
                    for (var k = 0; k < rows.length; k++) { body.appendChild(rows[k]); }
                  });
                })(i, ths[i].getAttribute('data-type') === 'num');
              }
            })();
            """;
}
