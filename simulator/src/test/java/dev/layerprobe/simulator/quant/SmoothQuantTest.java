package dev.layerprobe.simulator.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.onnx.Onnx.ModelProto;
import dev.layerprobe.simulator.CompileOptions;
import dev.layerprobe.simulator.LayerObserver;
import dev.layerprobe.simulator.NpuProgram;
import dev.layerprobe.simulator.Simulator;
import dev.layerprobe.simulator.graph.Attribute;
import dev.layerprobe.simulator.graph.Graph;
import dev.layerprobe.simulator.graph.Node;
import dev.layerprobe.simulator.graph.ValueInfo;
import dev.layerprobe.simulator.onnx.OnnxGraphs;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * SmoothQuant keeps the float function, divides the outlier channels of a LayerNorm output, and so
 * lowers the int8 error of a MatMul reading an activation whose channels differ widely in range.
 */
class SmoothQuantTest {
    private static final int TOKENS = 16;
    private static final int K = 32;
    private static final int N = 24;

    /** x -> LayerNormalization (gamma with a few huge channels) -> Transpose(1,0,2) -> MatMul(W) -> y. */
    private static Graph attentionInput(boolean alsoResidual) {
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
        List<Node> nodes = new ArrayList<>();
        nodes.add(new Node("ln", "LayerNormalization", "", List.of("x", "gamma", "beta"), List.of("n"), Map.of()));
        nodes.add(
                new Node("t", "Transpose", "", List.of("n"), List.of("nt"), Map.of("perm", Attribute.ofInts(1, 0, 2))));
        nodes.add(new Node("mm", "MatMul", "", List.of("nt", "w"), List.of("y"), Map.of()));
        List<String> outputs = new ArrayList<>(List.of("y"));
        if (alsoResidual) {
            nodes.add(new Node("res", "Add", "", List.of("n", "x"), List.of("z"), Map.of()));
            outputs.add("z");
        }
        return new Graph(
                "sq",
                nodes,
                constants,
                List.of(new ValueInfo("x", DType.FLOAT32, new int[] {1, TOKENS, K})),
                outputs,
                Map.of("", 17));
    }

    private static List<Map<String, Tensor>> samples(int n) {
        Random r = new Random(5);
        List<Map<String, Tensor>> out = new ArrayList<>();
        for (int s = 0; s < n; s++) {
            float[] x = new float[TOKENS * K];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) r.nextGaussian();
            }
            out.add(Map.of("x", Tensor.ofFloats(new int[] {1, TOKENS, K}, x)));
        }
        return out;
    }

    private static NpuProgram compile(ModelProto m) throws Exception {
        return Simulator.compile(m, "sq", CompileOptions.DEFAULT);
    }

    private static float[] output(NpuProgram p, Map<String, Tensor> feed) throws Exception {
        Map<String, LayerValue> out = p.run(feed, LayerObserver.NONE);
        return out.get("y").real().toFloat().floats();
    }

    private static double relErr(float[] ref, float[] v) {
        double num = 0;
        double den = 0;
        for (int i = 0; i < ref.length; i++) {
            num += (ref[i] - v[i]) * (double) (ref[i] - v[i]);
            den += ref[i] * (double) ref[i];
        }
        return Math.sqrt(num / den);
    }

    @Test
    void keepsTheFloatFunctionAndFoldsTheDivisionIntoTheNorm() throws Exception {
        NpuProgram plain = compile(OnnxGraphs.toModel(attentionInput(false), "test", Map.of()));
        List<Map<String, Tensor>> samples = samples(4);
        SmoothQuant.Result r = SmoothQuant.apply(plain, "sq", samples, 0.5, n -> {});
        assertTrue(r.changed());
        assertEquals(1, r.activations());
        assertEquals(1, r.weights());
        assertTrue(r.largestFactor() > 2, "the outlier channels are divided: " + r.largestFactor());
        assertEquals(List.of("n", "nt"), List.copyOf(r.divisors().keySet()), "the norm output and the transpose");
        for (Map<String, Tensor> s : samples) {
            assertTrue(relErr(output(plain, s), output(r.program(), s)) < 1e-5, "same function in float");
        }
    }

    @Test
    void lowersTheInt8ErrorOfTheMatMulReadingOutlierChannels() throws Exception {
        NpuProgram plain = compile(OnnxGraphs.toModel(attentionInput(false), "test", Map.of()));
        List<Map<String, Tensor>> samples = samples(8);
        SmoothQuant.Result r = SmoothQuant.apply(plain, "sq", samples, 0.5, n -> {});
        double before = int8Error(plain, samples);
        double after = int8Error(r.program(), samples);
        assertTrue(after < before * 0.8, "int8 relative error " + before + " -> " + after);
    }

    private static double int8Error(NpuProgram floatProgram, List<Map<String, Tensor>> samples) throws Exception {
        Calibration c = Calibration.collect(floatProgram, samples, n -> {});
        NpuProgram q = compile(QdqWriter.write(floatProgram, c, QuantConfig.INT8));
        double sum = 0;
        for (Map<String, Tensor> s : samples) {
            sum += relErr(output(floatProgram, s), output(q, s));
        }
        return sum / samples.size();
    }

    @Test
    void leavesAnActivationAloneWhenAnotherOpReadsIt() throws Exception {
        NpuProgram plain = compile(OnnxGraphs.toModel(attentionInput(true), "test", Map.of()));
        SmoothQuant.Result r = SmoothQuant.apply(plain, "sq", samples(2), 0.5, n -> {});
        assertFalse(r.changed(), "the residual Add reads the norm output unscaled");
        assertSame(plain, r.program());
        assertTrue(SmoothQuant.eligible(plain.graph()).isEmpty());
    }

    @Test
    void aWeightSharedWithAnotherMatMulIsCopiedNotScaledUnderIt() throws Exception {
        // The exporter deduplicated W: the smoothed MatMul reads the norm, another reads x directly.
        Graph base = attentionInput(false);
        List<Node> nodes = new ArrayList<>(base.nodes());
        nodes.add(new Node("mm2", "MatMul", "", List.of("x", "w"), List.of("z"), Map.of()));
        Graph g = new Graph("sq", nodes, base.constants(), base.inputs(), List.of("y", "z"), Map.of("", 17));
        NpuProgram plain = compile(OnnxGraphs.toModel(g, "test", Map.of()));
        List<Map<String, Tensor>> samples = samples(3);
        SmoothQuant.Result r = SmoothQuant.apply(plain, "sq", samples, 0.5, n -> {});
        assertTrue(r.changed());
        for (Map<String, Tensor> s : samples) {
            Map<String, LayerValue> a = plain.run(s, LayerObserver.NONE);
            Map<String, LayerValue> b = r.program().run(s, LayerObserver.NONE);
            for (String out : List.of("y", "z")) {
                float[] ref = a.get(out).real().toFloat().floats();
                float[] got = b.get(out).real().toFloat().floats();
                assertTrue(relErr(ref, got) < 1e-5, out + " keeps its float function");
            }
        }
    }

    @Test
    void refusesAnAlphaOutsideTheUnitInterval() throws Exception {
        NpuProgram plain = compile(OnnxGraphs.toModel(attentionInput(false), "test", Map.of()));
        assertThrows(IllegalArgumentException.class, () -> SmoothQuant.apply(plain, "sq", samples(1), 1.5, n -> {}));
    }
}
