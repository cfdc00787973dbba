package dev.layerprobe.host.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.dump.npy.Npy;
import dev.layerprobe.host.SharedData;
import dev.layerprobe.simulator.graph.Attribute;
import dev.layerprobe.simulator.graph.Graph;
import dev.layerprobe.simulator.graph.Node;
import dev.layerprobe.simulator.graph.ValueInfo;
import dev.layerprobe.simulator.onnx.OnnxGraphs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Recurrent models quantized int8 on the default emulated NPU ({@code requant: fixed}): {@code plan}
 * places gru_kws's two GRU layers on the NPU, and {@code analyze} (no faults) finds the device
 * bit-exact with the host simulator on every layer of gru_kws and of a bidirectional LSTM model
 * built here, with each output's {@code entire} cos against ONNX Runtime's float run printed and
 * held above a floor.
 */
class RecurrentOnNpuTest {
    @TempDir
    Path tmp;

    @Test
    void gruKeywordSpotterRunsItsGruLayersOnTheNpuBitExactly() throws Exception {
        Path model = SharedData.require("models/gru_kws.onnx");
        Path mfcc = SharedData.require("images/mfcc");
        Path qdq = tmp.resolve("gru.qdq.onnx");
        CliRun quantize = CliRun.of("quantize", model.toString(), "--calib", mfcc.toString(), "-o", qdq.toString());
        assertEquals(0, quantize.exit(), quantize.err());
        CliRun plan = CliRun.of("plan", qdq.toString());
        assertEquals(0, plan.exit(), plan.err());
        List<String> gru = plan.out()
                .lines()
                .map(String::trim)
                .filter(l -> l.matches("\\d+\\s+\\S+\\s+GRU\\s.*"))
                .toList();
        assertEquals(2, gru.size(), plan.out());
        assertTrue(gru.stream().allMatch(l -> l.split("\\s+", -1)[4].equals("npu")), plan.out());

        JsonNode r = analyze(model, qdq, mfcc, mfcc);
        double cos = lastCos(r, "GRU", 2);
        System.out.printf("gru_kws int8, GRU on the NPU: logits entire cos %.6f over 16 inputs%n", cos);
        assertTrue(cos > 0.9995, "entire cos " + cos);
    }

    @Test
    void aBidirectionalLstmModelRunsOnTheNpuBitExactly() throws Exception {
        Path model = tmp.resolve("lstm.onnx");
        Files.write(model, OnnxGraphs.toModel(lstmModel(), "test", Map.of()).toByteArray());
        Path inputs = Files.createDirectories(tmp.resolve("seq"));
        Random r = new Random(5);
        for (int i = 0; i < 8; i++) {
            float[] v = new float[SEQ * INPUT];
            for (int k = 0; k < v.length; k++) {
                v[k] = (float) r.nextGaussian();
            }
            Npy.write(inputs.resolve(String.format("x_%02d.npy", i)), new int[] {SEQ, 1, INPUT}, v);
        }
        JsonNode report = analyze(model, null, inputs, inputs);
        double cos = lastCos(report, "LSTM", 1);
        System.out.printf("bidirectional LSTM int8 on the NPU: output entire cos %.6f over 8 inputs%n", cos);
        assertTrue(cos > 0.999, "entire cos " + cos);
    }

    private static final int SEQ = 20;
    private static final int INPUT = 16;
    private static final int HIDDEN = 24;

    /**
     * X [20, 1, 16] -> LSTM (bidirectional, hidden 24, peepholes) -> Y [20, 2, 1, 24] -> Reshape
     * [20, 48] -> Gemm (48 -> 10), seeded weights.
     */
    private static Graph lstmModel() {
        Random r = new Random(9);
        Map<String, Tensor> k = new LinkedHashMap<>();
        k.put("W", random(r, 1 / Math.sqrt(INPUT), 2, 4 * HIDDEN, INPUT));
        k.put("R", random(r, 0.8 / Math.sqrt(HIDDEN), 2, 4 * HIDDEN, HIDDEN));
        k.put("B", random(r, 0.3, 2, 8 * HIDDEN));
        k.put("P", random(r, 0.3, 2, 3 * HIDDEN));
        k.put("shape", Tensor.ofLongs(DType.INT64, new int[] {2}, new long[] {SEQ, 2 * HIDDEN}));
        k.put("fcW", random(r, 1 / Math.sqrt(2 * HIDDEN), 2 * HIDDEN, 10));
        k.put("fcB", random(r, 0.1, 10));
        Map<String, Attribute> a = new HashMap<>();
        a.put("direction", Attribute.ofString("bidirectional"));
        a.put("hidden_size", Attribute.ofInt(HIDDEN));
        List<Node> nodes = new ArrayList<>(List.of(
                new Node("lstm", "LSTM", "", List.of("x", "W", "R", "B", "", "", "", "P"), List.of("y", "y_h"), a),
                new Node("flat", "Reshape", "", List.of("y", "shape"), List.of("flat"), Map.of()),
                new Node("fc", "Gemm", "", List.of("flat", "fcW", "fcB"), List.of("out"), Map.of())));
        return new Graph(
                "lstm",
                nodes,
                k,
                new ArrayList<>(List.of(new ValueInfo("x", DType.FLOAT32, new int[] {SEQ, 1, INPUT}))),
                new ArrayList<>(List.of("out")),
                Map.of("", 14));
    }

    private static Tensor random(Random r, double sigma, int... shape) {
        int n = 1;
        for (int d : shape) {
            n *= d;
        }
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (sigma * r.nextGaussian());
        }
        return Tensor.ofFloats(shape, v);
    }

    /** {@code analyze} on the default profile (of a QDQ file when given); report.json. */
    private JsonNode analyze(Path model, Path qdq, Path inputs, Path calib) throws Exception {
        Path report = tmp.resolve("report-" + model.getFileName());
        List<String> a = new ArrayList<>(List.of("analyze", model.toString(), "--input", inputs.toString()));
        if (qdq != null) {
            a.addAll(List.of("--quantized", qdq.toString()));
        } else {
            a.addAll(List.of("--calib", calib.toString()));
        }
        a.addAll(List.of("--report", report.toString()));
        CliRun analyze = CliRun.of(a.toArray(String[]::new));
        assertEquals(0, analyze.exit(), analyze.err());
        return new ObjectMapper().readTree(report.resolve("report.json").toFile());
    }

    /**
     * Checks that the report's {@code count} layers of {@code op} ran on the NPU and that every layer
     * is bit-exact between device and simulator; the last layer's entire cos.
     */
    private static double lastCos(JsonNode r, String op, int count) {
        List<String> notExact = new ArrayList<>();
        int onNpu = 0;
        JsonNode last = null;
        for (JsonNode l : r.get("layers")) {
            if (l.at("/simu_err/bit_exact").asDouble(0) != 1.0) {
                notExact.add(l.get("name").asText());
            }
            if (l.get("op").asText().equals(op) && l.get("placement").asText().equals("npu")) {
                onNpu++;
            }
            last = l;
        }
        assertEquals(count, onNpu, op + " layers on the NPU: " + r.get("layers"));
        assertTrue(notExact.isEmpty(), "simu_err not bit-exact at " + notExact);
        return last.at("/entire/cos").asDouble();
    }
}
