package dev.layerprobe.host.analyze;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.layerprobe.core.tensor.Channels;
import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.dump.npy.Npy;
import dev.layerprobe.host.SharedData;
import dev.layerprobe.host.cli.LayerProbeCli;
import dev.layerprobe.host.compare.MetricResult;
import dev.layerprobe.host.compare.Metrics;
import dev.layerprobe.host.input.ImageLoader;
import dev.layerprobe.host.input.InputSpec;
import dev.layerprobe.host.quantize.QuantizationOptions;
import dev.layerprobe.host.report.ConsoleTable;
import dev.layerprobe.host.report.Report;
import dev.layerprobe.simulator.CompileOptions;
import dev.layerprobe.simulator.NpuProgram;
import dev.layerprobe.simulator.Simulator;
import dev.layerprobe.simulator.graph.Attribute;
import dev.layerprobe.simulator.graph.Graph;
import dev.layerprobe.simulator.graph.Node;
import dev.layerprobe.simulator.graph.ValueInfo;
import dev.layerprobe.simulator.onnx.OnnxGraphs;
import dev.layerprobe.simulator.quant.CalibrationAlgorithm;
import dev.layerprobe.simulator.quant.LayerPrecision;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The model verdict's three cases, each on a run where it is the truth: mobilepose_like as the README
 * analyzes it (spread and amplified), a model built here with one Conv whose weight channels span 100x
 * quantized per tensor (a few layers), and an input whose channels were reversed after mean/std against a
 * calibration on correctly preprocessed photos (the input).
 */
class ModelVerdictTest {
    @TempDir
    Path tmp;

    private record Run(int exit, String out, String err, JsonNode report) {
        String diagnosis() {
            return out.substring(out.indexOf("Diagnosis:"));
        }
    }

    private Run analyze(String... args) throws Exception {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        List<String> a = new ArrayList<>(List.of("analyze"));
        a.addAll(List.of(args));
        int code = LayerProbeCli.commandLine(new PrintWriter(out, true), new PrintWriter(err, true))
                .execute(a.toArray(String[]::new));
        String report = a.get(a.indexOf("--report") + 1);
        JsonNode r = code == 0
                ? new ObjectMapper()
                        .readTree(Path.of(report).resolve("report.json").toFile())
                : null;
        return new Run(code, out.toString(), err.toString(), r);
    }

    @Test
    void mobilePoseIsSpreadAndAmplified() throws Exception {
        Path model = SharedData.require("models/mobilepose_like.onnx");
        Path image = SharedData.require("images/photos/astronaut.png");
        Path calib = SharedData.require("images/calib224");
        Run r = analyze(
                model.toString(),
                "--input",
                image.toString(),
                "--calib",
                calib.toString(),
                "--mean",
                "0.485,0.456,0.406",
                "--std",
                "0.229,0.224,0.225",
                "--report",
                tmp.resolve("pose").toString());
        assertEquals(0, r.exit(), r.err());
        System.out.println(r.diagnosis());
        JsonNode s = r.report().get("summary");
        assertEquals("spread_amplified", s.get("model_case").asText(), s.toString());
        JsonNode m = s.get("model");
        assertEquals("heatmaps", m.get("output").asText());
        double cos = m.get("output_cos").asDouble();
        assertTrue(cos < 0.98, "output cos " + cos);
        assertTrue(m.get("amplification").asDouble() > ModelVerdicts.AMPLIFIES, m.toString());
        assertTrue(m.get("worst_layer_cos").asDouble() > 0.999, "every layer's own error is small: " + m);
        assertTrue(
                s.get("verdict")
                        .asText()
                        .startsWith("the quantized model is wrong at its output 'heatmaps' (entire" + " cos "
                                + ConsoleTable.cos5(cos) + "): the loss is spread"),
                s.get("verdict").asText());
        // report.html shows the model verdict with its case.
        String html = Files.readString(tmp.resolve("pose").resolve("report.html"));
        assertTrue(
                html.contains("id=\"model-verdict\"")
                        && html.contains("<code>spread_amplified</code>")
                        && html.contains("no single layer is to blame"),
                "report.html lacks the model verdict");
        assertTrue(s.get("verdict").asText().endsWith("the device matches the simulator on every layer"));
        // No layer whose own error is negligible is offered as a fix, and the fix is for the whole network.
        assertEquals(
                0,
                r.report().at("/root_cause/quantization").size(),
                r.report().get("root_cause").toString());
        String d = r.diagnosis();
        assertTrue(
                d.contains("no single layer is to blame")
                        && d.contains("--dtype int16")
                        && d.contains("propose-hybrid"),
                d);
        JsonNode check = m.get("check");
        assertEquals("every layer in int16", check.get("what").asText());
        assertEquals(cos, check.get("baseline_cos").asDouble(), 1e-9, "one input: the run's cos is the first input's");
        assertTrue(check.get("cos").asDouble() > 0.99, check.toString());
        assertTrue(d.indexOf("Model:") < d.indexOf("Runtime:"), "the model verdict comes first: " + d);
    }

