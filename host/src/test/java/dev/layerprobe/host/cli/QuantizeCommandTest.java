package dev.layerprobe.host.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.layerprobe.host.SharedData;
import dev.layerprobe.onnx.Onnx.ModelProto;
import dev.layerprobe.onnx.Onnx.NodeProto;
import dev.layerprobe.onnx.Onnx.TensorProto;
import dev.layerprobe.simulator.onnx.OnnxGraphs;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code layerprobe quantize} and the quantization options of {@code analyze}. */
class QuantizeCommandTest {
    @TempDir
    Path tmp;

    private Path calibSubset(int n) throws Exception {
        Path all = SharedData.require("images/calib224");
        Path dir = Files.createDirectories(tmp.resolve("calib"));
        try (Stream<Path> s = Files.list(all)) {
            for (Path p : s.sorted().limit(n).toList()) {
                Files.copy(p, dir.resolve(p.getFileName()));
            }
        }
        return dir;
    }

    private static List<String> imagenet() {
        return List.of("--mean", "0.485,0.456,0.406", "--std", "0.229,0.224,0.225");
    }

    @Test
    void writesAQdqModelTheSimulatorRunsOnTheNpu() throws Exception {
        Path model = SharedData.require("models/mobilenet_v2.onnx");
        Path out = tmp.resolve("m.qdq.onnx");
        List<String> a = new ArrayList<>(List.of(
                "quantize",
                model.toString(),
                "--calib",
                calibSubset(4).toString(),
                "-o",
                out.toString(),
                "--algo",
                "percentile",
                "--per-tensor"));
        a.addAll(imagenet());
        CliRun r = CliRun.of(a.toArray(String[]::new));
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("int8 per-tensor, percentile 99.99"), r.out());
        ModelProto m = ModelProto.parseFrom(Files.readAllBytes(out));
        long q = m.getGraph().getNodeList().stream()
                .filter(n -> n.getOpType().equals("QuantizeLinear"))
                .count();
        assertTrue(q > 50, "QuantizeLinear nodes: " + q);
        java.util.Set<String> weights = new java.util.HashSet<>();
        for (NodeProto n : m.getGraph().getNodeList()) {
            if (n.getOpType().equals("Conv")) {
                weights.add(n.getInput(1));
            }
        }
        int checked = 0;
        for (NodeProto n : m.getGraph().getNodeList()) {
            if (n.getOpType().equals("DequantizeLinear") && weights.contains(n.getOutput(0))) {
                assertEquals(0, n.getAttributeCount(), "per-tensor weights have no axis: " + n.getName());
                checked++;
            }
        }
        assertEquals(weights.size(), checked, "every Conv weight is quantized");
    }

    @Test
    void promotingTheWorstLayerToInt16RaisesItsPerLayerCos() throws Exception {
        Path model = SharedData.require("models/mobilepose_like.onnx");
        Path image = SharedData.require("images/photos/astronaut.png");
        Path calib = calibSubset(6);
        List<String> base = new ArrayList<>(
                List.of("analyze", model.toString(), "--input", image.toString(), "--calib", calib.toString()));
        base.addAll(imagenet());
        List<String> first = new ArrayList<>(base);
        first.addAll(List.of("--report", tmp.resolve("int8").toString()));
        assertEquals(0, CliRun.of(first.toArray(String[]::new)).exit());
        JsonNode r8 =
                new ObjectMapper().readTree(tmp.resolve("int8/report.json").toFile());
        String worst = null;
        double worstCos = 2;
        for (JsonNode l : r8.get("layers")) {
            double c = l.at("/per_layer/cos").asDouble();
            if (c < worstCos) {
                worstCos = c;
                worst = l.get("name").asText();
            }
        }
        Path hybrid = Files.writeString(tmp.resolve("hybrid.yaml"), "layers:\n  \"" + worst + "\": int16\n");
        List<String> second = new ArrayList<>(base);
        second.addAll(List.of(
                "--hybrid", hybrid.toString(), "--report", tmp.resolve("hybrid").toString()));
        CliRun r = CliRun.of(second.toArray(String[]::new));
        assertEquals(0, r.exit(), r.err());
        JsonNode rh =
                new ObjectMapper().readTree(tmp.resolve("hybrid/report.json").toFile());
        double promoted = Double.NaN;
        for (JsonNode l : rh.get("layers")) {
            if (l.get("name").asText().equals(worst)) {
                promoted = l.at("/per_layer/cos").asDouble();
            }
        }
        assertTrue(promoted > worstCos, "per_layer cos of " + worst + ": int8 " + worstCos + ", int16 " + promoted);
    }

    @Test
    void hybridNamingAMissingLayerListsTheClosestNames() throws Exception {
        Path model = SharedData.require("models/espcn_x3.onnx");
        Path hybrid = Files.writeString(tmp.resolve("h.yaml"), "layers:\n  /body/body.2/Conv_outptu_0: int16\n");
        CliRun r = CliRun.of(
                "quantize",
                model.toString(),
                "--calib",
                calibSubset(2).toString(),
                "--hybrid",
                hybrid.toString(),
                "-o",
                tmp.resolve("x.onnx").toString());
        assertEquals(ExitCodes.BAD_INPUT, r.exit(), r.err());
        assertTrue(r.oneLineError(), r.err());
        assertTrue(
                r.err().contains("/body/body.2/Conv_outptu_0") && r.err().contains("/body/body.2/Conv_output_0"),
                r.err());
    }

    @Test
    void calibrationImagesOfAnotherSizeAreResizedWithANote() throws Exception {
        Path model = SharedData.require("models/espcn_x3.onnx");
        Path dir = Files.createDirectories(tmp.resolve("odd"));
        BufferedImage img = new BufferedImage(50, 40, BufferedImage.TYPE_INT_RGB);
        ImageIO.write(img, "png", dir.resolve("a.png").toFile());
        ImageIO.write(img, "png", dir.resolve("b.png").toFile());
        CliRun r = CliRun.of(
                "quantize",
                model.toString(),
                "--calib",
                dir.toString(),
                "-o",
                tmp.resolve("e.onnx").toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("note: 2 of 2 calibration images are not 96x96"), r.out());
    }

    @Test
    void emptyCalibrationFolderIsAOneLineError() throws Exception {
        Path model = SharedData.require("models/espcn_x3.onnx");
        CliRun r = CliRun.of(
                "quantize",
                model.toString(),
                "--calib",
                Files.createDirectories(tmp.resolve("e")).toString());
        assertEquals(ExitCodes.BAD_INPUT, r.exit());
        assertTrue(r.oneLineError() && r.err().contains("has no images"), r.err());
    }

    @Test
    void qdqWithATypeTheSimulatorLacksIsAOneLineError() throws Exception {
        Path model = SharedData.require("models/espcn_x3.onnx");
        Path qdq = tmp.resolve("e.qdq.onnx");
        assertEquals(
                0,
                CliRun.of(
                                "quantize",
                                model.toString(),
                                "--calib",
                                calibSubset(2).toString(),
                                "-o",
                                qdq.toString())
                        .exit());
        ModelProto m = ModelProto.parseFrom(Files.readAllBytes(qdq));
        var g = m.getGraph().toBuilder();
        for (int i = 0; i < g.getInitializerCount(); i++) {
            TensorProto t = g.getInitializer(i);
            if (t.getName().endsWith("_zero_point") && t.getDataType() == TensorProto.DataType.INT8_VALUE) {
                // float8 zero points: a quantization type some toolchains write and the simulator does not run
                g.setInitializer(i, t.toBuilder().setDataType(TensorProto.DataType.FLOAT8E4M3FN_VALUE));
                break;
            }
        }
        Path bad = tmp.resolve("bad.qdq.onnx");
        Files.write(bad, m.toBuilder().setGraph(g).build().toByteArray());
        CliRun r = CliRun.of(
                "analyze",
                model.toString(),
                "--input",
                SharedData.require("images/photos/chelsea.png").toString(),
                "--quantized",
                bad.toString(),
                "--report",
                tmp.resolve("rep").toString());
        assertEquals(ExitCodes.UNSUPPORTED, r.exit(), r.err());
        assertTrue(r.oneLineError(), r.err());
        assertTrue(r.err().contains("FLOAT8E4M3FN"), r.err());
    }

    @Test
    void analyzeRunsAGivenQdqFile() throws Exception {
        Path model = SharedData.require("models/espcn_x3.onnx");
        Path qdq = tmp.resolve("g.qdq.onnx");
        assertEquals(
                0,
                CliRun.of(
                                "quantize",
                                model.toString(),
                                "--calib",
                                calibSubset(2).toString(),
                                "--dtype",
                                "int16",
                                "-o",
                                qdq.toString())
                        .exit());
        CliRun r = CliRun.of(
                "analyze",
                model.toString(),
                "--input",
                SharedData.require("images/photos/chelsea.png").toString(),
                "--quantized",
                qdq.toString(),
                "--report",
                tmp.resolve("rep").toString());
        assertEquals(0, r.exit(), r.err());
        JsonNode rep =
                new ObjectMapper().readTree(tmp.resolve("rep/report.json").toFile());
        JsonNode last = rep.get("layers").get(rep.get("layers").size() - 1);
        assertTrue(last.at("/entire/cos").asDouble() > 0.9999, "int16 model from the file: " + last.get("entire"));
    }

    /**
     * ppocr_cls is a Paddle2ONNX export at opset 9: the file is raised to opset 11 (QuantizeLinear
     * exists from 10, ONNX Runtime's optimizer needs 11) and every Conv's weights are per channel,
     * in com.microsoft DequantizeLinear (ONNX's takes an axis from opset 13); the output says so.
     */
    @Test
    void anOpset9ModelGetsPerChannelWeightsAndSaysHow() throws Exception {
        Path model = SharedData.require("models/ppocr_cls.onnx");
        Path text = SharedData.require("images/text");
        Path out = tmp.resolve("cls.qdq.onnx");
        CliRun r = CliRun.of(
                "quantize",
                model.toString(),
                "--calib",
                text.toString(),
                "--mean",
                "0.5",
                "--std",
                "0.5",
                "--rgb2bgr",
                "--size",
                "192x48",
                "-o",
                out.toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("int8 per-channel, minmax"), r.out());
        assertTrue(r.out().contains("note: opset 9 raised to 11"), r.out());
        assertTrue(r.out().contains("per-channel weights in com.microsoft DequantizeLinear"), r.out());
        ModelProto m = ModelProto.parseFrom(Files.readAllBytes(out));
        java.util.Set<String> weights = new java.util.HashSet<>();
        for (NodeProto n : m.getGraph().getNodeList()) {
            if (n.getOpType().equals("Conv")) {
                weights.add(n.getInput(1));
            }
        }
        int perChannel = 0;
        for (NodeProto n : m.getGraph().getNodeList()) {
            if (n.getOpType().equals("DequantizeLinear") && weights.contains(n.getOutput(0))) {
                assertEquals("com.microsoft", n.getDomain(), n.getName());
                assertEquals("axis", n.getAttribute(0).getName(), n.getName());
                perChannel++;
            }
        }
        assertEquals(53, perChannel, "every Conv of ppocr_cls");

        CliRun pt = CliRun.of(
                "quantize",
                model.toString(),
                "--calib",
                text.toString(),
                "--mean",
                "0.5",
                "--std",
                "0.5",
                "--rgb2bgr",
                "--size",
                "192x48",
                "--per-tensor",
                "-o",
                tmp.resolve("pt.qdq.onnx").toString());
        assertEquals(0, pt.exit(), pt.err());
        assertTrue(pt.out().contains("int8 per-tensor") && !pt.out().contains("com.microsoft"), pt.out());
    }

    @Test
    void aModelWithAnOpTheSimulatorLacksIsRefusedInOneLine() throws Exception {
        // gru_kws with its first GRU replaced by Det, an op the simulator has no kernel for.
        ModelProto gru = OnnxGraphs.readModel(SharedData.require("models/gru_kws.onnx"));
        ModelProto.Builder b = gru.toBuilder();
        for (NodeProto.Builder n : b.getGraphBuilder().getNodeBuilderList()) {
            if (n.getOpType().equals("GRU")) {
                n.setOpType("Det").clearAttribute();
                break;
            }
        }
        Path model = tmp.resolve("det.onnx");
        Files.write(model, b.build().toByteArray());
        Path out = tmp.resolve("det.qdq.onnx");
        CliRun r = CliRun.of(
                "quantize",
                model.toString(),
                "--calib",
                SharedData.require("images/mfcc").toString(),
                "-o",
                out.toString());
        assertEquals(ExitCodes.UNSUPPORTED, r.exit(), r.err());
        assertTrue(r.oneLineError(), r.err());
        assertTrue(r.err().contains("Det"), r.err());
        assertTrue(Files.notExists(out), "nothing written");
    }

    @Test
    void aRecurrentModelQuantizesWithItsRecurrentLayersOnTheCpu() throws Exception {
        Path out = tmp.resolve("gru.qdq.onnx");
        CliRun r = CliRun.of(
                "quantize",
                SharedData.require("models/gru_kws.onnx").toString(),
                "--calib",
                SharedData.require("images/mfcc").toString(),
                "-o",
                out.toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(Files.exists(out), "QDQ file written");
    }
}
