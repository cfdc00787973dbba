package dev.layerprobe.host.report;

import static dev.layerprobe.host.report.Html.esc;
import static dev.layerprobe.host.report.Html.kv;

import dev.layerprobe.core.io.AtomicFiles;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/**
 * Writes a {@link Report} as one self-contained {@code report.html} (docs/architecture.md#reports): inline CSS, inline
 * SVG charts drawn here, and a few lines of inline JavaScript that only sort the layer table. The
 * page references nothing outside itself, so it opens offline and can be mailed as one file.
 *
 * <p>Contents, in order: the model and device (here); the verdict, the runtime root cause (layer, op,
 * evidence) and the quantization hot spots ({@link HtmlVerdict}); for an analysis, the task over the inputs
 * ({@link HtmlTask}: agreement, accuracy, a histogram of the per-input output cos, the worst inputs); a line chart of the cosine of the
 * four columns over the layers in execution order and a bar chart of the worst layers
 * ({@link HtmlCharts}, which explains the "nines" axis); a table of every layer and, for
 * {@code compare}, the layer mapping and a vendor tool's own figures ({@link HtmlTables}).
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
    private HtmlReport() {}

    /** Writes the page to {@code file} atomically (a temporary file in the same folder, then a move). */
    public static void write(Report r, Path file) throws IOException {
        AtomicFiles.writeString(file, render(r));
    }

    /** The whole page. */
    public static String render(Report r) {
        double warn = r.summary() != null ? r.summary().warnCos() : 0.99;
        double wrong = r.summary() != null ? r.summary().wrongCos() : 0.98;
        String faultLayer = r.rootCause() != null && r.rootCause().runtime() != null
                ? r.rootCause().runtime().layer()
                : null;
        StringBuilder b = new StringBuilder(64 * 1024);
        b.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
                .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
                .append("<title>LayerProbe report: ")
                .append(esc(r.model()))
                .append("</title>\n")
                .append("<style>\n")
                .append(CSS)
                .append("</style>\n</head>\n<body>\n");
        header(b, r);
        HtmlVerdict.verdict(b, r, warn, wrong);
        HtmlTask.section(b, r, warn, wrong);
        bisect(b, r.bisect());
        b.append("<section>\n<h2>Cosine per layer, execution order</h2>\n");
        HtmlCharts.lineChart(b, r, faultLayer, warn, wrong);
        b.append("</section>\n<section>\n<h2>Worst layers</h2>\n");
        HtmlCharts.worstChart(b, r, warn, wrong);
        b.append("</section>\n<section>\n<h2>All layers</h2>\n");
        HtmlTables.table(b, r, faultLayer, warn, wrong);
        HtmlTables.mapping(b, r);
        b.append("</section>\n<script>\n").append(JS).append("</script>\n</body>\n</html>\n");
        return b.toString();
    }

    /** The bisection's device runs and probes, when the runtime fault was found by bisection. */
    private static void bisect(StringBuilder b, Report.Bisect bis) {
        if (bis == null) {
            return;
        }
        b.append("<section>\n<h2>Bisection</h2>\n<p>")
                .append(esc(bis.reason()))
                .append("; on ")
                .append(esc(bis.input()))
                .append(": ")
                .append(bis.deviceRuns())
                .append(" device runs (at most ")
                .append(bis.maxRuns())
                .append(")")
                .append(bis.confirmation() == null ? "" : "; " + esc(bis.confirmation()))
                .append("</p>\n<table>\n<tr><th>#</th><th>after layer</th><th>op</th><th>values</th>")
                .append("<th>worst</th><th>cos</th><th>verdict</th><th>ran</th></tr>\n");
        for (int i = 0; i < bis.probes().size(); i++) {
            Report.Probe p = bis.probes().get(i);
            b.append("<tr><td>")
                    .append(i + 1)
                    .append("</td><td>")
                    .append(esc(p.after()))
                    .append("</td><td>")
                    .append(esc(p.op()))
                    .append("</td><td>")
                    .append(p.values())
                    .append("</td><td>")
                    .append(esc(p.worst()))
                    .append("</td><td>")
                    .append(Html.full(p.cos()))
                    .append("</td><td>")
                    .append(esc(p.verdict()))
                    .append("</td><td>")
                    .append(esc(p.source()))
                    .append("</td></tr>\n");
        }
        b.append("</table>\n</section>\n");
    }

    private static void header(StringBuilder b, Report r) {
        b.append("<header>\n<h1>LayerProbe report <span class=\"model\">")
                .append(esc(r.model()))
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
                v.append("<span class=\"tag\">")
                        .append(esc(e.getKey()))
                        .append(' ')
                        .append(esc(e.getValue()))
                        .append("</span> ");
            }
            kv(b, "versions", v.length() == 0 ? "" : v.toString().trim());
        }
        b.append("</table>\n</header>\n");
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
