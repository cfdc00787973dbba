package dev.layerprobe.simulator.compiler;

import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.core.tensor.QTensor;
import dev.layerprobe.core.tensor.QuantParams;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.LayerExec;
import dev.layerprobe.simulator.Placement;
import dev.layerprobe.simulator.graph.Graph;
import dev.layerprobe.simulator.graph.Node;
import dev.layerprobe.simulator.kernels.FloatKernel;
import dev.layerprobe.simulator.kernels.FloatKernels;
import dev.layerprobe.simulator.kernels.quantized.OrtFloatConv;
import dev.layerprobe.simulator.kernels.quantized.QAdd;
import dev.layerprobe.simulator.kernels.quantized.QConv;
import dev.layerprobe.simulator.kernels.quantized.QGemm;
import dev.layerprobe.simulator.kernels.quantized.QGlobalAveragePool;
import dev.layerprobe.simulator.kernels.quantized.QLut;
import dev.layerprobe.simulator.kernels.quantized.QMul;
import dev.layerprobe.simulator.kernels.quantized.QuantizedValues;
import dev.layerprobe.simulator.kernels.quantized.Requantizer;
import dev.layerprobe.simulator.ops.NpuForm;
import dev.layerprobe.simulator.ops.OpTraits;
import dev.layerprobe.simulator.profile.DeviceProfile;
import dev.layerprobe.simulator.profile.Fault;
import dev.layerprobe.simulator.profile.RequantMode;
import dev.layerprobe.simulator.quant.QuantSpec;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * Binds a layer of a quantized program to integer kernels (placement NPU), or, for ops an NPU
 * leaves to the CPU and layers whose quantization is incomplete, to float kernels between a
 * dequantize and a quantize (placement CPU), per docs/architecture.md#numerics. Which form each op takes is its row in
 * {@link OpTraits}: the integer kernels below, data movement (codes moved exactly, then rescaled if
 * needed) or a lookup table.
 */
final class QuantizedLayers {
    record Built(LayerExec exec, Placement placement) {}

    private QuantizedLayers() {}

    /**
     * @param pattern the name of a fused unary pattern (HardSwish, Gelu, ...) the nodes compute, or
     *                null for an op with optional fused activation
     */
    static Built build(
            Graph g,
            List<Node> original,
            List<String> inputs,
            QuantSpec spec,
            DeviceProfile profile,
            List<Fault> faults,
            String pattern) {
        FaultedKernels fk = new FaultedKernels(faults);
        Built b = build(g, original, inputs, spec, profile, faults, pattern, fk);
        if (b.placement() == Placement.NPU) {
            return new Built(fk.inputs(b.exec()), b.placement());
        }
        // Device faults live in the NPU: a layer the CPU runs stays correct, also when a fault
        // rewrote its nodes (a DepthToSpace mode) before the binding fell back to the CPU.
        return faults.isEmpty()
                ? b
                : build(g, original, inputs, spec, profile, List.of(), pattern, new FaultedKernels(List.of()));
    }

