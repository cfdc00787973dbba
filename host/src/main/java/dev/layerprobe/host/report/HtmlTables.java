package dev.layerprobe.host.report;

import static dev.layerprobe.host.report.ConsoleTable.cos5;
import static dev.layerprobe.host.report.Html.cls;
import static dev.layerprobe.host.report.Html.column;
import static dev.layerprobe.host.report.Html.esc;
import static dev.layerprobe.host.report.Html.full;
import static dev.layerprobe.host.report.Html.kv;
import static dev.layerprobe.host.report.Html.num;

import dev.layerprobe.host.compare.MetricResult;

/**
 * The tables of {@code report.html} below the charts: every layer (sortable, coloured by the
 * thresholds, the runtime fault's row marked, a vendor tool's own cosines beside ours where the
 * layers carry them), and for {@code compare} how the dumps' layers were mapped and, in its own
 * section, where the vendor tool's figures and ours differ. Stateless.
 */
final class HtmlTables {
    private HtmlTables() {}

    /** Every layer, in execution order. */
    static void table(StringBuilder b, Report r, String faultLayer, double warn, double wrong) {
        b.append("<p class=\"note\">Cosines truncated to five decimals (hover for the full value); ")
                .append("<span class=\"ok\">&#8805; ")
                .append(num(warn))
                .append("</span> <span class=\"warn\">below ")
                .append(num(warn))
                .append("</span> <span class=\"wrong\">below ")
                .append(num(wrong))
                .append("</span>; blank: column not computed for the layer. Click a header to sort.</p>\n")
                .append("<table class=\"grid layers\" id=\"layers\">\n<thead><tr><th data-type=\"num\">#</th>")
                .append("<th>name</th><th>op</th><th>shape</th><th>placement</th>");
        for (String c : ReportWriter.COLUMNS) {
            b.append("<th data-type=\"num\">").append(c).append("</th>");
        }
        String tool = r.layers().stream()
                .filter(l -> l.vendor() != null)
                .map(l -> l.vendor().tool())
                .findFirst()
                .orElse(null);
        if (tool != null) {
            for (String c : ReportWriter.COLUMNS) {
                b.append("<th data-type=\"num\" class=\"vendor\">")
                        .append(esc(tool))
                        .append("<br>")
                        .append(c)
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
            b.append("><td class=\"num\" data-v=\"")
                    .append(i)
                    .append("\">")
                    .append(i)
                    .append("</td><td class=\"name\"");
            if (!l.fusedNodes().isEmpty()) {
                b.append(" title=\"covers: ")
                        .append(esc(String.join(", ", l.fusedNodes())))
                        .append('"');
            }
            b.append("><code>")
                    .append(esc(l.name()))
                    .append("</code>")
                    .append(fault ? " <span class=\"faultmark\">&#9664; runtime fault</span>" : "")
                    .append("</td><td>")
                    .append(esc(l.op()))
                    .append("</td><td>")
                    .append(esc(ReportWriter.shape(l.shape())))
                    .append("</td><td>")
                    .append(esc(l.placement()))
                    .append("</td>");
            for (int c = 0; c < 4; c++) {
                MetricResult m = column(l, c);
                if (m == null) {
                    b.append("<td class=\"num\" data-v=\"\"></td>");
                } else {
                    b.append("<td class=\"num ")
                            .append(cls(m.cos(), warn, wrong))
                            .append("\" data-v=\"")
                            .append(Double.isNaN(m.cos()) ? "-9" : full(m.cos()))
                            .append("\" title=\"")
                            .append(esc(m.toString()))
                            .append("\">")
                            .append(cos5(m.cos()))
                            .append("</td>");
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
        b.append("<td class=\"num vendor ")
                .append(cls(v.cos(), warn, wrong))
                .append(differs ? " differs" : "")
                .append("\" data-v=\"")
                .append(full(v.cos()))
                .append("\" title=\"")
                .append(esc(l.vendor().tool()))
                .append(' ')
                .append(esc(l.vendor().layer()))
                .append(": cos ")
                .append(full(v.cos()))
                .append(v.euc() == null ? "" : ", euc " + v.euc())
                .append(ours == null ? "" : "; ours " + full(ours.cos()))
                .append("\">")
                .append(differs ? "&#8800; " : "")
                .append(cos5(v.cos()))
                .append("</td>");
    }

    /** How compare mapped the dumps' layers: every line, and what stayed unmapped. */
    static void mapping(StringBuilder b, Report r) {
        Report.Mapping m = r.mapping();
        if (m == null) {
            return;
        }
        b.append("</section>\n<section>\n<h2>Layer mapping</h2>\n<table class=\"kv\">\n");
        kv(b, "A", esc(m.reference()));
        kv(b, "B", esc(m.other()));
        kv(
                b,
                "unmapped in A",
                m.unmappedReference().isEmpty() ? "none" : esc(String.join(", ", m.unmappedReference())));
        kv(b, "unmapped in B", m.unmapped().isEmpty() ? "none" : esc(String.join(", ", m.unmapped())));
        kv(b, "no value in B", m.missing().isEmpty() ? "none" : esc(String.join(", ", m.missing())));
        b.append("</table>\n<details><summary>B's layers (")
                .append(m.mapped().size())
                .append(")</summary><pre>");
        m.mapped().forEach(line -> b.append(esc(line)).append('\n'));
        b.append("</pre></details>\n<details><summary>A's layers (")
                .append(m.referenceMapped().size())
                .append(")</summary><pre>");
        m.referenceMapped().forEach(line -> b.append(esc(line)).append('\n'));
        b.append("</pre></details>\n");
        if (m.simulator() != null) {
            b.append("<details><summary>simulator side: ")
                    .append(esc(m.simulator()))
                    .append(" (")
                    .append(
                            m.simulatorMapped() == null
                                    ? 0
                                    : m.simulatorMapped().size())
                    .append(")</summary><pre>");
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
        b.append("</section>\n<section id=\"vendor\">\n<h2>")
                .append(esc(v.tool()))
                .append("'s own figures</h2>\n")
                .append("<table class=\"kv\">\n");
        kv(b, "source", "<code>" + esc(v.source()) + "</code> (" + esc(v.form()) + ")");
        kv(
                b,
                "rows",
                v.rows() + " read, " + v.mapped().size() + " mapped onto layers"
                        + (v.unmapped().isEmpty() ? "" : ", unmapped: " + esc(String.join(", ", v.unmapped()))));
        kv(
                b,
                "agreement",
                (v.compared() - v.differences().size()) + " of " + v.compared()
                        + " figures present on both sides fall in the same threshold band");
        b.append("</table>\n");
        if (!v.differences().isEmpty()) {
            b.append("<table class=\"grid\" id=\"vendor-differences\">\n<thead><tr><th>layer</th><th>column</th>")
                    .append("<th>LayerProbe cos</th><th>")
                    .append(esc(v.tool()))
                    .append(" cos</th></tr></thead>\n<tbody>\n");
            for (Report.VendorDifference d : v.differences()) {
                b.append("<tr><td><code>")
                        .append(esc(d.layer()))
                        .append("</code></td><td>")
                        .append(esc(d.column()))
                        .append("</td><td class=\"num\">")
                        .append(cos5(d.cos()))
                        .append("</td><td class=\"num\">")
                        .append(cos5(d.vendorCos()))
                        .append("</td></tr>\n");
            }
            b.append("</tbody>\n</table>\n");
        }
        b.append("<details><summary>")
                .append(esc(v.tool()))
                .append("'s rows (")
                .append(v.mapped().size())
                .append(")</summary><pre>");
        v.mapped().forEach(line -> b.append(esc(line)).append('\n'));
        b.append("</pre></details>\n");
    }
}
