package dev.layerprobe.simulator.compiler;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.QTensor;
import dev.layerprobe.core.tensor.QuantParams;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.Placement;
import dev.layerprobe.simulator.graph.Graph;
import dev.layerprobe.simulator.graph.Node;
import dev.layerprobe.simulator.kernels.quantized.QLayerNorm;
import dev.layerprobe.simulator.kernels.quantized.QMatMul;
import dev.layerprobe.simulator.kernels.quantized.QSoftmax;
import dev.layerprobe.simulator.kernels.quantized.QuantizedValues;
import dev.layerprobe.simulator.kernels.quantized.Requantizer;
import dev.layerprobe.simulator.profile.FaultKind;
import dev.layerprobe.simulator.profile.RequantMode;
import dev.layerprobe.simulator.quant.QuantSpec;
import java.util.List;

/**
 * Binds the layers of a transformer that integer NPUs run in integer arithmetic: MatMul (by a
 * constant weight, with its bias Add fused, or of two activations), Softmax and LayerNormalization,
 * to {@link QMatMul}, {@link QSoftmax} and {@link QLayerNorm} (placement NPU), for the {@code fixed}
 * requant mode. Under {@code requant: float} it binds nothing: those layers stay as ONNX Runtime's
 * CPU provider computes them ({@link OrtCpuLayers}), so the cross-check against ORT is unchanged.
 *
 * <p>A MatMul's constant B is used as the QDQ file quantizes it (codes behind DequantizeLinear);
 * a float B, as LayerProbe's own QDQ files keep it so that ONNX Runtime runs them as before, is
 * quantized here as an NPU toolchain quantizes weights when it converts the model: symmetric per
 * output channel (the last axis of B), {@code s_b[n] = max|B[:, n]| / qmax}, int8 (int16 for int16
 * layers), rounded half to even.
 */
final class TransformerLayers {
    private TransformerLayers() {}

    /** The layer on its integer kernel, or null where it has none (the caller falls back to the CPU). */
    static QuantizedLayers.Built build(
            Graph g,
            List<Node> nodes,
            List<String> inputs,
            QuantSpec spec,
            List<QuantParams> inQ,
            QuantParams outQ,
            RequantMode mode,
            long lo,
            long hi,
            FaultedKernels fk) {
        if (mode != RequantMode.FIXED) {
            return null;
        }
        Node main = nodes.get(0);
        if (!main.domain().isEmpty() || inputs.isEmpty() || !main.input(0).equals(inputs.get(0))) {
            return null;
        }
        return switch (main.opType()) {
            case "MatMul" -> matMul(g, nodes, inputs, spec, inQ, outQ, mode, lo, hi, fk);
            case "Softmax" ->
                nodes.size() == 1 && inputs.size() == 1 ? softmax(g, main, inQ.get(0), outQ, mode, fk) : null;
            case "LayerNormalization" ->
                nodes.size() == 1 && inputs.size() == 1 ? layerNorm(g, main, inQ.get(0), outQ, mode) : null;
            default -> null;
        };
    }

    private static QuantizedLayers.Built matMul(
            Graph g,
            List<Node> nodes,
            List<String> inputs,
            QuantSpec spec,
            List<QuantParams> inQ,
            QuantParams outQ,
            RequantMode mode,
            long lo,
            long hi,
            FaultedKernels fk) {
        Node main = nodes.get(0);
        QuantParams aq = inQ.get(0);
        Node add = nodes.size() > 1 && nodes.get(1).opType().equals("Add") ? nodes.get(1) : null;
        if (nodes.size() > (add != null ? 3 : 2)
                || (nodes.size() == 2 && add == null && !NpuCompiler.isFusableActivation(g, nodes.get(1)))) {
            return null;
        }
        if (inputs.size() == 2 && main.input(1).equals(inputs.get(1)) && add == null) {
            QuantParams bq = inQ.get(1);
            double m = (double) aq.scale(0) * bq.scale(0) / outQ.scale(0);
            QMatMul mm = new QMatMul(aq, bq, new Requantizer(m, mode), outQ, lo, hi, fk.transposedB());
            return npu(args -> QuantizedLayers.single(
                    mm.run(QuantizedValues.codesOf(args[0], aq), QuantizedValues.codesOf(args[1], bq))));
        }
        if (inputs.size() != 1 || !g.isConstant(main.input(1))) {
            return null;
        }
        QTensor w = spec.constantCodes(main.input(1));
        if (w == null) {
            Tensor b = g.constant(main.input(1));
            if (!b.isFloating() || b.rank() != 2) {
                return null;
            }
            w = perColumn(b.toFloat(), aq.type() == DType.INT16 ? DType.INT16 : DType.INT8);
        }
        if (w.shape().length != 2 || (!w.params().isPerTensor() && w.params().axis() != 1)) {
            return null;
        }
        int n = w.shape()[1];
        QuantParams wq = w.params();
        long[] bias = null;
        if (add != null) {
            String other = add.input(0).equals(main.output(0)) ? add.input(1) : add.input(0);
            Tensor c = g.isConstant(other) ? g.constant(other) : null;
            if (c == null
                    || !c.isFloating()
                    || (c.size() != n && c.size() != 1)
                    || (c.rank() > 1 && c.dim(-1) != c.size())) {
                return null;
            }
            bias = new long[n];
            for (int j = 0; j < n; j++) {
                double accScale = (double) aq.scale(0) * wq.scale(wq.isPerTensor() ? 0 : j);
                bias[j] = Math.round(Math.rint(c.getDouble(c.size() == 1 ? 0 : j) / accScale));
            }
        }
        Requantizer[] rq = new Requantizer[n];
        for (int j = 0; j < n; j++) {
            rq[j] = new Requantizer((double) aq.scale(0) * wq.scale(wq.isPerTensor() ? 0 : j) / outQ.scale(0), mode);
        }
        QMatMul mm = new QMatMul(aq, w, bias, rq, outQ, lo, hi, fk.transposedB());
        return npu(args -> QuantizedLayers.single(mm.run(QuantizedValues.codesOf(args[0], aq))));
    }

