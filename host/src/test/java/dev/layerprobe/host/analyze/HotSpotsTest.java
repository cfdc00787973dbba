package dev.layerprobe.host.analyze;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.QuantParams;
import dev.layerprobe.host.SharedData;
import dev.layerprobe.host.cli.LayerProbeCli;
import dev.layerprobe.host.compare.MetricResult;
import dev.layerprobe.host.compare.Metrics;
import dev.layerprobe.host.report.Report;
import dev.layerprobe.simulator.CompileOptions;
import dev.layerprobe.simulator.NpuProgram;
import dev.layerprobe.simulator.Simulator;
import dev.layerprobe.simulator.quant.LayerPrecision;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Hot-spot ranking on synthetic rows, the evidence rules on small tensors, and one analyze run. */
class HotSpotsTest {
    @TempDir
    Path tmp;

    /** A metric whose cosine is exactly {@code cos}: b = cos·a + sin·a⊥ with |a| = |b| = 1. */
    static MetricResult cos(double cos) {
        Metrics m = new Metrics(1e-5, 1e-3);
        m.add(new float[] {1, 0}, new float[] {(float) cos, (float) Math.sqrt(1 - cos * cos)});
        return m.result();
    }

    /** A report.json metric object read back (the fields the ranking uses). */
    static MetricResult metric(JsonNode m) {
        if (m == null || m.isNull()) {
            return null;
        }
        return new MetricResult(
                m.get("count").asLong(),
                m.get("cos").asDouble(),
                m.get("euc").asDouble(),
                m.get("rel_euc").asDouble(),
                m.get("mse").asDouble(),
                Double.NaN,
                m.get("max_abs").asDouble(),
                m.get("mean_abs").asDouble(),
                Double.NaN,
                1e-5,
                1e-3,
                0,
                null,
                null);
    }

