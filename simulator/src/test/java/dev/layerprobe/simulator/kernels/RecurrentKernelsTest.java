package dev.layerprobe.simulator.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.core.LayerProbeException.Code;
import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.CompileOptions;
import dev.layerprobe.simulator.Layer;
import dev.layerprobe.simulator.NpuProgram;
import dev.layerprobe.simulator.Simulator;
import dev.layerprobe.simulator.SimulatorException;
import dev.layerprobe.simulator.graph.Attribute;
import dev.layerprobe.simulator.graph.Graph;
import dev.layerprobe.simulator.graph.Node;
import dev.layerprobe.simulator.graph.ValueInfo;
import dev.layerprobe.simulator.onnx.OnnxGraphs;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * LSTM, GRU and RNN on cases small enough to check by hand: hidden size 1 and Affine activations
 * make every step a line of arithmetic (worked out in the comments), with sequence lengths, both
 * directions, initial states and the batch-major layout.
 */
class RecurrentKernelsTest {
    private static Tensor f(int[] shape, float... v) {
        return Tensor.ofFloats(shape, v);
    }

    private static Node node(String op, List<String> outputs, Map<String, Attribute> attrs) {
        return new Node("rec", op, "", List.of("X", "W", "R", "B", "lens", "h0", "c0"), outputs, attrs);
    }

    @Test
    void rnnBidirectionalWithSequenceLengths() {
        // Ht = Xt + 0.5 Ht-1 (Affine 1, 0). Batch 0 runs 3 steps on 1, 2, 4; batch 1 runs 2 on 8, 16.
        // forward:  b0 1, 2.5, 5.25        b1 8, 20, (0)
        // reverse:  b0 from t=2: 4, 4, 3   b1 from t=1: 16, 16, (0)
        FloatKernel k = FloatKernels.create(
                node(
                        "RNN",
                        List.of("Y", "Y_h"),
                        Map.of(
                                "direction", Attribute.ofString("bidirectional"),
                                "hidden_size", Attribute.ofInt(1),
                                "activations", Attribute.ofStrings("Affine"),
                                "activation_alpha", Attribute.ofFloats(1f),
                                "activation_beta", Attribute.ofFloats(0f))),
                14);
        Tensor[] out = k.run(new Tensor[] {
            f(new int[] {3, 2, 1}, 1, 8, 2, 16, 4, 32),
            f(new int[] {2, 1, 1}, 1, 1),
            f(new int[] {2, 1, 1}, 0.5f, 0.5f),
            null,
            Tensor.ofLongs(DType.INT32, new int[] {2}, new long[] {3, 2}),
        });
        assertArrayEquals(new int[] {3, 2, 2, 1}, out[0].shape());
        assertArrayEquals(new float[] {1, 8, 3, 16, 2.5f, 20, 4, 16, 5.25f, 0, 4, 0}, out[0].floats());
        assertArrayEquals(new int[] {2, 2, 1}, out[1].shape());
        assertArrayEquals(new float[] {5.25f, 20, 3, 16}, out[1].floats());
    }

    @Test
    void gruResetGateBeforeAndAfterTheRecurrentProduct() {
        // z = r = 0.5 (Affine 0, 0.5), g = identity, Wh = Rh = 1, Rbh = 1, initial h 2 and 4,
        // inputs b0 2, 4 (2 steps) and b1 6 (1 step); Ht = 0.5 ht + 0.5 Ht-1.
        // linear_before_reset=0: ht = x + 0.5 h + 1    b0: 3, 4.75   b1: 6.5
        // linear_before_reset=1: ht = x + 0.5 (h + 1)  b0: 2.75, 4.3125   b1: 6.25
        float[][] want = {{3, 6.5f, 4.75f, 0}, {2.75f, 6.25f, 4.3125f, 0}};
        float[][] wantH = {{4.75f, 6.5f}, {4.3125f, 6.25f}};
        for (int lbr = 0; lbr <= 1; lbr++) {
            FloatKernel k = FloatKernels.create(
                    node(
                            "GRU",
                            List.of("Y", "Y_h"),
                            Map.of(
                                    "hidden_size", Attribute.ofInt(1),
                                    "linear_before_reset", Attribute.ofInt(lbr),
                                    "activations", Attribute.ofStrings("Affine", "Affine"),
                                    "activation_alpha", Attribute.ofFloats(0f, 1f),
                                    "activation_beta", Attribute.ofFloats(0.5f, 0f))),
                    14);
            Tensor[] out = k.run(new Tensor[] {
                f(new int[] {2, 2, 1}, 2, 6, 4, 8),
                f(new int[] {1, 3, 1}, 0, 0, 1),
                f(new int[] {1, 3, 1}, 0, 0, 1),
                f(new int[] {1, 6}, 0, 0, 0, 0, 0, 1),
                Tensor.ofLongs(DType.INT32, new int[] {2}, new long[] {2, 1}),
                f(new int[] {1, 2, 1}, 2, 4),
            });
            assertArrayEquals(want[lbr], out[0].floats(), "Y, linear_before_reset=" + lbr);
            assertArrayEquals(wantH[lbr], out[1].floats(), "Y_h, linear_before_reset=" + lbr);
        }
    }