    private static Built build(
            Graph g,
            List<Node> original,
            List<String> inputs,
            QuantSpec spec,
            DeviceProfile profile,
            List<Fault> faults,
            String pattern,
            FaultedKernels fk) {
        List<Node> nodes = NpuCompiler.withFaults(original, faults);
        Node main = nodes.get(0);
        Node last = nodes.get(nodes.size() - 1);
        QuantParams outQ = spec.activation(last.output(0));
        List<QuantParams> inQ = new ArrayList<>();
        boolean complete = outQ != null && outQ.isPerTensor() && last.outputs().size() == 1;
        for (String in : inputs) {
            QuantParams q = spec.activation(in);
            inQ.add(q);
            complete &= q != null && q.isPerTensor();
        }
        if (RecurrentLayers.OPS.contains(main.opType())) {
            Built r = RecurrentLayers.build(g, nodes, inputs, spec, profile, fk);
            return r != null ? r : cpu(g, nodes, inputs, spec);
        }
        if (LayerNormFusion.NAME.equals(pattern)) {
            Built ln =
                    complete ? TransformerLayers.speltLayerNorm(g, nodes, inQ.get(0), outQ, profile.requant()) : null;
            return ln != null ? ln : cpu(g, nodes, inputs, spec);
        }
        if (complete && pattern != null && inputs.size() == 1) {
            return lut(g, nodes, inputs, inQ.get(0), outQ, fk);
        }
        if (complete && profile.requant() == RequantMode.FLOAT) {
            Built ort = OrtCpuLayers.layer(g, nodes, inputs, spec, inQ, outQ);
            if (ort != null) {
                return ort;
            }
        }
        NpuForm form = OpTraits.of(main.opType()).form();
        if (!complete || !form.onNpu()) {
            return cpu(g, nodes, inputs, spec);
        }
        RequantMode mode = profile.requant();
        long[] clamp = clampRange(g, nodes, outQ);
        long lo = clamp[0];
        long hi = clamp[1];
        Node act = nodes.size() > 1 ? nodes.get(1) : null;
        String op = main.opType();
        switch (op) {
            case "Conv": {
                QTensor w = spec.constantCodes(main.input(1));
                if (w == null || inputs.size() != 1 || (w.shape().length != 4 && w.shape().length != 3)) {
                    return cpu(g, nodes, inputs, spec);
                }
                // A Conv over one axis runs as a 2-D one of height 1 (Conv1dLayers).
                boolean oneAxis = w.shape().length == 3;
                Node conv = oneAxis ? Conv1dLayers.as2d(main) : main;
                if (oneAxis) {
                    int[] s = w.shape();
                    w = new QTensor(new int[] {s[0], s[1], 1, s[2]}, w.codes(), w.params());
                }
                QuantParams xq = inQ.get(0);
                int oc = w.shape()[0];
                if (OrtCpuLayers.leavesUnfused(g, nodes, inputs, mode, outQ) && !fk.changesAccumulation()) {
                    OrtFloatConv fc = new OrtFloatConv(
                            conv, w, floatBias(g, spec, main.hasInput(2) ? main.input(2) : null, oc), xq, outQ, lo, hi);
                    return npu(args -> single(convRun(oneAxis, fc::run, QuantizedValues.codesOf(args[0], xq))));
                }
                long[] bias = fk.bias(accBias(g, spec, main.hasInput(2) ? main.input(2) : null, xq, w.params(), oc));
                int[] wZero = new int[oc];
                for (int c = 0; c < oc; c++) {
                    wZero[c] = (int) w.params().zeroPoint(w.params().isPerTensor() ? 0 : c);
                }
                bias = fk.zeroPointBias(bias, xq, w.codes(), wZero, w.codes().length / oc);
                Requantizer[] rq = fk.requantizers(requantizers(xq, w.params(), outQ, oc, mode));
                QConv qc = new QConv(conv, w, bias, rq, xq, outQ, lo, hi, fk.wrapInt16());
                return npu(args -> single(convRun(oneAxis, qc::run, QuantizedValues.codesOf(args[0], xq))));
            }
            case "Gemm": {
                QTensor b = spec.constantCodes(main.input(1));
                if (b == null
                        || inputs.size() != 1
                        || main.attrFloat("alpha", 1f) != 1f
                        || main.attrFloat("beta", 1f) != 1f
                        || b.shape().length != 2) {
                    return cpu(g, nodes, inputs, spec);
                }
                boolean transB = main.attrInt("transB", 0) != 0;
                int n = transB ? b.shape()[0] : b.shape()[1];
                int k = transB ? b.shape()[1] : b.shape()[0];
                if (main.hasInput(2) && !isChannelBias(g.constant(main.input(2)), n)) {
                    return cpu(g, nodes, inputs, spec); // C varies by row, or is computed: not an accumulator bias
                }
                QuantParams bq = b.params();
                if (!bq.isPerTensor() && bq.axis() != (transB ? 0 : 1)) {
                    return cpu(g, nodes, inputs, spec);
                }
                int[] bt = new int[n * k];
                int[] zp = new int[n];
                for (int j = 0; j < n; j++) {
                    zp[j] = (int) bq.zeroPoint(j);
                    for (int t = 0; t < k; t++) {
                        bt[j * k + t] = transB ? b.codes()[j * k + t] : b.codes()[t * n + j];
                    }
                }
                QuantParams xq = inQ.get(0);
                long[] bias = fk.bias(accBias(g, spec, main.hasInput(2) ? main.input(2) : null, xq, bq, n));
                bias = fk.zeroPointBias(bias, xq, bt, zp, k);
                Requantizer[] rq = fk.requantizers(requantizers(xq, bq, outQ, n, mode));
                QGemm gemm = new QGemm(
                        bt, n, k, zp, bias, rq, xq, outQ, lo, hi, main.attrInt("transA", 0) != 0, fk.wrapInt16());
                return npu(args -> single(gemm.run(QuantizedValues.codesOf(args[0], xq))));
            }
            case "Add":
            case "Sub": {
                if (inputs.size() != 2
                        || !main.input(0).equals(inputs.get(0))
                        || !main.input(1).equals(inputs.get(1))) {
                    return cpu(g, nodes, inputs, spec);
                }
                QAdd add = new QAdd(
                        fk.inputForArithmetic(inQ.get(0)),
                        fk.inputForArithmetic(inQ.get(1)),
                        outQ,
                        mode,
                        lo,
                        hi,
                        op.equals("Sub"),
                        OrtCpuLayers.leavesUnfused(g, nodes, inputs, mode, outQ),
                        fk.shiftDelta());
                return npu(args -> single(add.run(
                        QuantizedValues.codesOf(args[0], inQ.get(0)), QuantizedValues.codesOf(args[1], inQ.get(1)))));
            }
            case "Mul": {
                if (inputs.size() != 2
                        || !main.input(0).equals(inputs.get(0))
                        || !main.input(1).equals(inputs.get(1))) {
                    return cpu(g, nodes, inputs, spec);
                }
                QMul mul = new QMul(inQ.get(0), inQ.get(1), outQ, mode, lo, hi, fk.shiftDelta());
                return npu(args -> single(mul.run(
                        QuantizedValues.codesOf(args[0], inQ.get(0)), QuantizedValues.codesOf(args[1], inQ.get(1)))));
            }
            case "Relu":
            case "Clip": {
                QuantParams xq = inQ.get(0);
                return npu(args -> {
                    QTensor x = QuantizedValues.codesOf(args[0], xq);
                    return single(
                            new QTensor(x.shape(), QuantizedValues.rescale(x.codes(), xq, outQ, mode, lo, hi), outQ));
                });
            }
            case "GlobalAveragePool": {
                QuantParams xq = inQ.get(0);
                QGlobalAveragePool pool =
                        new QGlobalAveragePool(fk.inputForArithmetic(xq), outQ, mode, lo, hi, fk.shiftDelta());
                return npu(args -> single(pool.run(QuantizedValues.codesOf(args[0], xq))));
            }
            case "MatMul":
            case "Softmax":
            case "LayerNormalization": {
                Built t = TransformerLayers.build(g, nodes, inputs, spec, inQ, outQ, mode, lo, hi, fk);
                return t != null ? t : cpu(g, nodes, inputs, spec);
            }
            case "Concat": {
                FloatKernel k = FloatKernels.create(main, g.opset());
                if (act != null || inputs.size() != main.inputs().size()) {
                    return cpu(g, nodes, inputs, spec);
                }
                return npu(args -> {
                    Tensor[] parts = new Tensor[args.length];
                    for (int i = 0; i < args.length; i++) {
                        QTensor x = QuantizedValues.codesOf(args[i], inQ.get(i));
                        parts[i] = QuantizedValues.codesAsFloats(new QTensor(
                                x.shape(),
                                QuantizedValues.rescale(x.codes(), inQ.get(i), outQ, mode, outQ.qmin(), outQ.qmax()),
                                outQ));
                    }
                    Tensor y = k.run(parts)[0];
                    return single(new QTensor(y.shape(), QuantizedValues.floatsAsCodes(y), outQ));
                });
            }
            default:
                break;
        }
        if (form == NpuForm.DATA_MOVEMENT
                && act == null
                && inputs.size() == 1
                && main.input(0).equals(inputs.get(0))) {
            QuantParams xq = inQ.get(0);
            Node moving = op.equals("Pad") ? padWithZeroPointCode(g, main, xq) : main;
            FloatKernel k = FloatKernels.create(moving, g.opset());
            Map<String, Tensor> constants = constantsOf(g, main);
            if (op.equals("Pad") && main.hasInput(2) && constants.containsKey(main.input(2))) {
                float value = (float) constants.get(main.input(2)).getDouble(0);
                constants.put(main.input(2), Tensor.scalar((float) xq.quantize(value, 0)));
            }
            return npu(args -> {
                QTensor x = QuantizedValues.codesOf(args[0], xq);
                boolean padsWithValue = op.equals("Pad") && g.opset() >= 11;
                Tensor[] in = new Tensor
                        [padsWithValue
                                ? Math.max(3, main.inputs().size())
                                : main.inputs().size()];
                in[0] = QuantizedValues.codesAsFloats(x);
                for (int i = 1; i < main.inputs().size(); i++) {
                    in[i] = main.hasInput(i) ? constants.get(main.input(i)) : null;
                }
                if (padsWithValue && in[2] == null) {
                    in[2] = Tensor.scalar((float) xq.zeroPoint(0));
                }
                Tensor y = k.run(in)[0];
                int[] codes = QuantizedValues.floatsAsCodes(y);
                if (!xq.sameMapping(outQ)) {
                    codes = QuantizedValues.rescale(codes, xq, outQ, mode, outQ.qmin(), outQ.qmax());
                }
                return single(new QTensor(y.shape(), codes, outQ));
            });
        }
        if (form == NpuForm.LUT
                && act == null
                && inputs.size() == 1
                && main.inputs().size() == 1) {
            FloatKernel k = FloatKernels.create(main, g.opset());
            QuantParams xq = inQ.get(0);
            QLut lut = fk.lut(new QLut(
                    x -> k.run(new Tensor[] {Tensor.ofFloats(new int[] {1}, new float[] {(float) x})})[0]
                            .floats()[0],
                    xq,
                    outQ,
                    lo,
                    hi));
            return npu(args -> single(lut.run(QuantizedValues.codesOf(args[0], xq))));
        }
        return cpu(g, nodes, inputs, spec);
    }