    /** Symmetric codes per output column (axis 1) of a float [K, N] weight, as the class comment says. */
    static QTensor perColumn(Tensor b, DType type) {
        int k = b.shape()[0];
        int n = b.shape()[1];
        float[] v = b.floats();
        float[] scale = new float[n];
        for (int i = 0; i < v.length; i++) {
            scale[i % n] = Math.max(scale[i % n], Math.abs(v[i]));
        }
        for (int j = 0; j < n; j++) {
            scale[j] = scale[j] > 0 ? scale[j] / type.max() : 1f;
        }
        QuantParams q = new QuantParams(type, scale, new long[n], 1);
        int[] codes = new int[k * n];
        for (int i = 0; i < codes.length; i++) {
            codes[i] = (int) q.quantize(v[i], i % n);
        }
        return new QTensor(b.shape(), codes, q);
    }

    private static QuantizedLayers.Built softmax(
            Graph g, Node n, QuantParams xq, QuantParams outQ, RequantMode mode, FaultedKernels fk) {
        Long axis = n.attr("axis") == null ? null : n.attrInt("axis", 0);
        QSoftmax softmax = new QSoftmax(xq, outQ, g.opset(), axis, mode, fk.has(FaultKind.SOFTMAX_NO_MAX_SUBTRACT));
        return npu(args -> QuantizedLayers.single(softmax.run(QuantizedValues.codesOf(args[0], xq))));
    }

    private static QuantizedLayers.Built layerNorm(
            Graph g, Node n, QuantParams xq, QuantParams outQ, RequantMode mode) {
        if (n.outputs().size() != 1 || !g.isConstant(n.input(1)) || (n.hasInput(2) && !g.isConstant(n.input(2)))) {
            return null;
        }
        Tensor scale = g.constant(n.input(1));
        Tensor bias = n.hasInput(2) ? g.constant(n.input(2)) : null;
        if (!scale.isFloating() || (bias != null && (!bias.isFloating() || bias.size() != scale.size()))) {
            return null;
        }
        QLayerNorm ln = new QLayerNorm(
                scale.toFloat().floats(),
                bias == null ? null : bias.toFloat().floats(),
                n.attrInt("axis", -1),
                n.attrFloat("epsilon", 1e-5f),
                xq,
                outQ,
                mode);
        return npu(args -> QuantizedLayers.single(ln.run(QuantizedValues.codesOf(args[0], xq))));
    }

    /** A spelt-out LayerNormalization ({@link LayerNormFusion}) on the same integer kernel, or null. */
    static QuantizedLayers.Built speltLayerNorm(
            Graph g, List<Node> nodes, QuantParams xq, QuantParams outQ, RequantMode mode) {
        if (mode != RequantMode.FIXED) {
            return null;
        }
        LayerNormFusion.Params p = LayerNormFusion.params(g, nodes);
        float[] gamma =
                p.scale() == null ? new float[] {1f} : p.scale().toFloat().floats();
        float[] beta = p.bias() == null ? null : p.bias().toFloat().floats();
        if (beta != null && beta.length != gamma.length) {
            if (gamma.length != 1 && beta.length != 1) {
                return null;
            }
            int h = Math.max(gamma.length, beta.length);
            gamma = expand(gamma, h);
            beta = expand(beta, h);
        }
        QLayerNorm ln = new QLayerNorm(gamma, beta, -1, p.epsilon(), xq, outQ, mode);
        return npu(args -> QuantizedLayers.single(ln.run(QuantizedValues.codesOf(args[0], xq))));
    }

    /** One value repeated h times, or the values as they are. */
    private static float[] expand(float[] v, int h) {
        if (v.length == h) {
            return v;
        }
        float[] out = new float[h];
        java.util.Arrays.fill(out, v[0]);
        return out;
    }

    private static QuantizedLayers.Built npu(dev.layerprobe.simulator.LayerExec exec) {
        return new QuantizedLayers.Built(exec, Placement.NPU);
    }
}
