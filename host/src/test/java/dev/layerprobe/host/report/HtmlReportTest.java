package dev.layerprobe.host.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.host.compare.MetricResult;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HtmlReportTest {
    @TempDir
    Path dir;

    static final String EVIL = "<b>&\"x\"";

    static MetricResult cos(double c) {
        return new MetricResult(4, c, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, null, null);
    }

    /** The ReportTest sample plus a layer with a hostile name, and the fault on that layer. */
    static Report sample() {
        Report base = ReportTest.sample();
        List<Report.Layer> layers = new ArrayList<>(base.layers());
        layers.add(
                2,
                new Report.Layer(EVIL, "Relu<'op'>", new int[] {1, 2}, "cpu", cos(0.985), cos(0.995), cos(0.5), null));
        return new Report(
                "m<odel>.onnx",
                base.device(),
                layers,
                new Report.RootCause(
                        new Report.RuntimeFault(EVIL, "Relu<'op'>", "codes differ & <i>so</i>"),
                        List.of(new Report.HotSpot(EVIL, "Relu", 0.985, "range <outliers>", "per-channel"))),
                new Report.Summary(layers.size(), 2, 1, 0.99, 0.98, "runtime fault at " + EVIL));
    }

    @Test
    void showsTheModelVerdictEscaped() {
        Report base = sample();
        Report.ModelVerdict m = new Report.ModelVerdict(
                "few_layers",
                EVIL,
                0.5,
                0.9,
                0.1,
                9.0,
                EVIL,
                0.9,
                0.4,
                List.of(new Report.Culprit(EVIL, "Conv", 0.9, 0.8, "spread <weights>", "--per-channel")),
                null,
                new Report.QuickCheck("weights per output channel (--per-channel)", "x.npy", EVIL, 0.999, 0.5),
                "one layer <makes> it",
                "--per-channel");
        Report r = new Report(
                base.model(),
                base.device(),
                base.layers(),
                base.rootCause(),
                new Report.Summary(base.layers().size(), 2, 1, 0.99, 0.98, "the model <is> wrong", "few_layers", m));
        String h = HtmlReport.render(r);
        assertTrue(h.contains("id=\"model-verdict\"") && h.contains("<code>few_layers</code>"), h);
        assertTrue(h.contains("one layer &lt;makes&gt; it") && h.contains("spread &lt;weights&gt;"), h);
        assertTrue(h.contains("quick check") && h.contains("0.99900") && h.contains("9.00x"), h);
        assertFalse(h.contains("<makes>") || h.contains("<weights>"), "unescaped text");
        assertFalse(HtmlReport.render(base).contains("id=\"model-verdict\""), "no model verdict, no section");
    }

    private String written() throws Exception {
        Path f = dir.resolve("report.html");
        HtmlReport.write(sample(), f);
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(List.of(f), s.toList(), "only report.html, no leftover temporary file");
        }
        return Files.readString(f, StandardCharsets.UTF_8);
    }

    @Test
    void isOneSelfContainedDocument() throws Exception {
        String h = written();
        assertTrue(h.startsWith("<!DOCTYPE html>"));
        assertEquals(1, count(h, "<html"));
        assertEquals(1, count(h, "</html>"));
        assertTrue(h.stripTrailing().endsWith("</html>"));
        String lower = h.toLowerCase(java.util.Locale.ROOT);
        assertFalse(lower.contains("http://"), "no http:// reference");
        assertFalse(lower.contains("https://"), "no https:// reference");
        assertFalse(lower.contains("<link"), "no <link>");
        assertFalse(lower.contains("src="), "no src= attribute (no external script, image or frame)");
        assertFalse(lower.contains("@import"), "no CSS import");
        assertFalse(lower.contains("url("), "no CSS url()");
        Matcher href = Pattern.compile("href=\"([^\"]*)\"").matcher(h);
        while (href.find()) {
            assertTrue(href.group(1).startsWith("#"), "only in-page links: " + href.group(1));
        }
    }

    @Test
    void chartHasOnePathPerColumn() throws Exception {
        String h = written();
        assertTrue(h.contains("<svg"));
        for (String c : ReportWriter.COLUMNS) {
            assertEquals(1, count(h, "<path class=\"series\" data-column=\"" + c + "\""), c);
        }
        assertEquals(4, count(h, "<path class=\"series\""));
        assertTrue(h.contains("<title>#0 input (Input)"), "layer names are point tooltips");
    }

    @Test
    void escapesEveryModelString() throws Exception {
        String h = written();
        assertFalse(h.contains(EVIL), "raw layer name must not appear");
        assertFalse(h.contains("<b>"));
        assertFalse(h.contains("<i>so</i>"));
        assertFalse(h.contains("m<odel>"));
        assertFalse(h.contains("<outliers>"));
        String escaped = "&lt;b&gt;&amp;&quot;x&quot;";
        assertTrue(h.contains("<code>" + escaped + "</code>"), "table cell");
        assertTrue(h.contains("data-layer=\"" + escaped + "\""), "attribute");
        assertTrue(h.contains("Relu&lt;&#39;op&#39;&gt;"));
        assertTrue(h.contains("codes differ &amp; &lt;i&gt;so&lt;/i&gt;"));
    }

    @Test
    void marksTheRootCauseLayer() throws Exception {
        String h = written();
        assertTrue(
                h.contains("<g class=\"root-cause\" data-layer=\"&lt;b&gt;&amp;&quot;x&quot;\">"),
                "vertical line in the chart");
        assertEquals(1, count(h, "<tr class=\"fault\" id=\"row-fault\">"), "highlighted table row");
        assertTrue(h.contains("id=\"root-cause\""), "root cause box");
        assertTrue(h.contains("runtime fault at &lt;b&gt;&amp;&quot;x&quot;"), "verdict");
    }

    @Test
    void tableCellsAreBlankForNullAndColouredByThreshold() throws Exception {
        String h = written();
        String inner = row(h, "inner");
        assertEquals(4, count(inner, "<td class=\"num\" data-v=\"\"></td>"), inner);
        String evil = row(h, "&lt;b&gt;&amp;&quot;x&quot;");
        assertTrue(evil.contains("class=\"num warn\""), "0.985 is a warning: " + evil);
        assertTrue(evil.contains("class=\"num ok\""), "0.995 is fine");
        assertTrue(evil.contains("class=\"num wrong\""), "0.5 is wrong");
        assertTrue(evil.contains(">0.98500<"));
        assertTrue(evil.endsWith("<td class=\"num\" data-v=\"\"></td></tr>"), "null golden_err is blank");
        String input = row(h, "input");
        assertTrue(input.contains(">1.00000<"));
    }

    @Test
    void ninesScaleSeparatesThresholdsFromOne() {
        assertEquals(2.0, HtmlCharts.nines(0.99), 1e-9);
        assertEquals(HtmlCharts.MAX_NINES, HtmlCharts.nines(1.0));
        assertEquals(0.0, HtmlCharts.nines(-0.3));
        assertTrue(Double.isNaN(HtmlCharts.nines(Double.NaN)));
    }

    @Test
    void worksWithoutDeviceOrLayers() throws Exception {
        Report empty = new Report(
                "x.onnx", null, List.of(), Report.RootCause.NONE, new Report.Summary(0, 0, 0, 0.99, 0.98, "nothing"));
        String h = HtmlReport.render(empty);
        assertTrue(h.contains("none (no runtime column)"));
        assertEquals(4, count(h, "<path class=\"series\""));
        Path f = dir.resolve("sub").resolve("report.html");
        HtmlReport.write(empty, f);
        HtmlReport.write(ReportTest.sample(), f);
        assertTrue(Files.readString(f).contains("tiny.onnx"), "overwrites");
    }

    private static String row(String h, String escapedName) {
        int at = h.indexOf("<code>" + escapedName + "</code>", h.indexOf("<table class=\"grid layers\""));
        assertTrue(at > 0, escapedName);
        return h.substring(h.lastIndexOf("<tr", at), h.indexOf("</tr>", at) + 5);
    }

    private static int count(String s, String sub) {
        int n = 0;
        for (int i = s.indexOf(sub); i >= 0; i = s.indexOf(sub, i + sub.length())) {
            n++;
        }
        return n;
    }
}