    @Test
    void layersWhoseOwnErrorIsNegligibleAreNoHotSpots() {
        // Twenty layers at the int8 floor, one at twice it, one far above it.
        List<Report.Layer> rows = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            rows.add(row("l" + i, 0.999 - 0.001 * i, 0.99990));
        }
        rows.add(row("twice", 0.97, 0.99980));
        rows.add(row("bad", 0.90, 0.995));
        List<String> counted =
                HotSpots.significant(rows).stream().map(Report.Layer::name).toList();
        assertEquals(List.of("bad"), counted, "a layer at twice the floor holds too small a share to count");
        // Below OWN_COS a layer always counts, whatever its share.
        rows.add(row("wrong", 0.5, 0.98));
        assertTrue(HotSpots.significant(rows).stream()
                .map(Report.Layer::name)
                .toList()
                .contains("wrong"));
    }

    @Test
    void clippingAdviceNeverRepeatsTheRunsAlgorithm() {
        for (dev.layerprobe.simulator.quant.CalibrationAlgorithm a :
                dev.layerprobe.simulator.quant.CalibrationAlgorithm.values()) {
            var run = new dev.layerprobe.host.quantize.QuantizationOptions(
                    LayerPrecision.INT8, true, a, 99.9, null, null);
            String fix = HotSpots.clipping(run);
            assertFalse(fix.contains("--algo " + a.name().toLowerCase(java.util.Locale.ROOT)), a + ": " + fix);
            assertFalse(fix.contains(" or " + a.name().toLowerCase(java.util.Locale.ROOT)), a + ": " + fix);
        }
        assertTrue(HotSpots.clipping(new dev.layerprobe.host.quantize.QuantizationOptions(
                        LayerPrecision.INT8,
                        true,
                        dev.layerprobe.simulator.quant.CalibrationAlgorithm.PERCENTILE,
                        99.9,
                        null,
                        null))
                .contains("99.9"));
    }

    static Report.Layer row(String name, double entire, double perLayer) {
        return new Report.Layer(name, "Conv", new int[] {1}, "npu", cos(entire), cos(perLayer), null, null);
    }

    @Test
    void ranksByOwnErrorOrEntireDropWorstFirst() {
        List<Report.Layer> rows = List.of(
                row("a", 0.99999, 0.99999), // clean
                row("b", 0.999, 0.999), // own error 1e-3, drop 1e-3 from the graph input
                row("c", 0.990, 0.9999), // per_layer clean, but entire drops 0.009 across it
                row("d", 0.989, 0.995), // own error 5e-3, drop from min(b, c) = 0.990 is 1e-3
                row("e", 0.989, 0.99995)); // nothing lost here
        Map<String, List<String>> producers =
                Map.of("a", List.of(), "b", List.of("a"), "c", List.of("b"), "d", List.of("b", "c"), "e", List.of("d"));
        List<HotSpots.Ranked> r = HotSpots.select(rows, producers, 5);
        // By own error: d, b. By drop: c (0.009), d (0.001), b (0.00099). In turn: d, c, b.
        assertEquals(
                List.of("d", "c", "b"), r.stream().map(x -> x.layer().name()).toList());
        assertEquals(0.005, r.get(0).error(), 1e-6);
        assertEquals(0.001, r.get(0).drop(), 1e-6, "drop from the worst of its producers");
        assertEquals(0.009, r.get(1).drop(), 1e-6);
        assertEquals(0.99999 - 0.999, r.get(2).drop(), 1e-6, "drop from a graph input is from 1");
        assertEquals(
                List.of("d", "c"),
                HotSpots.select(rows, producers, 2).stream()
                        .map(x -> x.layer().name())
                        .toList());
    }

    @Test
    void equalScoresKeepExecutionOrderAndRowsWithoutPerLayerAreSkipped() {
        List<Report.Layer> rows = List.of(
                new Report.Layer("x", "Conv", new int[] {1}, "npu", cos(0.9), null, null, null),
                row("p", 1.0, 0.99),
                row("q", 1.0, 0.99));
        List<HotSpots.Ranked> r = HotSpots.select(rows, Map.of(), 5);
        assertEquals(List.of("p", "q"), r.stream().map(x -> x.layer().name()).toList());
    }

    @Test
    void outlierChannelsOfAnActivation() {
        // 4 tokens x 8 channels; channel 5 reaches 30, the others about 1.
        float[] v = new float[32];
        for (int i = 0; i < v.length; i++) {
            v[i] = i % 8 == 5 ? 30f * ((i / 8) % 2 == 0 ? 1 : -1) : 1f - (i % 3) * 0.1f;
        }
        assertEquals("1 of 8 channels reach up to 30x the median channel's max|x|", HotSpots.outlierChannels(v, 8));
        float[] even = new float[32];
        java.util.Arrays.fill(even, 2f);
        assertNull(HotSpots.outlierChannels(even, 8));
    }

    @Test
    void channelSpreadAndOutlierEvidence() {
        // Two output channels of a [2,1,1,2] Conv weight: max|w| 0.5 and 20.
        assertEquals(
                40, WeightSpread.channelSpread(new float[] {0.5f, -0.1f, 3, -20}, new int[] {2, 1, 1, 2}, 0), 1e-9);
        assertEquals(0, WeightSpread.channelSpread(new float[] {1, 2}, new int[] {1, 2}, 0));

        float[] v = new float[100_000];
        for (int i = 0; i < v.length; i++) {
            v[i] = (i % 100) / 100f; // 0..0.99
        }
        QuantParams tight = QuantParams.perTensor(DType.INT8, 1f / 127, 0);
        assertEquals(null, HotSpots.outliers(tight, v));
        v[7] = 50; // one outlier the calibration took as the max
        QuantParams wide = QuantParams.perTensor(DType.INT8, 50f / 127, 0);
        String evidence = HotSpots.outliers(wide, v);
        assertTrue(evidence != null && evidence.contains("99.99th-percentile"), String.valueOf(evidence));
    }

    /** MobilePose-like, per-tensor weights, four calibration images: hot spots with actionable fixes. */
    @Test
    void resolutionNamesTheLayersOwnPrecisionAndTheNextStepUp() {
        assertEquals(
                "int8 resolution", HotSpots.resolution("c", LayerPrecision.INT8).cause());
        assertTrue(HotSpots.resolution("c", LayerPrecision.INT8).fix().contains("int16 or fp16"));
        // fp16 has fewer significant bits than int16: the step up from either is float32.
        for (LayerPrecision p : List.of(LayerPrecision.INT16, LayerPrecision.FP16)) {
            HotSpots.Diagnosis d = HotSpots.resolution("c", p);
            assertTrue(d.cause().startsWith(p.yamlName()), d.cause());
            assertTrue(d.fix().contains("float32") && d.fix().contains("--hybrid"), d.fix());
        }
    }

    @Test
    void analyzePerTensorReportsHotSpots() throws Exception {
        Path model = SharedData.require("models/mobilepose_like.onnx");
        Path all = SharedData.require("images/calib224");
        Path image = SharedData.require("images/photos/astronaut.png");
        Path calib = Files.createDirectories(tmp.resolve("calib"));
        try (Stream<Path> s = Files.list(all)) {
            for (Path p : s.sorted().limit(4).toList()) {
                Files.copy(p, calib.resolve(p.getFileName()));
            }
        }
        Path dir = tmp.resolve("report");
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = LayerProbeCli.commandLine(new PrintWriter(out, true), new PrintWriter(err, true))
                .execute(
                        "analyze",
                        model.toString(),
                        "--input",
                        image.toString(),
                        "--calib",
                        calib.toString(),
                        "--mean",
                        "0.485,0.456,0.406",
                        "--std",
                        "0.229,0.224,0.225",
                        "--per-tensor",
                        "--report",
                        dir.toString());
        assertEquals(0, code, err.toString());
        JsonNode r = new ObjectMapper().readTree(dir.resolve("report.json").toFile());
        JsonNode spots = r.at("/root_cause/quantization");
        assertTrue(
                spots.isArray() && spots.size() > 0 && spots.size() <= HotSpots.LIMIT,
                r.get("root_cause").toString());

        List<Report.Layer> rows = new ArrayList<>();
        for (JsonNode l : r.get("layers")) {
            rows.add(new Report.Layer(
                    l.get("name").asText(),
                    l.get("op").asText(),
                    null,
                    null,
                    metric(l.get("entire")),
                    metric(l.get("per_layer")),
                    null,
                    null));
        }
        // Ordered as the ranking orders the report's rows over the quantized model's layers, among the
        // layers whose own error counts.
        NpuProgram qdq = Simulator.compile(dir.resolve("mobilepose_like.qdq.onnx"), CompileOptions.DEFAULT);
        java.util.Set<String> counted = new java.util.HashSet<>();
        HotSpots.significant(rows).forEach(l -> counted.add(l.name()));
        List<String> expected =
                HotSpots.select(rows, HotSpots.producers(qdq), HotSpots.LIMIT, counted::contains).stream()
                        .map(x -> x.layer().name())
                        .toList();
        List<String> got = new ArrayList<>();
        spots.forEach(h -> got.add(h.get("layer").asText()));
        assertEquals(expected, got);
        boolean actionable = false;
        for (int i = 0; i < spots.size(); i++) {
            JsonNode h = spots.get(i);
            assertFalse(h.get("cause").asText().isBlank());
            String fix = h.get("fix").asText();
            actionable |= fix.contains("--per-channel")
                    || fix.contains("percentile")
                    || fix.contains("mse")
                    || fix.contains("--hybrid");
            JsonNode row = null;
            for (JsonNode l : r.get("layers")) {
                if (l.get("name").asText().equals(h.get("layer").asText())) {
                    row = l;
                }
            }
            assertEquals(row.at("/per_layer/cos").asDouble(), h.get("cos").asDouble(), 1e-12, "cos is per_layer cos");
        }
        assertTrue(actionable, spots.toString());
        // backbone.0's Conv weight channels span about 21x in max|w|: --per-tensor shows there.
        boolean perChannel = false;
        for (JsonNode h : spots) {
            perChannel |= h.get("fix").asText().equals("--per-channel")
                    && h.get("cause").asText().startsWith("weight channels of very different ranges");
        }
        assertTrue(perChannel, spots.toString());
        String text = out.toString();
        assertTrue(text.contains("Quantization hot spots ("), text);
        // The hot spot is worth fixing but does not explain the output: the model verdict says both.
        assertEquals("spread_amplified", r.at("/summary/model_case").asText());
        assertTrue(
                r.at("/summary/model/text")
                        .asText()
                        .contains("whose own error stands out ('"
                                + spots.get(0).get("layer").asText() + "'"),
                r.at("/summary/model/text").asText());
        assertTrue(text.contains("1. '" + spots.get(0).get("layer").asText() + "'"), text);
        System.out.println(text.substring(text.indexOf("Diagnosis:")));
        System.out.println(spots.toPrettyString());
    }
}
