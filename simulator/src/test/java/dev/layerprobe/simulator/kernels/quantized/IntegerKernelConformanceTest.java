package dev.layerprobe.simulator.kernels.quantized;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.QTensor;
import dev.layerprobe.core.tensor.QuantParams;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.SharedData;
import dev.layerprobe.simulator.graph.Graph;
import dev.layerprobe.simulator.graph.Node;
import dev.layerprobe.simulator.graph.ValueInfo;
import dev.layerprobe.simulator.onnx.OnnxGraphs;
import dev.layerprobe.simulator.onnx.TensorProtos;
import dev.layerprobe.simulator.profile.RequantMode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The integer kernels against the ONNX backend node tests of the integer operators
 * ({@code ../shared/testdata/onnx-backend/node}): QLinearConv by {@link QConv}, QLinearMatMul by
 * {@link QGemm}, ConvInteger by QConv's accumulators, QuantizeLinear/DequantizeLinear by
 * {@link QTensor} with {@link QuantParams}. Requantization runs in {@link RequantMode#FLOAT}, the
 * ONNX reference / ONNX Runtime rule {@code y = saturate(round_half_even(acc * M) + zp_y)} with
 * {@code M = s_x * s_w / s_y} formed in float32. Output codes must match the golden outputs
 * exactly; every differing element is reported.
 */
class IntegerKernelConformanceTest {

    /** One backend case: its single node and every tensor it reads, by the node's input index. */
    private record Case(String name, Node node, Tensor[] inputs, Tensor expected) {
        Tensor in(int i) {
            return i < inputs.length ? inputs[i] : null;
        }
    }

    private static Case load(String name) throws Exception {
        Path dir = SharedData.require("testdata/onnx-backend/node/" + name);
        Graph g = OnnxGraphs.toGraph(OnnxGraphs.readModel(dir.resolve("model.onnx")), dir);
        assertEquals(1, g.nodes().size(), name + ": expected a single-node case");
        Node node = g.nodes().get(0);
        Map<String, Tensor> values = new HashMap<>(g.constants());
        List<ValueInfo> graphInputs = g.inputs();
        for (int i = 0; i < graphInputs.size(); i++) {
            Path f = dir.resolve("test_data_set_0/input_" + i + ".pb");
            if (Files.exists(f)) {
                values.put(graphInputs.get(i).name(), TensorProtos.toTensor(TensorProtos.readFile(f), dir));
            }
        }
        Tensor[] in = new Tensor[node.inputs().size()];
        for (int i = 0; i < in.length; i++) {
            in[i] = node.hasInput(i) ? values.get(node.input(i)) : null;
        }
        Tensor expected = TensorProtos.toTensor(TensorProtos.readFile(dir.resolve("test_data_set_0/output_0.pb")), dir);
        return new Case(name, node, in, expected);
    }

    // ---- QLinearConv -> QConv ----

    @Test
    void qlinearconv() throws Exception {
        Case c = load("test_qlinearconv");
        Tensor x = c.in(0);
        Tensor w = c.in(3);
        QuantParams xq = params(c.in(1), c.in(2), 1);
        QuantParams wq = params(c.in(4), c.in(5), 0);
        QuantParams yq = params(c.in(6), c.in(7), 1);
        int oc = w.dim(0);
        long[] bias = c.in(8) == null ? new long[oc] : c.in(8).longs().clone();
        QConv conv =
                new QConv(c.node(), codes(w, wq), bias, requantizers(xq, wq, yq, oc), xq, yq, yq.qmin(), yq.qmax());
        QTensor y = conv.run(codes(x, xq));
        assertCodes(c, y.shape(), y.codes(), yq.type());
    }

    // ---- QLinearMatMul -> QGemm ----

    @Test
    void qlinearmatmul2D() throws Exception {
        runQLinearMatMul(load("test_qlinearmatmul_2D"));
    }

    @Test
    void qlinearmatmul3D() throws Exception {
        runQLinearMatMul(load("test_qlinearmatmul_3D"));
    }

    /** A [.., M, K] times B [.., K, N] with equal leading (batch) dimensions: one QGemm per batch entry. */
    private static void runQLinearMatMul(Case c) {
        Tensor a = c.in(0);
        Tensor b = c.in(3);
        QuantParams aq = params(c.in(1), c.in(2), 1);
        QuantParams bq = params(c.in(4), c.in(5), b.rank() - 1);
        QuantParams yq = params(c.in(6), c.in(7), 1);
        if (a.rank() != b.rank()
                || !Arrays.equals(Arrays.copyOf(a.shape(), a.rank() - 2), Arrays.copyOf(b.shape(), b.rank() - 2))) {
            fail(c.name() + ": harness handles equal batch dimensions only, got " + a + " x " + b);
        }
        int m = a.dim(-2);
        int k = a.dim(-1);
        int n = b.dim(-1);
        int batches = a.size() / (m * k);
        int[] zeroPerN = new int[n];
        for (int j = 0; j < n; j++) {
            zeroPerN[j] = (int) bq.zeroPoint(j);
        }
        Requantizer[] rq = requantizers(aq, bq, yq, n);
        int[] aCodes = codes(a, aq).codes();
        int[] bCodes = codes(b, bq).codes();
        int[] y = new int[batches * m * n];
        for (int t = 0; t < batches; t++) {
            int[] bNk = new int[n * k];
            for (int j = 0; j < n; j++) {
                for (int p = 0; p < k; p++) {
                    bNk[j * k + p] = bCodes[t * k * n + p * n + j];
                }
            }
            QGemm gemm = new QGemm(bNk, n, k, zeroPerN, new long[n], rq, aq, yq, yq.qmin(), yq.qmax(), false);
            int[] slice = Arrays.copyOfRange(aCodes, t * m * k, (t + 1) * m * k);
            QTensor yt = gemm.run(new QTensor(new int[] {m, k}, slice, aq));
            System.arraycopy(yt.codes(), 0, y, t * m * n, m * n);
        }
        int[] shape = a.shape();
        shape[shape.length - 1] = n;
        assertCodes(c, shape, y, yq.type());
    }

    // ---- ConvInteger -> QConv accumulators ----

    @Test
    void basicConvinteger() throws Exception {
        runConvInteger(load("test_basic_convinteger"));
    }

    @Test
    void convintegerWithPadding() throws Exception {
        runConvInteger(load("test_convinteger_with_padding"));
    }

    @Test
    void convintegerWithoutPadding() throws Exception {
        runConvInteger(load("test_convinteger_without_padding"));
    }

    /**
     * ConvInteger's int32 output is QConv's accumulator: a FIXED requantizer with multiplier 1 is
     * exact for every int32 (mantissa 2^30, shift 30, no rounding), and the clamp is the int32 range.
     */
    private static void runConvInteger(Case c) {
        Tensor x = c.in(0);
        Tensor w = c.in(1);
        DType xType = x.dtype();
        DType wType = w.dtype();
        long xZero = c.in(2) == null ? 0 : c.in(2).getLong(0);
        Tensor wz = c.in(3);
        int oc = w.dim(0);
        long[] wZero = new long[wz == null ? 1 : wz.size()];
        for (int i = 0; i < wZero.length; i++) {
            wZero[i] = wz == null ? 0 : wz.getLong(i);
        }
        QuantParams xq = new QuantParams(xType, new float[] {1f}, new long[] {xZero}, 1);
        float[] ones = new float[wZero.length];
        Arrays.fill(ones, 1f);
        QuantParams wq = new QuantParams(wType, ones, wZero, 0);
        QuantParams yq = QuantParams.perTensor(DType.INT32, 1f, 0);
        Requantizer[] identity = new Requantizer[oc];
        Arrays.fill(identity, new Requantizer(1.0, RequantMode.FIXED));
        QConv conv = new QConv(c.node(), codes(w, wq), new long[oc], identity, xq, yq, yq.qmin(), yq.qmax());
        QTensor y = conv.run(codes(x, xq));
        assertCodes(c, y.shape(), y.codes(), DType.INT32);
    }

    // ---- QuantizeLinear / DequantizeLinear -> QTensor ----

    @Test
    void quantizelinear() throws Exception {
        runQuantize(load("test_quantizelinear"));
    }

    @Test
    void quantizelinearAxis() throws Exception {
        runQuantize(load("test_quantizelinear_axis"));
    }

    @Test
    void dequantizelinear() throws Exception {
        runDequantize(load("test_dequantizelinear"));
    }

    @Test
    void dequantizelinearAxis() throws Exception {
        runDequantize(load("test_dequantizelinear_axis"));
    }

    private static void runQuantize(Case c) {
        Tensor x = c.in(0);
        QuantParams q = params(c.in(1), c.in(2), axis(c, x.rank()));
        QTensor y = QTensor.quantize(x, q);
        assertCodes(c, y.shape(), y.codes(), q.type());
    }

    private static void runDequantize(Case c) {
        Tensor x = c.in(0);
        QuantParams q = params(c.in(1), c.in(2), axis(c, x.rank()));
        Tensor y = codes(x, q).dequantize();
        Tensor e = c.expected();
        assertEquals(DType.FLOAT32, e.dtype(), c.name() + ": output type");
        assertShape(c, y.shape());
        List<String> diffs = new ArrayList<>();
        for (int i = 0; i < e.size(); i++) {
            // Bit-exact: (code - zp) * scale is a single float32 rounding in both implementations.
            if (Float.floatToIntBits(e.floats()[i]) != Float.floatToIntBits(y.floats()[i])) {
                diffs.add("[" + i + "] " + y.floats()[i] + " expected " + e.floats()[i]);
            }
        }
        report(c, e.size(), diffs);
    }

    /** QuantizeLinear/DequantizeLinear's axis (default 1), normalised; irrelevant for per-tensor. */
    private static int axis(Case c, int rank) {
        int a = (int) c.node().attrInt("axis", 1);
        return a < 0 ? a + rank : a;
    }

    // ---- helpers ----

    /** Scale and zero point tensors (scalar or 1-D) as params; a missing zero point is 0 of uint8. */
    private static QuantParams params(Tensor scale, Tensor zero, int axis) {
        float[] s = scale.floats().clone();
        long[] z = new long[s.length];
        DType type = DType.UINT8;
        if (zero != null) {
            type = zero.dtype();
            for (int i = 0; i < z.length; i++) {
                z[i] = zero.getLong(zero.size() == 1 ? 0 : i);
            }
        }
        return new QuantParams(type, s, z, axis);
    }

    private static QTensor codes(Tensor t, QuantParams q) {
        long[] v = t.longs();
        int[] c = new int[v.length];
        for (int i = 0; i < c.length; i++) {
            c[i] = Math.toIntExact(v[i]);
        }
        return new QTensor(t.shape(), c, q);
    }

    /** Per output channel, as the compiler forms them: M in double, and in float32 as ORT does. */
    private static Requantizer[] requantizers(QuantParams xq, QuantParams wq, QuantParams yq, int channels) {
        Requantizer[] r = new Requantizer[channels];
        for (int c = 0; c < channels; c++) {
            float sw = wq.scale(c);
            r[c] = new Requantizer(
                    (double) xq.scale(0) * sw / yq.scale(0), RequantMode.FLOAT, (xq.scale(0) * sw) / yq.scale(0));
        }
        return r;
    }

    private static void assertShape(Case c, int[] actual) {
        assertEquals(Arrays.toString(c.expected().shape()), Arrays.toString(actual), c.name() + ": output shape");
    }

    private static void assertCodes(Case c, int[] shape, int[] actual, DType type) {
        Tensor e = c.expected();
        assertEquals(e.dtype(), type, c.name() + ": output type");
        assertShape(c, shape);
        List<String> diffs = new ArrayList<>();
        for (int i = 0; i < e.size(); i++) {
            if (e.longs()[i] != actual[i]) {
                diffs.add("[" + i + "] " + actual[i] + " expected " + e.longs()[i]);
            }
        }
        report(c, e.size(), diffs);
    }

    private static void report(Case c, int total, List<String> diffs) {
        System.out.printf("%s: %d/%d elements equal%n", c.name(), total - diffs.size(), total);
        if (!diffs.isEmpty()) {
            fail(c.name() + ": " + diffs.size() + " of " + total + " elements differ: "
                    + String.join(", ", diffs.subList(0, Math.min(20, diffs.size())))
                    + (diffs.size() > 20 ? ", ..." : ""));
        }
    }
}