    /**
     * x [1,8,16,16] -> Conv 1x1 (8->8) + Relu -> Conv 3x3 'spread' (8->4): output channel 0 reads two input
     * values with weights +-1, channels 1..3 read all 72 with weights 100x to 1000x smaller, so their outputs
     * are as large as channel 0's while per-tensor int8 weights give them one or two codes.
     */
    private Path spreadModel() throws Exception {
        Random rnd = new Random(7);
        float[] w1 = new float[8 * 8];
        for (int i = 0; i < w1.length; i++) {
            w1[i] = (float) (rnd.nextGaussian() * 0.4);
        }
        float[] w2 = new float[4 * 8 * 3 * 3];
        w2[0] = 1f;
        w2[4] = -1f;
        for (int i = 72; i < w2.length; i++) {
            w2[i] = 0.001f + 0.009f * rnd.nextFloat();
        }
        Graph g = new Graph(
                "spread",
                List.of(
                        new Node(
                                "conv1",
                                "Conv",
                                "",
                                List.of("x", "w1"),
                                List.of("c1"),
                                Map.of("kernel_shape", Attribute.ofInts(1, 1))),
                        new Node("relu1", "Relu", "", List.of("c1"), List.of("r1"), Map.of()),
                        new Node(
                                "spread",
                                "Conv",
                                "",
                                List.of("r1", "w2"),
                                List.of("y"),
                                Map.of("kernel_shape", Attribute.ofInts(3, 3), "pads", Attribute.ofInts(1, 1, 1, 1)))),
                Map.of(
                        "w1",
                        Tensor.ofFloats(new int[] {8, 8, 1, 1}, w1),
                        "w2",
                        Tensor.ofFloats(new int[] {4, 8, 3, 3}, w2)),
                List.of(new ValueInfo("x", DType.FLOAT32, new int[] {1, 8, 16, 16})),
                List.of("y"),
                Map.of("", 13));
        Path p = tmp.resolve("spread.onnx");
        Files.write(p, OnnxGraphs.toModel(g, "test", Map.of()).toByteArray());
        return p;
    }

    private Path uniformInput(String name, long seed) throws Exception {
        Random rnd = new Random(seed);
        float[] x = new float[8 * 16 * 16];
        for (int i = 0; i < x.length; i++) {
            x[i] = rnd.nextFloat();
        }
        Path p = tmp.resolve(name);
        Npy.write(p, new int[] {1, 8, 16, 16}, x);
        return p;
    }

    @Test
    void aPerTensorConvWithSpreadChannelsIsNamed() throws Exception {
        Path model = spreadModel();
        Path input = uniformInput("x.npy", 1);
        Path dir = tmp.resolve("few");
        Run r = analyze(
                model.toString(),
                "--input",
                input.toString(),
                "--per-tensor",
                "--warn-cos",
                "0.9999",
                "--wrong-cos",
                "0.999",
                "--report",
                dir.toString());
        assertEquals(0, r.exit(), r.err());
        System.out.println(r.diagnosis());
        JsonNode s = r.report().get("summary");
        assertEquals("few_layers", s.get("model_case").asText(), r.diagnosis());
        JsonNode layers = s.at("/model/layers");
        assertEquals(1, layers.size(), layers.toString());
        assertEquals("y", layers.get(0).get("layer").asText());
        assertTrue(layers.get(0).get("share").asDouble() > 0.5, layers.toString());
        assertEquals("--per-channel", layers.get(0).get("fix").asText());
        assertTrue(layers.get(0).get("cause").asText().startsWith("weight channels of very different ranges"));
        assertTrue(s.get("verdict").asText().contains("one layer makes most of the error ('y')"), s.toString());
        JsonNode check = s.at("/model/check");
        assertEquals(
                "weights per output channel (--per-channel)", check.get("what").asText());
        assertTrue(check.get("cos").asDouble() > check.get("baseline_cos").asDouble(), check.toString());
        assertTrue(r.diagnosis().contains("--per-channel"), r.diagnosis());

        // The same rows, had the run already quantized per channel: the fix is never --per-channel again.
        List<Report.Layer> rows = rows(r.report());
        NpuProgram sim = Simulator.compile(dir.resolve("spread.qdq.onnx"), CompileOptions.DEFAULT);
        NpuProgram floatProgram = Simulator.compile(model, CompileOptions.DEFAULT);
        var qdq = OnnxGraphs.readModel(dir.resolve("spread.qdq.onnx"));
        QuantizationOptions perChannelRun =
                new QuantizationOptions(LayerPrecision.INT8, true, CalibrationAlgorithm.MINMAX, 99.99, null, null);
        List<Report.HotSpot> again = HotSpots.diagnose(
                List.of(rows.get(rows.size() - 1)),
                new HotSpots.Sources(sim, floatProgram, qdq, List.of(), perChannelRun));
        assertFalse(again.get(0).fix().contains("--per-channel"), again.toString());
        List<Report.HotSpot> asRun = HotSpots.diagnose(
                List.of(rows.get(rows.size() - 1)),
                new HotSpots.Sources(
                        sim,
                        floatProgram,
                        qdq,
                        List.of(),
                        new QuantizationOptions(
                                LayerPrecision.INT8, false, CalibrationAlgorithm.MINMAX, 99.99, null, null)));
        assertEquals("--per-channel", asRun.get(0).fix());
    }

