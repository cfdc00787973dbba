package dev.layerprobe.host.report;

import static dev.layerprobe.host.report.Html.esc;
import static dev.layerprobe.host.report.Html.kv;

import java.util.List;
import java.util.Locale;

/**
 * The task section of {@code report.html} ({@link TaskSummary}): the classifier's agreement and
 * accuracy, a histogram of the per-input output cos as inline SVG bars (one group per bin, the
 * simulator's and the device's side by side, heights relative to the largest count) and the worst
 * inputs. Stateless.
 */
final class HtmlTask {
    private static final int BAR_W = 22;
    private static final int GROUP_W = 2 * BAR_W + 26;
    private static final int H = 120;

    private HtmlTask() {}

    static void section(StringBuilder b, Report r, double warn, double wrong) {
        TaskSummary t = r.task();
        if (t == null) {
            return;
        }
        b.append("<section>\n<h2>Task over ")
                .append(t.inputs())
                .append(" input")
                .append(t.inputs() == 1 ? "" : "s");
        if (t.output() != null) {
            b.append(" (output ").append(esc(t.output())).append(')');
        }
        b.append("</h2>\n<table class=\"kv\">\n");
        if (t.classes() != null) {
            kv(b, "classes", Integer.toString(t.classes()));
            kv(b, "top-1 agreement with golden", pair(t.top1()));
            kv(b, "top-5 agreement with golden", pair(t.top5()));
        }
        TaskSummary.Accuracy a = t.accuracy();
        if (a != null) {
            kv(
                    b,
                    "accuracy (" + a.labelled() + " labelled)",
                    "golden " + pct(a.golden()) + ", simulator " + pct(a.simulator()) + " (drop "
                            + pct(a.simulatorDrop()) + "), device " + pct(a.device()) + " (drop "
                            + pct(a.deviceDrop()) + ")");
        }
        b.append("</table>\n<h3>Output cos per input</h3>\n");
        histogram(b, t.histogram());
        b.append("<h3>Worst inputs</h3>\n<table class=\"layers\">\n<thead><tr><th>#</th><th>input</th>"
                + "<th>device cos</th><th>simulator cos</th><th>first wrong layer</th></tr></thead>\n<tbody>\n");
        for (InputResult w : t.worst()) {
            b.append("<tr><td>")
                    .append(w.index())
                    .append("</td><td>")
                    .append(esc(w.file()))
                    .append("</td>");
            cos(b, w.deviceCos(), warn, wrong);
            cos(b, w.simulatorCos(), warn, wrong);
            b.append("<td>")
                    .append(w.firstWrong() == null ? "" : esc(w.firstWrong()))
                    .append("</td></tr>\n");
        }
        b.append("</tbody>\n</table>\n</section>\n");
    }

    private static void cos(StringBuilder b, Double c, double warn, double wrong) {
        if (c == null) {
            b.append("<td></td>");
        } else {
            b.append("<td class=\"")
                    .append(Html.cls(c, warn, wrong))
                    .append("\">")
                    .append(String.format(Locale.ROOT, "%.6f", c))
                    .append("</td>");
        }
    }

    private static void histogram(StringBuilder b, TaskSummary.Histogram h) {
        List<String> bins = h.bins();
        int max = 1;
        for (int i = 0; i < bins.size(); i++) {
            max = Math.max(max, Math.max(h.simulator().get(i), h.device().get(i)));
        }
        int width = bins.size() * GROUP_W + 10;
        b.append("<svg class=\"chart\" width=\"")
                .append(width)
                .append("\" height=\"")
                .append(H + 50)
                .append("\" role=\"img\" aria-label=\"histogram of the output cos per input\">\n");
        for (int i = 0; i < bins.size(); i++) {
            int x = 10 + i * GROUP_W;
            bar(b, x, h.simulator().get(i), max, "#7a9cc6", "simulator");
            bar(b, x + BAR_W, h.device().get(i), max, "#d9822b", "device");
            b.append("<text x=\"")
                    .append(x)
                    .append("\" y=\"")
                    .append(H + 30)
                    .append("\" font-size=\"9\">")
                    .append(esc(bins.get(i)))
                    .append("</text>\n");
        }
        b.append("</svg>\n<p class=\"note\">blue: golden vs simulator; orange: golden vs device.</p>\n");
    }

    private static void bar(StringBuilder b, int x, int count, int max, String colour, String side) {
        int height = (int) Math.round((double) H * count / max);
        b.append("<rect x=\"")
                .append(x)
                .append("\" y=\"")
                .append(H + 10 - height)
                .append("\" width=\"")
                .append(BAR_W - 2)
                .append("\" height=\"")
                .append(height)
                .append("\" fill=\"")
                .append(colour)
                .append("\"><title>")
                .append(side)
                .append(": ")
                .append(count)
                .append("</title></rect>\n<text x=\"")
                .append(x)
                .append("\" y=\"")
                .append(H + 8 - height)
                .append("\" font-size=\"9\">")
                .append(count)
                .append("</text>\n");
    }

    private static String pair(TaskSummary.Agreement a) {
        return "simulator " + pct(a.simulator()) + ", device " + pct(a.device());
    }

    private static String pct(Double v) {
        return v == null ? "n/a" : String.format(Locale.ROOT, "%.2f%%", 100 * v);
    }
}
