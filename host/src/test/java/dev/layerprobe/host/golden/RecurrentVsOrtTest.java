package dev.layerprobe.host.golden;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.dump.npy.Npy;
import dev.layerprobe.host.SharedData;
import dev.layerprobe.host.compare.MetricResult;
import dev.layerprobe.host.compare.Metrics;
import dev.layerprobe.onnx.Onnx.ModelProto;
import dev.layerprobe.simulator.CompileOptions;
import dev.layerprobe.simulator.Layer;
import dev.layerprobe.simulator.NpuProgram;
import dev.layerprobe.simulator.Simulator;
import dev.layerprobe.simulator.graph.Attribute;
import dev.layerprobe.simulator.graph.Graph;
import dev.layerprobe.simulator.graph.Node;
import dev.layerprobe.simulator.graph.ValueInfo;
import dev.layerprobe.simulator.onnx.OnnxGraphs;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The float LSTM, GRU and RNN kernels against ONNX Runtime: on the shared keyword spotter (two GRU
 * layers), every layer, and on one-node models that cover the attributes real exports use
 * (directions, sequence lengths, initial states, peepholes, clip, layout, linear_before_reset,
 * input_forget, other activations), every output of the node.
 */
class RecurrentVsOrtTest {
    private static final double MIN_COS = 0.99999;

    @Test
    void gruKeywordSpotterMatchesOnnxRuntimeOnEveryLayer() throws Exception {
        Path model = SharedData.require("models/gru_kws.onnx");
        NpuProgram sim = Simulator.compile(model, CompileOptions.DEFAULT);
        assertEquals(2, sim.layers().stream().filter(l -> l.op().equals("GRU")).count(), "GRU layers");
        List<String> worse = new ArrayList<>();
        double[] min = {1};
        try (GoldenRunner golden = GoldenRunner.open(model)) {
            for (int i = 0; i < 4; i++) {
                Tensor x = Npy.read(SharedData.require(String.format("images/mfcc/mfcc_%02d.npy", i)));
                Map<String, Tensor> feeds = Map.of("mfcc", x);
                Map<String, Tensor> g = golden.run(feeds);
                int input = i;
                sim.run(feeds, (layer, v) -> {
                    Tensor ref = g.get(layer.name());
                    assertNotNull(ref, "no golden value for layer " + layer.name());
                    double cos = Metrics.compare(ref, v.real()).cos();
                    min[0] = Math.min(min[0], cos);
                    if (cos < MIN_COS) {
                        worse.add("mfcc_" + input + " " + layer.name() + " cos " + cos);
                    }
                });
            }
        }
        System.out.printf("gru_kws: lowest per-layer float cos against ONNX Runtime %.15f%n", min[0]);
        assertTrue(worse.isEmpty(), "layers below cos " + MIN_COS + ": " + worse);
    }

    @Test
    void lstmBidirectionalWithLengthsPeepholesAndStates() throws Exception {
        Map<String, Attribute> a = new HashMap<>();
        a.put("direction", Attribute.ofString("bidirectional"));
        check("LSTM", 4, a, 5, 3, 4, 6, new long[] {5, 2, 0}, true, true, false);
    }

    @Test
    void lstmReverseWithClipInputForgetAndActivations() throws Exception {
        Map<String, Attribute> a = new HashMap<>();
        a.put("direction", Attribute.ofString("reverse"));
        a.put("clip", Attribute.ofFloat(0.7f));
        a.put("input_forget", Attribute.ofInt(1));
        a.put("activations", Attribute.ofStrings("HardSigmoid", "LeakyRelu", "Softsign"));
        a.put("activation_alpha", Attribute.ofFloats(0.3f, 0.2f));
        a.put("activation_beta", Attribute.ofFloats(0.4f));
        check("LSTM", 4, a, 4, 2, 3, 5, new long[] {3, 4}, true, true, false);
    }

    @Test
    void lstmBatchMajorLayout() throws Exception {
        Map<String, Attribute> a = new HashMap<>();
        a.put("direction", Attribute.ofString("bidirectional"));
        a.put("layout", Attribute.ofInt(1));
        check("LSTM", 4, a, 3, 2, 5, 4, new long[] {3, 1}, true, true, true);
    }