    @Test
    void theSameModelPerChannelIsFine() throws Exception {
        Run r = analyze(
                spreadModel().toString(),
                "--input",
                uniformInput("x.npy", 1).toString(),
                "--report",
                tmp.resolve("fine").toString());
        assertEquals(0, r.exit(), r.err());
        JsonNode s = r.report().get("summary");
        assertEquals("ok", s.get("model_case").asText(), r.diagnosis());
        assertEquals(
                "the device matches the simulator on every layer",
                s.get("verdict").asText());
    }

    /** A small image network: Conv 3x3 (3->8) + Relu, Conv 3x3 (8->8) + Relu, Conv 1x1 (8->4), on 1x3x64x64. */
    private Path imageModel() throws Exception {
        Random rnd = new Random(11);
        float[] w1 = new float[8 * 3 * 3 * 3];
        float[] w2 = new float[8 * 8 * 3 * 3];
        float[] w3 = new float[4 * 8];
        for (float[] w : List.of(w1, w2, w3)) {
            for (int i = 0; i < w.length; i++) {
                w[i] = (float) (rnd.nextGaussian() * 0.3);
            }
        }
        Map<String, Attribute> k3 =
                Map.of("kernel_shape", Attribute.ofInts(3, 3), "pads", Attribute.ofInts(1, 1, 1, 1));
        Graph g = new Graph(
                "image",
                List.of(
                        new Node("c1", "Conv", "", List.of("x", "w1"), List.of("a1"), k3),
                        new Node("r1", "Relu", "", List.of("a1"), List.of("b1"), Map.of()),
                        new Node("c2", "Conv", "", List.of("b1", "w2"), List.of("a2"), k3),
                        new Node("r2", "Relu", "", List.of("a2"), List.of("b2"), Map.of()),
                        new Node(
                                "c3",
                                "Conv",
                                "",
                                List.of("b2", "w3"),
                                List.of("y"),
                                Map.of("kernel_shape", Attribute.ofInts(1, 1)))),
                Map.of(
                        "w1",
                        Tensor.ofFloats(new int[] {8, 3, 3, 3}, w1),
                        "w2",
                        Tensor.ofFloats(new int[] {8, 8, 3, 3}, w2),
                        "w3",
                        Tensor.ofFloats(new int[] {4, 8, 1, 1}, w3)),
                List.of(new ValueInfo("x", DType.FLOAT32, new int[] {1, 3, 64, 64})),
                List.of("y"),
                Map.of("", 13));
        Path p = tmp.resolve("image.onnx");
        Files.write(p, OnnxGraphs.toModel(g, "test", Map.of()).toByteArray());
        return p;
    }

