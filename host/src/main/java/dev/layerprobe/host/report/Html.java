package dev.layerprobe.host.report;

import dev.layerprobe.host.compare.MetricResult;
import java.util.Locale;

/**
 * What every part of {@code report.html} writes the same way: escaping, key-value rows, the
 * threshold class of a cosine and number formats. Cosines shown as text use
 * {@link ConsoleTable#cos5}, so the page and the console agree. Stateless.
 */
final class Html {
    private Html() {}

    /** HTML-escapes text and attribute values; null becomes the empty string. */
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

    /** A row of a key-value table; {@code htmlValue} is already HTML. */
    static void kv(StringBuilder b, String k, String htmlValue) {
        b.append("<tr><th>")
                .append(k)
                .append("</th><td>")
                .append(htmlValue == null ? "" : htmlValue)
                .append("</td></tr>\n");
    }

    /** The CSS class of a cosine by the thresholds: {@code ok}, {@code warn} or {@code wrong} (also NaN). */
    static String cls(double cos, double warn, double wrong) {
        if (Double.isNaN(cos) || cos < wrong) {
            return "wrong";
        }
        return cos < warn ? "warn" : "ok";
    }

    /** A value in full (nine decimals), for tooltips and sort keys. */
    static String full(double v) {
        return Double.isNaN(v) ? "nan" : String.format(Locale.ROOT, "%.9f", v);
    }

    /** A threshold as given. */
    static String num(double v) {
        return String.format(Locale.ROOT, "%s", v);
    }

    /** Column {@code c} of a row, in {@link ReportWriter#COLUMNS} order. */
    static MetricResult column(Report.Layer l, int c) {
        return switch (c) {
            case 0 -> l.entire();
            case 1 -> l.perLayer();
            case 2 -> l.simuErr();
            default -> l.goldenErr();
        };
    }
}
