package dev.layerprobe.host.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.dump.npy.Npy;
import dev.layerprobe.simulator.graph.Attribute;
import dev.layerprobe.simulator.graph.Graph;
import dev.layerprobe.simulator.graph.Node;
import dev.layerprobe.simulator.graph.ValueInfo;
import dev.layerprobe.simulator.onnx.OnnxGraphs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code analyze --smooth-quant}: the smoothed LayerNorm output holds {@code x / s} in the device's
 * model; golden's value is divided the same way, so the layer compares as what it is, not as a
 * different tensor of the same name.
 */
class SmoothQuantAnalyzeTest {
    private static final int TOKENS = 16;
    private static final int K = 32;
    private static final int N = 24;

    @TempDir
    Path tmp;

    private Path model() throws Exception {
        Random r = new Random(11);
        float[] gamma = new float[K];
        float[] beta = new float[K];
        for (int j = 0; j < K; j++) {
            gamma[j] = j % 11 == 3 ? 40f : 0.5f + r.nextFloat();
            beta[j] = (r.nextFloat() - 0.5f) * 0.2f;
        }
        float[] w = new float[K * N];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) r.nextGaussian() * 0.2f;
        }
        Map<String, Tensor> constants = new LinkedHashMap<>();
        constants.put("gamma", Tensor.ofFloats(new int[] {K}, gamma));
        constants.put("beta", Tensor.ofFloats(new int[] {K}, beta));
        constants.put("w", Tensor.ofFloats(new int[] {K, N}, w));
        Graph g = new Graph(
                "sq",
                List.of(
                        new Node("ln", "LayerNormalization", "", List.of("x", "gamma", "beta"), List.of("n"), Map.of()),
                        new Node(
                                "t",
                                "Transpose",
                                "",
                                List.of("n"),
                                List.of("nt"),
                                Map.of("perm", Attribute.ofInts(1, 0, 2))),
                        new Node("mm", "MatMul", "", List.of("nt", "w"), List.of("y"), Map.of())),
                constants,
                List.of(new ValueInfo("x", DType.FLOAT32, new int[] {1, TOKENS, K})),
                List.of("y"),
                Map.of("", 17));
        Path p = tmp.resolve("sq.onnx");
        Files.write(p, OnnxGraphs.toModel(g, "test", Map.of()).toByteArray());
        return p;
    }

    private Path inputs() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("calib"));
        Random r = new Random(5);
        for (int s = 0; s < 4; s++) {
            float[] x = new float[TOKENS * K];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) r.nextGaussian();
            }
            Npy.write(dir.resolve("x" + s + ".npy"), new int[] {1, TOKENS, K}, x);
        }
        return dir;
    }

    @Test
    void smoothedLayersCompareInTheSmoothedSpace() throws Exception {
        Path calib = inputs();
        Path report = tmp.resolve("report");
        CliRun r = CliRun.of(
                "analyze",
                model().toString(),
                "--input",
                calib.resolve("x0.npy").toString(),
                "--calib",
                calib.toString(),
                "--smooth-quant",
                "0.5",
                "--report",
                report.toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("smooth-quant: alpha 0.5 at 1 activations (1 weights)"), r.out());
        JsonNode json =
                new ObjectMapper().readTree(report.resolve("report.json").toFile());
        for (JsonNode l : json.get("layers")) {
            double cos = l.at("/entire/cos").asDouble();
            assertTrue(cos > 0.999, l.get("name") + " entire cos " + cos);
        }
    }
}