    /**
     * What a user captures from an app that feeds BGR: the correctly normalised tensor with its channels
     * reversed, saved as .npy, analyzed against a calibration on the photos preprocessed as the model wants.
     */
    @Test
    void anInputWithChannelsReversedPointsToThePreprocessing() throws Exception {
        Path calib = SharedData.require("images/calib224");
        Path astronaut = SharedData.require("images/photos/astronaut.png");
        Path model = imageModel();
        Tensor right = ImageLoader.load(astronaut, 64, 64, InputSpec.IMAGENET);
        Path bgr = tmp.resolve("astronaut_bgr.npy");
        Npy.write(bgr, right.shape(), Channels.reverse(right).floats());
        Path rgb = tmp.resolve("astronaut_rgb.npy");
        Npy.write(rgb, right.shape(), right.floats());
        String[] common = {"--calib", calib.toString(), "--mean", "0.485,0.456,0.406", "--std", "0.229,0.224,0.225"};

        List<String> a = new ArrayList<>(List.of(
                model.toString(),
                "--input",
                bgr.toString(),
                "--report",
                tmp.resolve("bgr").toString()));
        a.addAll(List.of(common));
        Run r = analyze(a.toArray(String[]::new));
        assertEquals(0, r.exit(), r.err());
        System.out.println(r.diagnosis());
        JsonNode s = r.report().get("summary");
        assertEquals("input", s.get("model_case").asText(), r.diagnosis());
        JsonNode e = s.at("/model/input");
        assertEquals("astronaut_bgr.npy", e.get("input").asText());
        assertEquals("channels reversed (RGB/BGR)", e.get("likely").asText(), e.toString());
        assertTrue(
                s.get("verdict")
                        .asText()
                        .contains("the input does not look like the calibration data (likely"
                                + " channels reversed (RGB/BGR))"),
                s.get("verdict").asText());
        assertTrue(r.diagnosis().contains("check-input") && r.diagnosis().contains("--dtype fp16"), r.diagnosis());

        // The same pixels in the right order: no alarm.
        List<String> b = new ArrayList<>(List.of(
                model.toString(),
                "--input",
                rgb.toString(),
                "--report",
                tmp.resolve("rgb").toString()));
        b.addAll(List.of(common));
        Run fine = analyze(b.toArray(String[]::new));
        assertEquals(0, fine.exit(), fine.err());
        assertFalse("input".equals(fine.report().at("/summary/model_case").asText()), fine.diagnosis());
        assertTrue(fine.report().at("/summary/model/input").isNull());
    }

    /** Rows as the ranking sees them, from report.json. */
    private static List<Report.Layer> rows(JsonNode report) {
        List<Report.Layer> rows = new ArrayList<>();
        for (JsonNode l : report.get("layers")) {
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
        return rows;
    }

    private static MetricResult metric(JsonNode m) {
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
    void casesOnSyntheticRows() {
        // Sixty layers each with the same small own error while entire falls: spread.
        List<Report.Layer> spread = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            spread.add(row("l" + i, 1 - 0.005 * (i + 1), 0.01));
        }
        ModelVerdicts.Figures f = ModelVerdicts.figures(spread, List.of("l59"));
        assertEquals("spread_amplified", ModelVerdicts.modelCase(f, null, 0.99));
        assertTrue(HotSpots.significant(spread).isEmpty(), "no layer's own error counts");
        assertEquals(0.01 * Math.sqrt(60), f.layersRelErr(), 1e-6);
        assertNotNull(
                ModelVerdicts.verdict("spread_amplified", f, List.of(), null, spread.get(0), null, null, 0.99, 0.98)
                        .text());
        // One layer with a large own error among the same: few layers.
        List<Report.Layer> few = new ArrayList<>(spread);
        few.set(30, row("l30", 0.8, 0.3));
        f = ModelVerdicts.figures(few, List.of("l59"));
        assertEquals("few_layers", ModelVerdicts.modelCase(f, null, 0.99));
        assertEquals("l30", f.culprits().get(0).layer().name());
        // A good output is ok; an input that does not fit wins over both.
        assertEquals("ok", ModelVerdicts.modelCase(ModelVerdicts.figures(few, List.of("l0")), null, 0.99));
        Report.InputEvidence in = new Report.InputEvidence("x.npy", "evidence", null, 0.2, 1.0);
        assertEquals("input", ModelVerdicts.modelCase(f, in, 0.99));
        assertNull(ModelVerdicts.sentence(
                ModelVerdicts.verdict(
                        "ok", ModelVerdicts.figures(few, List.of("l0")), List.of(), null, null, null, null, 0.99, 0.98),
                0.99,
                0.98));
    }

    /** A row whose entire cos and per_layer relative error are as given (per_layer cos follows from it). */
    private static Report.Layer row(String name, double entireCos, double ownRelErr) {
        Metrics e = new Metrics(1e-5, 1e-3);
        e.add(new float[] {1, 0}, new float[] {(float) entireCos, (float) Math.sqrt(1 - entireCos * entireCos)});
        Metrics p = new Metrics(1e-5, 1e-3);
        p.add(new float[] {1, 0}, new float[] {1, (float) ownRelErr});
        return new Report.Layer(name, "Conv", new int[] {1}, "npu", e.result(), p.result(), null, null);
    }
}