    @Test
    void gruResetAfterAndBeforeTheProduct() throws Exception {
        for (int lbr = 0; lbr <= 1; lbr++) {
            Map<String, Attribute> a = new HashMap<>();
            a.put("direction", Attribute.ofString("bidirectional"));
            a.put("linear_before_reset", Attribute.ofInt(lbr));
            check("GRU", 3, a, 6, 3, 4, 5, new long[] {6, 3, 1}, true, false, false);
        }
    }

    @Test
    void gruReverseWithClipLayoutAndActivations() throws Exception {
        Map<String, Attribute> a = new HashMap<>();
        a.put("direction", Attribute.ofString("reverse"));
        a.put("clip", Attribute.ofFloat(0.5f));
        a.put("layout", Attribute.ofInt(1));
        a.put("activations", Attribute.ofStrings("Sigmoid", "Elu"));
        a.put("activation_alpha", Attribute.ofFloats(0.7f));
        check("GRU", 3, a, 4, 2, 3, 4, new long[] {2, 4}, true, false, true);
    }

    @Test
    void rnnDirectionsAndActivations() throws Exception {
        Map<String, Attribute> a = new HashMap<>();
        a.put("direction", Attribute.ofString("bidirectional"));
        a.put("activations", Attribute.ofStrings("Relu", "Softplus"));
        check("RNN", 1, a, 5, 2, 3, 4, new long[] {4, 5}, true, false, false);
        Map<String, Attribute> b = new HashMap<>();
        b.put("layout", Attribute.ofInt(1));
        b.put("activations", Attribute.ofStrings("ScaledTanh"));
        b.put("activation_alpha", Attribute.ofFloats(1.5f));
        b.put("activation_beta", Attribute.ofFloats(0.5f));
        check("RNN", 1, b, 3, 2, 3, 4, null, false, false, true);
    }