    @Test
    void lstmReverseBatchMajor() {
        // i = o = f = 0.5 (Affine 0, 0.5), g = h = identity, Wc = 1, Rc = 2; x = 1, 2, 3 run from t=2:
        // c~ = x + 2 H, C = 0.5 C + 0.5 c~, H = 0.5 C
        // t=2: c~ 3, C 1.5, H 0.75;  t=1: c~ 3.5, C 2.5, H 1.25;  t=0: c~ 3.5, C 3, H 1.5
        FloatKernel k = FloatKernels.create(
                node(
                        "LSTM",
                        List.of("Y", "Y_h", "Y_c"),
                        Map.of(
                                "direction", Attribute.ofString("reverse"),
                                "layout", Attribute.ofInt(1),
                                "hidden_size", Attribute.ofInt(1),
                                "activations", Attribute.ofStrings("Affine", "Affine", "Affine"),
                                "activation_alpha", Attribute.ofFloats(0f, 1f, 1f),
                                "activation_beta", Attribute.ofFloats(0.5f, 0f, 0f))),
                14);
        Tensor[] out = k.run(new Tensor[] {
            f(new int[] {1, 3, 1}, 1, 2, 3), f(new int[] {1, 4, 1}, 0, 0, 0, 1), f(new int[] {1, 4, 1}, 0, 0, 0, 2)
        });
        assertArrayEquals(new int[] {1, 3, 1, 1}, out[0].shape());
        assertArrayEquals(new float[] {1.5f, 1.25f, 0.75f}, out[0].floats());
        assertArrayEquals(new int[] {1, 1, 1}, out[1].shape());
        assertArrayEquals(new float[] {1.5f}, out[1].floats());
        assertArrayEquals(new float[] {3f}, out[2].floats());
    }

    @Test
    void lstmBidirectionalZeroLengthEntryHasZeroOutputsAndStates() {
        // Batch 1 has length 0: Y, Y_h and Y_c are zero for it whatever its initial state.
        FloatKernel k = FloatKernels.create(
                node(
                        "LSTM",
                        List.of("Y", "Y_h", "Y_c"),
                        Map.of("direction", Attribute.ofString("bidirectional"), "hidden_size", Attribute.ofInt(1))),
                14);
        Tensor[] out = k.run(new Tensor[] {
            f(new int[] {2, 2, 1}, 1, 1, 1, 1),
            f(new int[] {2, 4, 1}, 1, 1, 1, 1, 1, 1, 1, 1),
            f(new int[] {2, 4, 1}, 1, 1, 1, 1, 1, 1, 1, 1),
            null,
            Tensor.ofLongs(DType.INT32, new int[] {2}, new long[] {2, 0}),
            f(new int[] {2, 2, 1}, 0.5f, 0.5f, 0.5f, 0.5f),
            f(new int[] {2, 2, 1}, 0.5f, 0.5f, 0.5f, 0.5f),
        });
        float[] y = out[0].floats(); // [seq, dir, batch, 1]
        for (int t = 0; t < 2; t++) {
            for (int d = 0; d < 2; d++) {
                assertTrue(y[(t * 2 + d) * 2] > 0, "batch 0 runs");
                assertEquals(0f, y[(t * 2 + d) * 2 + 1], "batch 1 has no steps");
            }
        }
        assertEquals(0f, out[1].floats()[1]);
        assertEquals(0f, out[2].floats()[3]);
        // Both directions of batch 0 saw the same inputs and weights: equal final states.
        assertEquals(out[1].floats()[0], out[1].floats()[2]);
    }

    @Test
    void unsupportedActivationIsOneLineError() {
        Graph g = graph(new Node(
                "rec",
                "GRU",
                "",
                List.of("X", "W", "R"),
                List.of("Y"),
                Map.of("hidden_size", Attribute.ofInt(1), "activations", Attribute.ofStrings("Sigmoid", "Gelu"))));
        SimulatorException e = assertThrows(
                SimulatorException.class,
                () -> Simulator.compile(OnnxGraphs.toModel(g, "t", Map.of()), "t", CompileOptions.DEFAULT));
        assertEquals(Code.UNSUPPORTED_OP, e.code());
        assertTrue(e.getMessage().contains("activation 'Gelu' is not supported"), e.getMessage());
        assertTrue(!e.getMessage().contains("\n"), e.getMessage());
    }

    @Test
    void recurrentNodeWithoutYIsOneLayerNamedByItsFirstOutput() throws Exception {
        Graph g = graph(new Node(
                "rec",
                "LSTM",
                "",
                List.of("X", "W", "R"),
                List.of("", "Y_h", "Y_c"),
                Map.of("hidden_size", Attribute.ofInt(1))));
        NpuProgram p = Simulator.compile(OnnxGraphs.toModel(g, "t", Map.of()), "t", CompileOptions.DEFAULT);
        Layer l = p.layers().get(0);
        assertEquals("Y_h", l.name());
        assertEquals(List.of("Y_h", "Y_c"), l.outputs());
        float[] seen = new float[1];
        p.run(
                Map.of("X", f(new int[] {2, 1, 1}, 1, 2)),
                (layer, v) -> seen[0] = v.real().floats()[0]);
        assertArrayEquals(
                new int[] {1, 1, 1},
                p.run(Map.of("X", f(new int[] {2, 1, 1}, 1, 2)), (layer, v) -> {})
                        .get("Y_h")
                        .real()
                        .shape());
        assertTrue(seen[0] != 0f, "the layer's value is Y_h");
    }

    private static Graph graph(Node n) {
        Map<String, Tensor> c = Map.of(
                "W", f(new int[] {1, 4, 1}, 0.5f, 0.5f, 0.5f, 0.5f),
                "R", f(new int[] {1, 4, 1}, 0.5f, 0.5f, 0.5f, 0.5f));
        List<String> outs = new ArrayList<>(n.outputs());
        outs.removeIf(String::isEmpty);
        if (n.opType().equals("GRU")) {
            c = Map.of("W", f(new int[] {1, 3, 1}, 1, 1, 1), "R", f(new int[] {1, 3, 1}, 1, 1, 1));
        }
        return new Graph(
                "t",
                List.of(n),
                c,
                List.of(new ValueInfo("X", DType.FLOAT32, new int[] {2, 1, 1})),
                outs,
                Map.of("", 14));
    }
}
