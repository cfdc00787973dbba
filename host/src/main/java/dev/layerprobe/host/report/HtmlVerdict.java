package dev.layerprobe.host.report;

import static dev.layerprobe.host.report.ConsoleTable.cos5;
import static dev.layerprobe.host.report.Html.cls;
import static dev.layerprobe.host.report.Html.esc;
import static dev.layerprobe.host.report.Html.kv;
import static dev.layerprobe.host.report.Html.num;

import java.util.List;
import java.util.Locale;

/**
 * The verdict section at the top of {@code report.html}, coloured by the worst finding: the verdict
 * sentence and counts, the verdict about the quantized model with its figures, the runtime root
 * cause (layer, op, evidence) and the quantization hot spots. Stateless.
 */
final class HtmlVerdict {
    private HtmlVerdict() {}

    /** The verdict section, with the model verdict, the root cause and the hot spots where the report has them. */
    static void verdict(StringBuilder b, Report r, double warn, double wrong) {
        Report.Summary s = r.summary();
        Report.RuntimeFault f = r.rootCause() != null ? r.rootCause().runtime() : null;
        Report.ModelVerdict model = s != null ? s.model() : null;
        boolean bad = f != null || (s != null && s.wrong() > 0) || (model != null && model.outputCos() < wrong);
        boolean warned = !bad && s != null && s.warnings() > 0;
        b.append("<section class=\"verdict ")
                .append(bad ? "bad" : warned ? "warned" : "good")
                .append("\">\n")
                .append("<h2>Verdict</h2>\n<p class=\"sentence\">")
                .append(s != null && s.verdict() != null ? esc(s.verdict()) : "no verdict")
                .append("</p>\n");
        if (s != null) {
            b.append("<p class=\"counts\">")
                    .append(s.layers())
                    .append(" layers &middot; ")
                    .append(s.warnings())
                    .append(" below warn (cos &lt; ")
                    .append(num(warn))
                    .append(") &middot; ")
                    .append(s.wrong())
                    .append(" wrong (cos &lt; ")
                    .append(num(wrong))
                    .append(")</p>\n");
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
                b.append("<tr><td><code>")
                        .append(esc(h.layer()))
                        .append("</code></td><td>")
                        .append(esc(h.op()))
                        .append("</td><td class=\"num ")
                        .append(cls(h.cos(), warn, wrong))
                        .append("\">")
                        .append(cos5(h.cos()))
                        .append("</td><td>")
                        .append(esc(h.cause()))
                        .append("</td><td>")
                        .append(esc(h.fix()))
                        .append("</td></tr>\n");
            }
            b.append("</tbody>\n</table>\n");
        }
        b.append("</section>\n");
    }

    /** The verdict about the quantized model: its case, the figures behind it and the fix. */
    private static void modelVerdict(StringBuilder b, Report.ModelVerdict m, double warn, double wrong) {
        b.append("<div class=\"model\" id=\"model-verdict\">\n<h3>The quantized model: <code>")
                .append(esc(m.modelCase()))
                .append("</code></h3>\n<p>")
                .append(esc(m.text()))
                .append("</p>\n")
                .append("<table class=\"kv\">\n");
        kv(
                b,
                "output",
                "<code>" + esc(m.output()) + "</code>, entire cos <span class=\"num "
                        + cls(m.outputCos(), warn, wrong) + "\">" + cos5(m.outputCos()) + "</span>, relative error "
                        + sig(m.outputRelErr()));
        if (m.amplification() != null) {
            kv(
                    b,
                    "amplification",
                    sig(m.amplification()) + "x: the output's relative error over what all layers' own"
                            + " errors add up to (" + sig(m.layersRelErr()) + ")");
        }
        if (m.worstLayer() != null) {
            kv(
                    b,
                    "largest own error",
                    "<code>" + esc(m.worstLayer()) + "</code>, per_layer cos " + cos5(m.worstLayerCos())
                            + ", relative error " + sig(m.worstLayerRelErr()));
        }
        for (Report.Culprit c : m.layers()) {
            kv(
                    b,
                    "layer",
                    "<code>" + esc(c.layer()) + "</code> (" + esc(c.op()) + "), per_layer cos "
                            + cos5(c.cos()) + ", " + Math.round(100 * c.share()) + "% of the layers' own error: "
                            + esc(c.cause()) + "; fix: " + esc(c.fix()));
        }
        if (m.input() != null) {
            kv(
                    b,
                    "input",
                    "<code>" + esc(m.input().input()) + "</code>: "
                            + esc(m.input().evidence()));
        }
        if (m.check() != null) {
            kv(
                    b,
                    "quick check",
                    esc(m.check().what()) + " on <code>" + esc(m.check().input()) + "</code>: entire cos "
                            + cos5(m.check().cos()) + " (this run "
                            + cos5(m.check().baselineCos()) + ")");
        }
        if (m.fix() != null) {
            kv(b, "fix", esc(m.fix()));
        }
        b.append("</table>\n</div>\n");
    }

    /** Three significant digits, for the model verdict's figures. */
    private static String sig(double v) {
        return String.format(Locale.ROOT, "%.3g", v);
    }
}