    /**
     * One recurrent node with random weights (and bias, sequence lengths, initial states and
     * peepholes where asked) against ONNX Runtime, every output.
     */
    private static void check(
            String op,
            int gates,
            Map<String, Attribute> attrs,
            int seq,
            int batch,
            int input,
            int hidden,
            long[] lens,
            boolean states,
            boolean peepholes,
            boolean batchMajor)
            throws Exception {
        Random r = new Random(op.hashCode() * 31L + seq * 7L + hidden);
        boolean bidi =
                attrs.containsKey("direction") && attrs.get("direction").s().equals("bidirectional");
        int dirs = bidi ? 2 : 1;
        attrs.put("hidden_size", Attribute.ofInt(hidden));
        Map<String, Tensor> c = new LinkedHashMap<>();
        c.put("W", random(r, dirs, gates * hidden, input));
        c.put("R", random(r, dirs, gates * hidden, hidden));
        c.put("B", random(r, dirs, 2 * gates * hidden));
        List<String> in = new ArrayList<>(List.of("X", "W", "R", "B", "", ""));
        if (lens != null) {
            c.put("lens", Tensor.ofLongs(DType.INT32, new int[] {batch}, lens.clone()));
            in.set(4, "lens");
        }
        int[] stateShape = batchMajor ? new int[] {batch, dirs, hidden} : new int[] {dirs, batch, hidden};
        if (states) {
            c.put("h0", random(r, stateShape));
            in.set(5, "h0");
        }
        List<String> out = new ArrayList<>(List.of("Y", "Y_h"));
        if (op.equals("LSTM")) {
            in.add("");
            if (states) {
                c.put("c0", random(r, stateShape));
                in.set(6, "c0");
            }
            if (peepholes) {
                c.put("P", random(r, dirs, 3 * hidden));
                in.add("P");
            }
            out.add("Y_c");
        }
        while (in.get(in.size() - 1).isEmpty()) {
            in.remove(in.size() - 1);
        }
        int[] xShape = batchMajor ? new int[] {batch, seq, input} : new int[] {seq, batch, input};
        Graph g = new Graph(
                op.toLowerCase(Locale.ROOT),
                new ArrayList<>(List.of(new Node("rec", op, "", in, out, attrs))),
                c,
                new ArrayList<>(List.of(new ValueInfo("X", DType.FLOAT32, xShape))),
                new ArrayList<>(out),
                Map.of("", 14));
        ModelProto m = OnnxGraphs.toModel(g, "recurrent", Map.of());
        NpuProgram sim = Simulator.compile(m, op, CompileOptions.DEFAULT);
        Layer layer = sim.layers().get(0);
        assertEquals(out, layer.outputs(), "the node is one layer with every output");
        Tensor x = random(r, xShape);
        Map<String, LayerValue> got = sim.run(Map.of("X", x), (l, v) -> {});
        Map<String, Tensor> ref;
        if (batchMajor) {
            // ONNX Runtime's CPU kernels refuse layout 1: the reference is the same node in layout 0
            // on transposed inputs, its outputs transposed back.
            Map<String, Attribute> seqMajor = new HashMap<>(attrs);
            seqMajor.remove("layout");
            Map<String, Tensor> c0 = new LinkedHashMap<>(c);
            for (String s : List.of("h0", "c0")) {
                if (c0.containsKey(s)) {
                    c0.put(s, swap(c0.get(s), batch, dirs, hidden));
                }
            }
            Graph g0 = new Graph(
                    g.name(),
                    new ArrayList<>(List.of(new Node("rec", op, "", in, out, seqMajor))),
                    c0,
                    new ArrayList<>(List.of(new ValueInfo("X", DType.FLOAT32, new int[] {seq, batch, input}))),
                    new ArrayList<>(out),
                    Map.of("", 14));
            try (GoldenRunner golden = GoldenRunner.of(OnnxGraphs.toModel(g0, "recurrent", Map.of()), op)) {
                ref = new HashMap<>(golden.run(Map.of("X", swap(x, batch, seq, input))));
            }
            ref.put("Y", swap(ref.get("Y"), seq, dirs, batch, hidden));
            for (String s : List.of("Y_h", "Y_c")) {
                if (ref.containsKey(s)) {
                    ref.put(s, swap(ref.get(s), dirs, batch, hidden));
                }
            }
        } else {
            try (GoldenRunner golden = GoldenRunner.of(m, op)) {
                ref = golden.run(Map.of("X", x));
            }
        }
        for (String o : out) {
            Tensor want = ref.get(o);
            Tensor have = got.get(o).real();
            assertEquals(Arrays.toString(want.shape()), Arrays.toString(have.shape()), op + " " + o);
            MetricResult mr = Metrics.compare(want, have);
            assertTrue(mr.cos() >= MIN_COS && mr.maxAbs() < 1e-4, op + " " + attrs + " " + o + ": " + mr);
        }
    }

    /** [a, mid, b, inner] as [b, a, mid, inner]. */
    private static Tensor swap(Tensor t, int a, int mid, int b, int inner) {
        float[] v = t.floats();
        float[] o = new float[v.length];
        for (int i = 0; i < a; i++) {
            for (int m = 0; m < mid; m++) {
                for (int j = 0; j < b; j++) {
                    for (int k = 0; k < inner; k++) {
                        o[((j * a + i) * mid + m) * inner + k] = v[((i * mid + m) * b + j) * inner + k];
                    }
                }
            }
        }
        return Tensor.ofFloats(new int[] {b, a, mid, inner}, o);
    }

    /** [a, b, inner] as [b, a, inner]. */
    private static Tensor swap(Tensor t, int a, int b, int inner) {
        return swap(t, a, 1, b, inner).reshape(new int[] {b, a, inner});
    }

    private static Tensor random(Random r, int... shape) {
        int n = 1;
        for (int d : shape) {
            n *= d;
        }
        float[] f = new float[n];
        for (int i = 0; i < n; i++) {
            f[i] = (float) (r.nextGaussian() * 0.6);
        }
        return Tensor.ofFloats(shape, f);
    }
}
