package dev.layerprobe.host.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.layerprobe.host.compare.MetricResult;
import dev.layerprobe.host.compare.Metrics;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReportTest {
    @TempDir
    Path dir;

    static MetricResult cos(float[] a, float[] b) {
        return new Metrics().add(a, b).result();
    }

    static Report sample() {
        MetricResult exact = cos(new float[] {1, 2}, new float[] {1, 2});
        MetricResult close = cos(new float[] {1, 2, 3}, new float[] {1, 2, 4});
        Metrics codes = new Metrics();
        codes.addCodes(new int[] {1, 2}, new int[] {1, 9}, 0, 2, 0.5f, 0);
        MetricResult off = codes.result();
        List<Report.Layer> layers = List.of(
                new Report.Layer("input", "Input", new int[] {1, 3, 4, 4}, null, exact, null, null, exact),
                new Report.Layer(
                        "/features/features.0/features.0.0/Conv_output_0",
                        "Conv+Relu",
                        new int[] {1, 8, 2, 2},
                        "npu",
                        close,
                        close,
                        exact,
                        close),
                new Report.Layer("up", "DepthToSpace", new int[] {1, 2, 4, 4}, "npu", close, exact, off, off),
                new Report.Layer("inner", "Add", null, null, null, null, null, null));
        return new Report(
                "tiny.onnx",
                new Report.Device(
                        "emulated",
                        "simulator",
                        "default",
                        List.of("depth_to_space_mode_swap on layer up"),
                        Map.of("agent", "0.1.0")),
                layers,
                new Report.RootCause(new Report.RuntimeFault("up", "DepthToSpace", "codes differ"), List.of()),
                new Report.Summary(4, 1, 1, 0.99, 0.98, "runtime fault at up (DepthToSpace)"));
    }

    @Test
    void consoleTableMatchesGolden() {
        StringWriter s = new StringWriter();
        new ConsoleTable(30).print(sample(), new PrintWriter(s));
        String expected = String.join(
                System.lineSeparator(),
                "layer                          op                     entire  per_layer   simu_err golden_err",
                "------------------------------ ------------------ ---------- ---------- ---------- ----------",
                "input                          Input                 1.00000                          1.00000",
                "/features/fea.../Conv_output_0 Conv+Relu             0.99146    0.99146    1.00000    0.99146",
                "up                             DepthToSpace          0.99146    1.00000    0.93834    0.93834"
                        + "  <- runtime fault",
                "inner                          Add",
                "");
        assertEquals(expected, s.toString());
    }

    @Test
    void cosinesAreTruncatedNotRounded() {
        MetricResult almost = new MetricResult(1, 0.999996, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, null, null);
        assertEquals("0.99999", ConsoleTable.cos(almost));
        assertEquals("", ConsoleTable.cos(null));
        assertEquals("abc...xyz", ConsoleTable.fit("abcdefghijklmnopqrstuvwxyz", 9));
    }

    @Test
    void jsonHasTheDocumentedShape() throws Exception {
        Path f = dir.resolve("report.json");
        ReportWriter.writeJson(sample(), f);
        JsonNode j = new ObjectMapper().readTree(f.toFile());
        assertEquals("tiny.onnx", j.get("model").asText());
        assertEquals("simulator", j.get("device").get("backend").asText());
        JsonNode first = j.get("layers").get(0);
        assertEquals("input", first.get("name").asText());
        assertEquals("[1,3,4,4]", first.get("shape").toString());
        assertTrue(first.get("per_layer").isNull());
        assertEquals("inf", first.get("entire").get("sqnr_db").asText());
        assertEquals(1.0, first.get("entire").get("cos").asDouble());
        assertEquals(7, j.get("layers").get(2).get("simu_err").get("max_lsb").asInt());
        assertEquals("up", j.get("root_cause").get("runtime").get("layer").asText());
        assertEquals(0.98, j.get("summary").get("wrong_cos").asDouble());
        assertTrue(Files.readString(f).contains("\n  \"model\""), "pretty-printed");
    }

    @Test
    void csvHasOneRowPerLayerAndAColumnPerMetric() throws Exception {
        StringWriter s = new StringWriter();
        ReportWriter.writeCsv(sample(), s);
        List<String> lines = s.toString().lines().toList();
        assertEquals(5, lines.size());
        String[] head = lines.get(0).split(",", -1);
        assertEquals(4 + 4 * ReportWriter.CSV_METRICS.size(), head.length);
        assertEquals("entire.cos", head[4]);
        assertEquals("golden_err.worst_input", head[head.length - 1]);
        String[] input = lines.get(1).split(",", -1);
        assertEquals("input", input[0]);
        assertEquals("1x3x4x4", input[2]);
        assertEquals("1.0", input[4]);
        assertEquals("inf", input[4 + 4]);
        assertEquals("", input[4 + ReportWriter.CSV_METRICS.size()], "per_layer is absent");
        assertEquals("", input[4 + 8], "no codes compared: bit_exact empty");
        String[] up = lines.get(3).split(",", -1);
        assertEquals("0.5", up[4 + 2 * ReportWriter.CSV_METRICS.size() + 8]);
        assertEquals(head.length, lines.get(4).split(",", -1).length);
    }
}
