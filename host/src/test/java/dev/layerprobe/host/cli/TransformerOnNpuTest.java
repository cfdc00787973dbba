package dev.layerprobe.host.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.layerprobe.host.SharedData;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * tiny_transformer quantized int8 on the default emulated NPU ({@code requant: fixed}): {@code plan}
 * places every MatMul, Softmax, LayerNormalization and Gelu layer on the NPU, and {@code analyze}
 * (no faults) finds the device bit-exact with the host simulator on every layer, with the
 * output's {@code entire} cos against ONNX Runtime's float run printed and held above a floor.
 */
class TransformerOnNpuTest {
    private static final Set<String> TRANSFORMER_OPS = Set.of("MatMul", "Softmax", "LayerNormalization", "Gelu");

    @TempDir
    Path tmp;

    @Test
    void tinyTransformerRunsItsAttentionAndNormalizationOnTheNpuBitExactly() throws Exception {
        Path model = SharedData.require("models/tiny_transformer.onnx");
        Path calib = SharedData.require("images/calib224");
        Path photo = SharedData.require("images/photos/astronaut.png");
        String[] norm = {"--mean", "0.485,0.456,0.406", "--std", "0.229,0.224,0.225"};
        Path qdq = tmp.resolve("tt.qdq.onnx");
        List<String> q = new ArrayList<>(
                List.of("quantize", model.toString(), "--calib", calib.toString(), "-o", qdq.toString()));
        q.addAll(List.of(norm));
        CliRun quantize = CliRun.of(q.toArray(String[]::new));
        assertEquals(0, quantize.exit(), quantize.err());

        CliRun plan = CliRun.of("plan", qdq.toString());
        assertEquals(0, plan.exit(), plan.err());
        int transformerLayers = 0;
        List<String> onCpu = new ArrayList<>();
        for (String line : plan.out().lines().toList()) {
            String[] f = line.trim().split("\\s+", -1);
            if (f.length > 4 && f[0].matches("\\d+") && TRANSFORMER_OPS.contains(f[2])) {
                transformerLayers++;
                if (!f[4].equals("npu")) {
                    onCpu.add(f[1] + " " + f[2]);
                }
            }
        }
        assertEquals(19, transformerLayers, "10 MatMul, 2 Softmax, 5 LayerNormalization, 2 Gelu:\n" + plan.out());
        assertTrue(onCpu.isEmpty(), "on the CPU: " + onCpu);

        Path report = tmp.resolve("report");
        List<String> a = new ArrayList<>(List.of(
                "analyze",
                model.toString(),
                "--quantized",
                qdq.toString(),
                "--input",
                photo.toString(),
                "--report",
                report.toString()));
        a.addAll(List.of(norm));
        CliRun analyze = CliRun.of(a.toArray(String[]::new));
        assertEquals(0, analyze.exit(), analyze.err());
        JsonNode r = new ObjectMapper().readTree(report.resolve("report.json").toFile());
        List<String> notExact = new ArrayList<>();
        JsonNode last = null;
        for (JsonNode l : r.get("layers")) {
            if (l.at("/simu_err/bit_exact").asDouble(0) != 1.0) {
                notExact.add(l.get("name").asText());
            }
            last = l;
        }
        assertTrue(notExact.isEmpty(), "simu_err not bit-exact at " + notExact);
        double cos = last.at("/entire/cos").asDouble();
        System.out.printf("tiny_transformer int8 on the NPU: output %s entire cos %.6f%n", last.get("name"), cos);
        assertTrue(cos > 0.98, "entire cos " + cos);
    }
}