    /** A unary layer (one op or a fused pattern of several) as a table over every input code. */
    private static Built lut(
            Graph g, List<Node> nodes, List<String> inputs, QuantParams xq, QuantParams outQ, FaultedKernels fk) {
        FloatKernel[] kernels = new FloatKernel[nodes.size()];
        for (int i = 0; i < kernels.length; i++) {
            kernels[i] = FloatKernels.create(nodes.get(i), g.opset());
        }
        Map<String, Tensor> constants = new HashMap<>();
        nodes.forEach(n -> constants.putAll(constantsOf(g, n)));
        QLut lut = fk.lut(new QLut(
                x -> FloatLayers.evaluate(nodes, kernels, constants, inputs, new Tensor[] {
                            Tensor.ofFloats(new int[] {1}, new float[] {(float) x})
                        })[0]
                        .toFloat()
                        .floats()[0],
                xq,
                outQ,
                outQ.qmin(),
                outQ.qmax()));
        return npu(args -> single(lut.run(QuantizedValues.codesOf(args[0], xq))));
    }

    /**
     * Pad on codes must pad with the code of the real pad value (the zero point for 0), not with
     * the value itself; before opset 11 that value is an attribute.
     */
    private static Node padWithZeroPointCode(Graph g, Node pad, QuantParams xq) {
        if (g.opset() >= 11) {
            return pad;
        }
        Node copy = new Node(pad.name(), pad.opType(), pad.domain(), pad.inputs(), pad.outputs(), pad.attributes());
        copy.attributes().put("value", dev.layerprobe.simulator.graph.Attribute.ofFloat((float)
                xq.quantize(pad.attrFloat("value", 0f), 0)));
        return copy;
    }

