package dev.layerprobe.simulator.kernels.quantized;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.QTensor;
import dev.layerprobe.core.tensor.QuantParams;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.SharedData;
import dev.layerprobe.simulator.graph.Attribute;
import dev.layerprobe.simulator.graph.Graph;
import dev.layerprobe.simulator.graph.Node;
import dev.layerprobe.simulator.kernels.FloatKernels;
import dev.layerprobe.simulator.onnx.OnnxGraphs;
import dev.layerprobe.simulator.onnx.TensorProtos;
import dev.layerprobe.simulator.profile.RecurrentState;
import dev.layerprobe.simulator.profile.RequantMode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The integer LSTM, GRU and RNN ({@link QRecurrent}) against the float kernels on random weights:
 * the float kernel runs on the dequantized input codes, its outputs quantized to the layer's output
 * parameters are the reference. Every direction, sequence lengths, initial states, peepholes,
 * linear_before_reset, input_forget, clip, layout, activations other than the defaults, and both
 * state formats; bounds on cos and on the largest code difference, and the measured figures printed.
 */
class QRecurrentTest {
    /** What one comparison measured: over Y (or the layer's first output) and Y_h. */
    record Measured(double cos, long maxLsb, double hCos, double hMaxAbs) {}

    /** One recurrent node with random constants, run in float and in integers. */
    static final class Case {
        final String op;
        final Map<String, Attribute> attrs = new HashMap<>();
        final Map<String, Tensor> constants = new LinkedHashMap<>();
        final List<String> inputs = new ArrayList<>(List.of("X", "W", "R", "B", "", ""));
        final List<String> outputs = new ArrayList<>(List.of("Y", "Y_h"));
        final int seq;
        final int batch;
        final int input;
        final int hidden;
        final int dirs;
        final boolean batchMajor;
        final Random r;
        Tensor lens;
        Tensor h0;
        Tensor c0;

        Case(String op, String direction, int seq, int batch, int input, int hidden, boolean batchMajor, long seed) {
            this.op = op;
            this.seq = seq;
            this.batch = batch;
            this.input = input;
            this.hidden = hidden;
            this.batchMajor = batchMajor;
            this.dirs = direction.equals("bidirectional") ? 2 : 1;
            this.r = new Random(seed);
            attrs.put("direction", Attribute.ofString(direction));
            attrs.put("hidden_size", Attribute.ofInt(hidden));
            if (batchMajor) {
                attrs.put("layout", Attribute.ofInt(1));
            }
            int gates = gates(op);
            // Gains of trained networks: unit-variance pre-activations, a contracting recurrence (a
            // chaotic one would amplify any difference, float against float as well).
            constants.put("W", random(r, 1 / Math.sqrt(input), dirs, gates * hidden, input));
            constants.put("R", random(r, 0.8 / Math.sqrt(hidden), dirs, gates * hidden, hidden));
            constants.put("B", random(r, 0.3, dirs, 2 * gates * hidden));
            if (op.equals("LSTM")) {
                inputs.add("");
                outputs.add("Y_c");
            }
        }

        Case lengths(long... l) {
            lens = Tensor.ofLongs(DType.INT32, new int[] {batch}, l);
            inputs.set(4, "lens");
            return this;
        }

