package dev.layerprobe.host.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.dump.npy.Npy;
import dev.layerprobe.host.compare.Metrics;
import dev.layerprobe.host.golden.GoldenRunner;
import dev.layerprobe.host.golden.PyTorchExports;
import dev.layerprobe.host.golden.PyTorchExports.InitialStates;
import dev.layerprobe.onnx.Onnx.ModelProto;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Models as PyTorch exports them ({@link PyTorchExports}) quantized int8 and analyzed end to end, as
 * a user runs them: {@code quantize} writes a QDQ file that ONNX Runtime loads and runs (its output
 * compared with the float model's), {@code plan} shows where each layer runs, and {@code analyze}
 * (default emulated NPU, no faults) finds the device bit-exact with the simulator on every layer it
 * ran, with the output's {@code entire} cos against ONNX Runtime's float run printed and held above
 * a floor measured for each model. Assertions hold whether recurrent layers run on the NPU or the
 * CPU.
 */
class PyTorchExportsAnalyzeTest {
    private static final Set<String> TRANSFORMER_OPS = Set.of("MatMul", "Softmax", "LayerNormalization", "Gelu");

    @TempDir
    Path tmp;

    @Test
    void lstmClassifier() throws Exception {
        Case c = new Case("lstm", PyTorchExports.lstmClassifier(InitialStates.CONSTANT_OF_SHAPE, false, false));
        c.inputs(new int[] {1, PyTorchExports.LSTM_STEPS, PyTorchExports.LSTM_FEATURES}, 1f, 1f);
        c.quantize(0.999);
        List<String[]> plan = c.plan();
        assertTrue(plan.stream().anyMatch(r -> r[2].equals("LSTM")), "one LSTM layer");
        assertTrue(
                plan.stream().filter(r -> r[2].startsWith("Gemm")).allMatch(r -> r[4].equals("npu")),
                "the Linear head on the NPU");
        c.analyze(0.999);
    }

    @Test
    void transformerEncoder() throws Exception {
        Case c = new Case("encoder", PyTorchExports.transformerEncoder());
        c.inputs(new int[] {1, PyTorchExports.TOKENS, PyTorchExports.TOKEN_FEATURES}, 1f, 1f);
        c.quantize(0.99);
        List<String[]> plan = c.plan();
        Map<String, Integer> counts = new LinkedHashMap<>();
        List<String> onCpu = new ArrayList<>();
        for (String[] r : plan) {
            counts.merge(r[2], 1, Integer::sum);
            if (TRANSFORMER_OPS.contains(r[2]) && !r[4].equals("npu")) {
                onCpu.add(r[1] + " " + r[2]);
            }
        }
        assertEquals(4, counts.get("LayerNormalization"), "each spelt-out LayerNorm one layer: " + counts);
        assertEquals(2, counts.get("Gelu"), counts.toString());
        assertEquals(2, counts.get("Softmax"), counts.toString());
        assertEquals(1, counts.get("ReduceMean"), "only the pooling mean: " + counts);
        assertTrue(counts.get("MatMul") >= 4 * 2 + 2 * 2, counts.toString());
        assertTrue(onCpu.isEmpty(), "on the CPU: " + onCpu);
        c.analyze(0.99);
    }

    /**
     * The If decided on the CPU, its branches' layers under their ONNX names: Conv layers on the NPU
     * in both branches, every branch layer compared with the device (the inputs take both branches)
     * and dumped for the input that takes its branch.
     */
    @Test
    void ifWithConvAndLstmBranches() throws Exception {
        Case c = new Case("gated", PyTorchExports.gatedBranches());
        c.inputs(PyTorchExports.imageShape(), 1f, -1f);
        c.quantize(0.999);
        Map<String, String[]> plan = new LinkedHashMap<>();
        for (String[] r : c.plan()) {
            plan.put(r[1], r);
        }
        assertEquals("cpu", plan.get("/If_output_0")[4], "the If is decided on the CPU");
        for (String conv : List.of("/branch_a/Relu_output_0", "/branch_b/conv/Conv_output_0")) {
            String[] r = plan.get(conv);
            assertTrue(r != null && r[2].startsWith("Conv") && r[4].equals("npu"), conv + ": " + plan.keySet());
        }
        assertTrue(
                plan.get("/branch_b/Mul_output_0")[5].endsWith("(in the else_branch of /If)"),
                "plan says where a branch layer is");
        JsonNode report = c.analyze(0.999);
        List<String> branchLayers = new ArrayList<>();
        for (JsonNode l : report.get("layers")) {
            String name = l.get("name").asText();
            if (name.startsWith("/branch_")) {
                branchLayers.add(name);
                assertTrue(l.hasNonNull("simu_err"), name + " compared with the device");
            }
        }
        assertEquals(11, branchLayers.size(), branchLayers.toString());
        JsonNode dumped = new ObjectMapper()
                .readTree(
                        tmp.resolve("gated-report/dumps/runtime/manifest.json").toFile());
        String manifest = dumped.toString();
        assertTrue(
                manifest.contains("/branch_a/Add_output_0") && !manifest.contains("/branch_b/Mul_output_0"),
                "the first input's dump holds the branch it takes");
    }

    /** One model in the temporary folder: its file, calibration set and inputs (seeded .npy files). */
    private final class Case {
        final String name;
        final ModelProto model;
        final Path file;
        final Path qdq;
        final Path calib;
        final Path inputs;
        final List<Tensor> evaluation = new ArrayList<>();

        Case(String name, ModelProto model) throws Exception {
            this.name = name;
            this.model = model;
            this.file = tmp.resolve(name + ".onnx");
            this.qdq = tmp.resolve(name + ".qdq.onnx");
            this.calib = Files.createDirectories(tmp.resolve(name + "-calib"));
            this.inputs = Files.createDirectories(tmp.resolve(name + "-inputs"));
            Files.write(file, model.toByteArray());
        }

        /** Eight calibration samples and two inputs to analyze, of each sign given (half each). */
        void inputs(int[] shape, float... signs) throws Exception {
            for (int i = 0; i < 8; i++) {
                float sign = signs[i % signs.length];
                Npy.write(
                        calib.resolve(String.format("calib_%02d.npy", i)), PyTorchExports.input(shape, 100 + i, sign));
            }
            for (int i = 0; i < 2; i++) {
                Tensor x = PyTorchExports.input(shape, 200 + i, signs[i % signs.length]);
                Npy.write(inputs.resolve(String.format("input_%02d.npy", i)), x);
                evaluation.add(x);
            }
        }

        /** {@code quantize}; ONNX Runtime runs the QDQ file, its output held to {@code floor} cos of float's. */
        void quantize(double floor) throws Exception {
            CliRun q = CliRun.of("quantize", file.toString(), "--calib", calib.toString(), "-o", qdq.toString());
            assertEquals(0, q.exit(), q.out() + q.err());
            String input = model.getGraph().getInput(0).getName();
            try (GoldenRunner fp = GoldenRunner.of(model, name);
                    GoldenRunner ort = GoldenRunner.open(qdq)) {
                for (Tensor x : evaluation) {
                    Map<String, Tensor> feeds = Map.of(input, x);
                    double cos = Metrics.compare(
                                    fp.run(feeds).get("logits"), ort.run(feeds).get("logits"))
                            .cos();
                    System.out.printf("%s: QDQ file in ONNX Runtime, logits cos %.6f against float%n", name, cos);
                    assertTrue(cos >= floor, name + ": ONNX Runtime's int8 logits cos " + cos);
                }
            }
        }

        /**
         * {@code plan} of the QDQ file: its rows as {#, layer, op, shape, place, covers}, read by
         * column (a branch the dry run does not take leaves its layers' shape blank).
         */
        List<String[]> plan() {
            CliRun plan = CliRun.of("plan", qdq.toString());
            assertEquals(0, plan.exit(), plan.err());
            System.out.print(plan.out());
            List<String[]> rows = new ArrayList<>();
            int[] at = {0, 6, 51, 74, 91, 97};
            for (String line : plan.out().lines().toList()) {
                if (line.length() > at[5] && line.substring(0, 4).trim().matches("\\d+")) {
                    String[] f = new String[at.length];
                    for (int i = 0; i < at.length; i++) {
                        f[i] = line.substring(at[i], i + 1 < at.length ? at[i + 1] - 1 : line.length())
                                .trim();
                    }
                    rows.add(f);
                }
            }
            assertTrue(rows.size() > 3, plan.out());
            return rows;
        }

        /** {@code analyze} of the QDQ file: simu_err bit-exact everywhere, the logits above {@code floor}. */
        JsonNode analyze(double floor) throws Exception {
            Path report = tmp.resolve(name + "-report");
            CliRun a = CliRun.of(
                    "analyze",
                    file.toString(),
                    "--quantized",
                    qdq.toString(),
                    "--input",
                    inputs.toString(),
                    "--report",
                    report.toString());
            assertEquals(0, a.exit(), a.out() + a.err());
            System.out.print(a.out());
            JsonNode r =
                    new ObjectMapper().readTree(report.resolve("report.json").toFile());
            List<String> notExact = new ArrayList<>();
            JsonNode logits = null;
            int exact = 0;
            for (JsonNode l : r.get("layers")) {
                JsonNode s = l.get("simu_err");
                if (s != null && !s.isNull()) {
                    // Codes compare by bit_exact; a layer of other values (the If's boolean condition) by equality.
                    boolean same = s.has("bit_exact")
                            ? s.get("bit_exact").asDouble() == 1.0
                            : s.get("max_abs").asDouble(1) == 0.0;
                    if (!same) {
                        notExact.add(l.get("name").asText());
                    }
                    exact++;
                }
                if (l.get("name").asText().equals("logits")) {
                    logits = l;
                }
            }
            assertTrue(notExact.isEmpty(), name + ": simu_err not bit-exact at " + notExact);
            assertTrue(exact > 3, name + ": " + exact + " layers compared with the device");
            double cos = logits.at("/entire/cos").asDouble();
            System.out.printf(
                    "%s int8: logits entire cos %.6f (worst input %.6f), %d layers bit-exact on the device%n",
                    name, cos, logits.at("/entire/cos_worst").asDouble(), exact);
            assertTrue(cos >= floor, name + ": logits entire cos " + cos);
            return r;
        }
    }
}