    /** A 2-D Conv kernel on x, or on x as a height-1 image for a Conv over one axis. */
    private static QTensor convRun(boolean oneAxis, UnaryOperator<QTensor> kernel, QTensor x) {
        return oneAxis ? Conv1dLayers.dropHeight(kernel.apply(Conv1dLayers.unitHeight(x))) : kernel.apply(x);
    }

    private static Built npu(LayerExec exec) {
        return new Built(exec, Placement.NPU);
    }

    static LayerValue[] single(QTensor t) {
        return new LayerValue[] {LayerValue.of(t)};
    }

    /** Float kernels between a dequantize and a quantize (of each output that has quantization). */
    private static Built cpu(Graph g, List<Node> nodes, List<String> inputs, QuantSpec spec) {
        FloatKernel[] kernels = new FloatKernel[nodes.size()];
        for (int i = 0; i < kernels.length; i++) {
            kernels[i] = FloatKernels.create(nodes.get(i), g.opset());
        }
        Map<String, Tensor> constants = new HashMap<>();
        nodes.forEach(n -> constants.putAll(constantsOf(g, n)));
        List<String> outputs = nodes.get(nodes.size() - 1).outputs();
        return new Built(
                args -> {
                    Tensor[] out = FloatLayers.evaluate(nodes, kernels, constants, inputs, FloatLayers.real(args));
                    LayerValue[] v = new LayerValue[out.length];
                    for (int i = 0; i < v.length; i++) {
                        QuantParams q = i < outputs.size() ? spec.activation(outputs.get(i)) : null;
                        v[i] = q != null && out[i].isFloating()
                                ? LayerValue.of(QTensor.quantize(out[i].toFloat(), q))
                                : LayerValue.of(out[i]);
                    }
                    return v;
                },
                Placement.CPU);
    }