        Case states() {
            int[] s = batchMajor ? new int[] {batch, dirs, hidden} : new int[] {dirs, batch, hidden};
            // A hidden state of tanh-like activations stays within (-1, 1), as the state format assumes.
            h0 = random(r, 0.6, s);
            float[] v = h0.floats();
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) Math.tanh(v[i]);
            }
            inputs.set(5, "h0");
            if (op.equals("LSTM")) {
                c0 = random(r, 1.0, s);
                inputs.set(6, "c0");
            }
            return this;
        }

        Case peepholes() {
            constants.put("P", random(r, 0.5, dirs, 3 * hidden));
            inputs.add("P");
            return this;
        }

        Case attr(String name, Attribute a) {
            attrs.put(name, a);
            return this;
        }

        Node node() {
            List<String> in = new ArrayList<>(inputs);
            while (in.get(in.size() - 1).isEmpty()) {
                in.remove(in.size() - 1);
            }
            return new Node("rec", op, "", in, outputs, attrs);
        }

        Tensor x() {
            return random(
                    new Random(r.nextLong()),
                    1.0,
                    batchMajor ? new int[] {batch, seq, input} : new int[] {seq, batch, input});
        }

        /** The integer kernel alone on a random X, Y quantized as the X, every output. */
        QTensor[] runInteger(boolean faulted) {
            QuantParams xq = QuantParams.perTensor(DType.INT8, 4f / 255, 0);
            List<QuantParams> outQ = new ArrayList<>();
            outQ.add(QuantParams.perTensor(DType.INT8, 2f / 255, 0));
            while (outQ.size() < outputs.size()) {
                outQ.add(null);
            }
            QRecurrent k =
                    QRecurrent.of(node(), constants::get, xq, outQ, RecurrentState.INT16, RequantMode.FIXED, faulted);
            return k.run(QTensor.quantize(x(), xq), lens, h0, c0);
        }

        /** The float kernel on the dequantized X, then the integer kernel, compared. */
        Measured measure(RecurrentState state, boolean faulted) {
            Node n = node();
            Tensor xf = x();
            QuantParams xq = calibrated(xf);
            QTensor x = QTensor.quantize(xf, xq);
            Tensor[] in = new Tensor[Math.max(8, n.inputs().size())];
            in[0] = x.dequantize();
            for (int i = 1; i < n.inputs().size(); i++) {
                in[i] = n.hasInput(i) ? value(n.input(i)) : null;
            }
            Tensor[] want = FloatKernels.create(n, 14).run(in);
            List<QuantParams> outQ = new ArrayList<>();
            outQ.add(calibrated(want[0]));
            for (int i = 1; i < want.length; i++) {
                outQ.add(null);
            }
            QRecurrent k = QRecurrent.of(n, constants::get, xq, outQ, state, RequantMode.FIXED, faulted);
            assertNotNull(k, op + " " + attrs + ": no integer kernel");
            QTensor[] got = k.run(x, lens, h0, c0);
            assertEquals(want.length, got.length);
            for (int i = 0; i < got.length; i++) {
                assertArrayEquals(want[i].shape(), got[i].shape(), "output " + i);
            }
            QTensor ideal = QTensor.quantize(want[0], outQ.get(0));
            long maxLsb = 0;
            for (int i = 0; i < ideal.size(); i++) {
                maxLsb = Math.max(maxLsb, Math.abs((long) ideal.codes()[i] - got[0].codes()[i]));
            }
            double hMax = 0;
            float[] wh = want[1].floats();
            float[] gh = got[1].dequantize().floats();
            for (int i = 0; i < wh.length; i++) {
                hMax = Math.max(hMax, Math.abs(wh[i] - gh[i]));
            }
            return new Measured(
                    cos(ideal.dequantize().floats(), got[0].dequantize().floats()), maxLsb, cos(wh, gh), hMax);
        }

        private Tensor value(String name) {
            return switch (name) {
                case "lens" -> lens;
                case "h0" -> h0;
                case "c0" -> c0;
                default -> constants.get(name);
            };
        }
    }

    static int gates(String op) {
        return switch (op) {
            case "LSTM" -> 4;
            case "GRU" -> 3;
            default -> 1;
        };
    }

    static Tensor random(Random r, double sigma, int... shape) {
        int n = Arrays.stream(shape).reduce(1, (a, b) -> a * b);
        float[] f = new float[n];
        for (int i = 0; i < n; i++) {
            f[i] = (float) (r.nextGaussian() * sigma);
        }
        return Tensor.ofFloats(shape, f);
    }

    /** int8 per tensor over the tensor's range widened to include 0, as the QDQ writer calibrates. */
    static QuantParams calibrated(Tensor t) {
        float min = 0;
        float max = 0;
        for (float v : t.floats()) {
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        float scale = max > min ? (max - min) / 255f : 1f;
        return QuantParams.perTensor(DType.INT8, scale, Math.max(-128, Math.min(127, Math.round(-128 - min / scale))));
    }

    static double cos(float[] a, float[] b) {
        double ab = 0;
        double aa = 0;
        double bb = 0;
        for (int i = 0; i < a.length; i++) {
            ab += (double) a[i] * b[i];
            aa += (double) a[i] * a[i];
            bb += (double) b[i] * b[i];
        }
        return aa == 0 && bb == 0 ? 1 : ab / Math.sqrt(aa * bb);
    }

    private static void check(String what, Case c, RecurrentState state, double minCos, long maxLsb) {
        Measured m = c.measure(state, false);
        System.out.printf(
                Locale.ROOT,
                "%-44s %s: Y cos %.6f, max %d LSB; Y_h cos %.6f, max |diff| %.5f%n",
                what,
                state.yamlName(),
                m.cos(),
                m.maxLsb(),
                m.hCos(),
                m.hMaxAbs());
        assertTrue(m.cos() >= minCos && m.maxLsb() <= maxLsb, what + ": " + m);
        assertTrue(m.hCos() >= minCos, what + " Y_h: " + m);
    }

    @Test
    void gruInBothResetFormsEveryDirectionLengthsAndStates() {
        for (int lbr = 0; lbr <= 1; lbr++) {
            for (String dir : List.of("forward", "reverse", "bidirectional")) {
                Case c = new Case("GRU", dir, 12, 3, 10, 16, false, 11 + lbr)
                        .attr("linear_before_reset", Attribute.ofInt(lbr))
                        .lengths(12, 7, 0)
                        .states();
                check("GRU " + dir + " lbr=" + lbr, c, RecurrentState.INT16, 0.9999, 3);
            }
        }
    }

    @Test
    void gruBatchMajorWithClipAndOtherActivations() {
        Case c = new Case("GRU", "bidirectional", 9, 2, 6, 12, true, 5)
                .attr("clip", Attribute.ofFloat(1.5f))
                .attr("activations", Attribute.ofStrings("HardSigmoid", "Softsign", "Sigmoid", "Tanh"))
                .states();
        check("GRU layout=1 clip HardSigmoid/Softsign", c, RecurrentState.INT16, 0.9999, 3);
    }

    @Test
    void lstmWithPeepholesInputForgetLengthsAndStates() {
        for (String dir : List.of("forward", "reverse", "bidirectional")) {
            Case c = new Case("LSTM", dir, 10, 3, 8, 16, false, 21)
                    .lengths(10, 4, 1)
                    .states()
                    .peepholes();
            check("LSTM " + dir + " peepholes", c, RecurrentState.INT16, 0.9999, 3);
        }
        Case f = new Case("LSTM", "forward", 10, 2, 8, 12, true, 22)
                .attr("input_forget", Attribute.ofInt(1))
                .attr("clip", Attribute.ofFloat(2f))
                .states();
        check("LSTM layout=1 input_forget clip", f, RecurrentState.INT16, 0.9999, 3);
    }

    @Test
    void rnnEveryDirectionWithLengthsAndStates() {
        for (String dir : List.of("forward", "reverse", "bidirectional")) {
            Case c =
                    new Case("RNN", dir, 15, 2, 8, 20, false, 31).lengths(15, 9).states();
            check("RNN " + dir, c, RecurrentState.INT16, 0.9999, 3);
        }
    }

    @Test
    void anInt8StateLosesPrecisionButStaysClose() {
        for (String op : List.of("GRU", "LSTM", "RNN")) {
            Case c = new Case(op, "bidirectional", 12, 2, 8, 16, false, 41).states();
            Measured wide = c.measure(RecurrentState.INT16, false);
            Measured narrow = new Case(op, "bidirectional", 12, 2, 8, 16, false, 41)
                    .states()
                    .measure(RecurrentState.INT8, false);
            System.out.printf(
                    Locale.ROOT,
                    "%s state int16: Y cos %.6f (max %d LSB), int8: Y cos %.6f (max %d LSB)%n",
                    op,
                    wide.cos(),
                    wide.maxLsb(),
                    narrow.cos(),
                    narrow.maxLsb());
            assertTrue(narrow.cos() >= 0.9995 && narrow.maxLsb() <= 4, op + " int8: " + narrow);
            assertTrue(wide.hMaxAbs() < narrow.hMaxAbs(), op + ": int16 state is the finer " + wide + " " + narrow);
        }
    }

    /**
     * rnn_gate_order is the device reading W, R and B's gate blocks in PyTorch's order: the faulted
     * kernel gives, code for code, the clean kernel of the node whose blocks are stacked the way
     * such a device takes them (GRU: ONNX's r block as z and z as r; LSTM: o as f, f as c, c as o).
     */
    @Test
    void gateOrderFaultIsTheNodeWithItsBlocksReadInPyTorchOrder() {
        Map<String, int[]> pytorchReading = Map.of("GRU", new int[] {1, 0, 2}, "LSTM", new int[] {0, 3, 1, 2});
        for (Map.Entry<String, int[]> e : pytorchReading.entrySet()) {
            Case faulted = new Case(e.getKey(), "bidirectional", 8, 2, 6, 10, false, 51).states();
            Case reordered = new Case(e.getKey(), "bidirectional", 8, 2, 6, 10, false, 51).states();
            int hid = reordered.hidden;
            reordered.constants.put("W", blocks(reordered.constants.get("W"), e.getValue(), hid * 6));
            reordered.constants.put("R", blocks(reordered.constants.get("R"), e.getValue(), hid * hid));
            reordered.constants.put("B", blocks(reordered.constants.get("B"), e.getValue(), hid));
            QTensor[] a = faulted.runInteger(true);
            QTensor[] b = reordered.runInteger(false);
            QTensor[] clean = new Case(e.getKey(), "bidirectional", 8, 2, 6, 10, false, 51)
                    .states()
                    .runInteger(false);
            assertArrayEquals(b[0].codes(), a[0].codes(), e.getKey());
            assertArrayEquals(b[1].codes(), a[1].codes(), e.getKey());
            assertTrue(!Arrays.equals(clean[0].codes(), a[0].codes()), e.getKey() + ": the fault changes the output");
        }
    }

    @Test
    void anRnnHasNoGateOrderAndUnboundedActivationsHaveNoTable() {
        Case rnn = new Case("RNN", "forward", 4, 1, 3, 5, false, 61);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> rnn.runInteger(true));
        assertTrue(e.getMessage().contains("rnn_gate_order does not apply to RNN"), e.getMessage());
        QuantParams xq = QuantParams.perTensor(DType.INT8, 0.05f, 0);
        List<QuantParams> outQ = new ArrayList<>(Arrays.asList(xq, null));
        for (String act : List.of("Relu", "Softplus", "Elu", "LeakyRelu")) {
            Case c = new Case("RNN", "forward", 4, 1, 3, 5, false, 62).attr("activations", Attribute.ofStrings(act));
            assertNull(
                    QRecurrent.of(c.node(), c.constants::get, xq, outQ, RecurrentState.INT16, RequantMode.FIXED, false),
                    act + " leaves [-1, 1]: the layer stays on the CPU");
        }
        Case scaled = new Case("RNN", "forward", 4, 1, 3, 5, false, 63)
                .attr("activations", Attribute.ofStrings("ScaledTanh"))
                .attr("activation_alpha", Attribute.ofFloats(0.9f))
                .attr("activation_beta", Attribute.ofFloats(2f));
        assertNotNull(QRecurrent.of(
                scaled.node(), scaled.constants::get, xq, outQ, RecurrentState.INT16, RequantMode.FIXED, false));
        QuantParams perChannel = new QuantParams(DType.INT8, new float[] {0.1f, 0.2f}, new long[2], 1);
        assertNull(QRecurrent.of(
                rnn.node(), rnn.constants::get, perChannel, outQ, RecurrentState.INT16, RequantMode.FIXED, false));
    }

    /** Gate blocks of every group (direction, or half of B) stacked so that position p holds block order[p]. */
    private static Tensor blocks(Tensor t, int[] order, int block) {
        float[] v = t.floats();
        float[] out = new float[v.length];
        int group = order.length * block;
        for (int g = 0; g < v.length / group; g++) {
            for (int p = 0; p < order.length; p++) {
                System.arraycopy(v, g * group + order[p] * block, out, g * group + p * block, block);
            }
        }
        return Tensor.ofFloats(t.shape(), out);
    }

    /**
     * The ONNX backend node cases of GRU, LSTM and RNN (default activations; hand-written weights,
     * inputs up to 12), X quantized int8 over its range and each output over the golden's: the
     * integer kernel against the golden float outputs, input quantization included.
     */
    @Test
    void backendNodeCasesQuantizedAgainstTheirGoldenOutputs() throws Exception {
        Path suite = SharedData.require("testdata/onnx-backend/node");
        List<Path> cases;
        try (Stream<Path> s = Files.list(suite)) {
            cases = s.filter(p -> p.getFileName().toString().matches("test_(gru|lstm|rnn|simple_rnn)_.*"))
                    .sorted()
                    .toList();
        }
        assertEquals(12, cases.size(), "the suite's recurrent cases: " + cases);
        for (Path dir : cases) {
            Graph g = OnnxGraphs.toGraph(OnnxGraphs.readModel(dir.resolve("model.onnx")), dir);
            Node n = g.nodes().get(0);
            Map<String, Tensor> values = new HashMap<>(g.constants());
            for (int i = 0; i < g.inputs().size(); i++) {
                values.put(g.inputs().get(i).name(), read(dir.resolve("test_data_set_0/input_" + i + ".pb"), dir));
            }
            Tensor x = values.get(n.input(0));
            QuantParams xq = calibrated(x);
            List<QuantParams> outQ = new ArrayList<>();
            Map<String, Tensor> golden = new HashMap<>();
            for (int i = 0; i < g.outputs().size(); i++) {
                golden.put(g.outputs().get(i), read(dir.resolve("test_data_set_0/output_" + i + ".pb"), dir));
            }
            for (String o : n.outputs()) {
                outQ.add(golden.containsKey(o) ? calibrated(golden.get(o)) : null);
            }
            QRecurrent k = QRecurrent.of(n, values::get, xq, outQ, RecurrentState.INT16, RequantMode.FIXED, false);
            assertNotNull(k, dir.getFileName().toString());
            QTensor[] got = k.run(
                    QTensor.quantize(x, xq),
                    n.hasInput(4) ? values.get(n.input(4)) : null,
                    n.hasInput(5) ? values.get(n.input(5)) : null,
                    n.hasInput(6) ? values.get(n.input(6)) : null);
            for (int i = 0; i < n.outputs().size(); i++) {
                Tensor want = golden.get(n.output(i));
                if (want == null) {
                    continue;
                }
                QTensor ideal = QTensor.quantize(want, outQ.get(i));
                long max = 0;
                for (int e = 0; e < ideal.size(); e++) {
                    max = Math.max(max, Math.abs((long) ideal.codes()[e] - got[i].codes()[e]));
                }
                double c = cos(want.floats(), got[i].dequantize().floats());
                System.out.printf(
                        Locale.ROOT, "%-34s %-4s cos %.6f, max %d LSB%n", dir.getFileName(), n.output(i), c, max);
                assertTrue(c >= 0.9999 && max <= 1, dir.getFileName() + " " + n.output(i) + ": cos " + c + ", " + max);
            }
        }
    }

    private static Tensor read(Path pb, Path dir) throws java.io.IOException {
        return TensorProtos.toTensor(TensorProtos.readFile(pb), dir);
    }
}
