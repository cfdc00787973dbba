package dev.layerprobe.host.golden;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.host.compare.Metrics;
import dev.layerprobe.host.golden.PyTorchExports.InitialStates;
import dev.layerprobe.onnx.Onnx.ModelProto;
import dev.layerprobe.simulator.CompileOptions;
import dev.layerprobe.simulator.Layer;
import dev.layerprobe.simulator.NpuProgram;
import dev.layerprobe.simulator.Simulator;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The float simulator against ONNX Runtime, layer by layer, on models as PyTorch exports them
 * ({@link PyTorchExports}): every layer golden has a value for keeps cos ≥ 0.99999. Layers inside an
 * If branch have no golden value (ONNX Runtime cannot expose one); they are checked through the If's
 * output, and the run must report exactly the branch taken.
 */
class PyTorchExportsVsOrtTest {
    private static final double MIN_COS = 0.99999;

    @Test
    void lstmClassifierInEveryExportedForm() throws Exception {
        for (InitialStates states : InitialStates.values()) {
            boolean slice = states == InitialStates.EXPAND;
            ModelProto m = PyTorchExports.lstmClassifier(states, slice, slice);
            NpuProgram p = compare(m, "lstm " + states, "input", new int[] {1, 24, 16}, 1f, 4);
            assertEquals(1, count(p, "LSTM"), "one LSTM layer");
            // The zero states fold away: the LSTM reads the input's transpose alone.
            Layer lstm = p.layers().stream()
                    .filter(l -> l.op().equals("LSTM"))
                    .findFirst()
                    .orElseThrow();
            assertEquals(List.of("/lstm/Transpose_output_0"), lstm.inputs(), states.toString());
        }
    }

    @Test
    void transformerEncoderWithSpeltLayerNormAndErfGelu() throws Exception {
        ModelProto m = PyTorchExports.transformerEncoder();
        NpuProgram p = compare(m, "encoder", "src", new int[] {1, 16, 24}, 1f, 3);
        assertEquals(4, count(p, "LayerNormalization"), "each spelt-out LayerNorm one layer");
        assertEquals(2, count(p, "Gelu"), "each erf GELU one layer");
        assertEquals(2, count(p, "Softmax"));
        assertEquals(1, count(p, "ReduceMean"), "only the pooling mean is left: " + ops(p));
        for (String spelt : List.of("Pow", "Sqrt", "Erf", "Shape", "Concat")) {
            assertEquals(0, count(p, spelt), spelt + " folded or fused: " + ops(p));
        }
        Layer norm = p.layer("/encoder/layers.0/norm1/Add_1_output_0").orElseThrow();
        assertEquals("LayerNormalization", norm.op());
        assertEquals(9, norm.fusedNodes().size(), norm.fusedNodes().toString());
    }

    @Test
    void ifWithConvAndLstmBranchesReadingOuterValues() throws Exception {
        ModelProto m = PyTorchExports.gatedBranches();
        for (float sign : new float[] {1f, -1f}) {
            NpuProgram p = compare(m, "gated", "input", PyTorchExports.imageShape(), sign, 2);
            assertTrue(p.branchOwner("/branch_a/Add_output_0").isPresent(), "then branch layers are layers");
            assertTrue(p.branchOwner("/branch_b/Mul_output_0").isPresent(), "else branch layers are layers");
        }
    }

    /**
     * Runs {@code inputs} seeded inputs through ONNX Runtime and the float simulator, comparing every
     * layer golden holds; the branch layers reported must be those of the branch taken.
     */
    private static NpuProgram compare(ModelProto m, String what, String input, int[] shape, float sign, int inputs)
            throws Exception {
        NpuProgram sim = Simulator.compile(m, what, CompileOptions.DEFAULT);
        List<String> worse = new ArrayList<>();
        double[] min = {1};
        int[] compared = {0};
        Set<String> branches = new LinkedHashSet<>();
        try (GoldenRunner golden = GoldenRunner.of(m, what)) {
            for (int i = 0; i < inputs; i++) {
                Map<String, Tensor> feeds = Map.of(input, PyTorchExports.input(shape, 17 + i, sign));
                Map<String, Tensor> g = golden.run(feeds);
                int sample = i;
                compared[0] = 0;
                sim.run(feeds, (layer, v) -> {
                    Tensor ref = g.get(layer.name());
                    if (ref == null) {
                        // Golden keeps float values only (not the If's condition), and none inside a branch.
                        boolean branch = sim.branchOwner(layer.name()).isPresent();
                        assertTrue(branch || !v.real().isFloating(), "no golden value for " + layer.name());
                        if (!branch) {
                            return;
                        }
                        branches.add(layer.name().substring(1, layer.name().indexOf('/', 1)));
                        return;
                    }
                    double cos = Metrics.compare(ref, v.real()).cos();
                    min[0] = Math.min(min[0], cos);
                    compared[0]++;
                    if (cos < MIN_COS) {
                        worse.add("input " + sample + " " + layer.name() + " cos " + cos);
                    }
                });
            }
        }
        System.out.printf(
                "%s (sign %+.0f): %d layers, %d compared with ONNX Runtime, lowest cos %.8f; branch layers run: %s%n",
                what, sign, sim.layers().size(), compared[0], min[0], branches);
        assertTrue(worse.isEmpty(), what + ": layers below cos " + MIN_COS + ": " + worse);
        assertTrue(compared[0] >= 4, what + ": compared " + compared[0] + " layers");
        if (!branches.isEmpty()) {
            assertEquals(Set.of(sign > 0 ? "branch_a" : "branch_b"), branches, "the branch taken alone");
        }
        return sim;
    }

    private static long count(NpuProgram p, String op) {
        return p.layers().stream().filter(l -> l.op().equals(op)).count();
    }

    private static List<String> ops(NpuProgram p) {
        return p.layers().stream().map(Layer::opLabel).toList();
    }
}