    private static Map<String, Tensor> constantsOf(Graph g, Node n) {
        return FloatLayers.constantsOf(g, n);
    }

    /** Output code range, narrowed by the layer's Relu/Clip (fused or standalone). */
    private static long[] clampRange(Graph g, List<Node> nodes, QuantParams outQ) {
        long lo = outQ.qmin();
        long hi = outQ.qmax();
        for (Node n : nodes) {
            float min = Float.NEGATIVE_INFINITY;
            float max = Float.POSITIVE_INFINITY;
            if (n.opType().equals("Relu")) {
                min = 0;
            } else if (n.opType().equals("Clip")) {
                if (g.opset() < 11) {
                    min = n.attrFloat("min", Float.NEGATIVE_INFINITY);
                    max = n.attrFloat("max", Float.POSITIVE_INFINITY);
                } else {
                    if (n.hasInput(1) && g.isConstant(n.input(1))) {
                        min = (float) g.constant(n.input(1)).getDouble(0);
                    }
                    if (n.hasInput(2) && g.isConstant(n.input(2))) {
                        max = (float) g.constant(n.input(2)).getDouble(0);
                    }
                }
            } else {
                continue;
            }
            lo = Math.max(lo, QuantizedValues.boundCode(min, outQ, true));
            hi = Math.min(hi, QuantizedValues.boundCode(max, outQ, false));
        }
        return new long[] {lo, hi};
    }

    /** The bias as ORT dequantizes it, {@code code * scale} in float32, or the float constant. */
    private static float[] floatBias(Graph g, QuantSpec spec, String bias, int channels) {
        if (bias == null) {
            return null;
        }
        float[] out = new float[channels];
        QTensor codes = spec.constantCodes(bias);
        Tensor real = g.constant(bias);
        boolean broadcast = real.size() == 1;
        for (int c = 0; c < channels; c++) {
            int i = broadcast ? 0 : c;
            if (codes != null) {
                QuantParams q = codes.params();
                int ch = q.isPerTensor() ? 0 : i;
                out[c] = (float) (codes.codes()[i] - q.zeroPoint(ch)) * q.scale(ch);
            } else {
                out[c] = (float) real.getDouble(i);
            }
        }
        return out;
    }

    private static Requantizer[] requantizers(
            QuantParams xq, QuantParams wq, QuantParams yq, int channels, RequantMode mode) {
        Requantizer[] r = new Requantizer[channels];
        for (int c = 0; c < channels; c++) {
            float sw = wq.scale(wq.isPerTensor() ? 0 : c);
            double m = (double) xq.scale(0) * sw / yq.scale(0);
            float mf = (xq.scale(0) * sw) / yq.scale(0);
            r[c] = new Requantizer(m, mode, mf);
        }
        return r;
    }

    /**
     * Bias in accumulator units ({@code s_x * s_w[c]}): the int32 codes as they are when their scale
     * is that product (as quantizers write them), else the real bias re-quantized to it.
     */
    private static long[] accBias(Graph g, QuantSpec spec, String bias, QuantParams xq, QuantParams wq, int channels) {
        long[] out = new long[channels];
        if (bias == null) {
            return out;
        }
        QTensor codes = spec.constantCodes(bias);
        Tensor real = g.constant(bias);
        boolean broadcast = real.size() == 1;
        for (int c = 0; c < channels; c++) {
            int i = broadcast ? 0 : c;
            float accScale = xq.scale(0) * wq.scale(wq.isPerTensor() ? 0 : c);
            if (codes != null
                    && codes.params().zeroPoint(codes.params().isPerTensor() ? 0 : i) == 0
                    && codes.params().scale(codes.params().isPerTensor() ? 0 : i) == accScale) {
                out[c] = codes.codes()[i];
            } else {
                out[c] = (long) Math.rint(real.getDouble(i) / accScale);
            }
        }
        return out;
    }

    /** A Gemm C the integer kernel takes as its bias: a constant of one value or one per output column. */
    private static boolean isChannelBias(Tensor c, int columns) {
        return c != null && (c.size() == 1 || c.size() == columns);
    }
}
