package dev.layerprobe.simulator.compiler;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.QuantParams;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.Placement;
import dev.layerprobe.simulator.graph.Graph;
import dev.layerprobe.simulator.graph.Node;
import dev.layerprobe.simulator.kernels.quantized.OrtFloatLayerNorm;
import dev.layerprobe.simulator.kernels.quantized.OrtFloatMatMul;
import dev.layerprobe.simulator.kernels.quantized.OrtQLinearMatMul;
import dev.layerprobe.simulator.kernels.quantized.OrtQLinearSoftmax;
import dev.layerprobe.simulator.kernels.quantized.QuantizedValues;
import dev.layerprobe.simulator.profile.RequantMode;
import dev.layerprobe.simulator.quant.QuantSpec;
import java.util.List;

/**
 * The CPU layers of a quantized program under the FLOAT requant mode (ONNX Runtime's CPU provider as
 * the device), where ORT computes a layer in a way a float kernel followed by quantization would miss
 * now and then: the layers it fuses into integer QLinear kernels, and those it runs with its own
 * float arithmetic. Each is reproduced here so that the simulator's codes are ORT's.
 */
final class OrtCpuLayers {
    private OrtCpuLayers() {}

    /**
     * The layer as ONNX Runtime computes it, or null when ORT's result is the generic one (a float
     * kernel between a dequantize and a quantize). The layer's inputs are completely quantized, per tensor.
     */
    static QuantizedLayers.Built layer(
            Graph g, List<Node> nodes, List<String> inputs, QuantSpec spec, List<QuantParams> inQ, QuantParams outQ) {
        Node main = nodes.get(0);
        if (fusesSoftmax(nodes, inputs, inQ, outQ)) {
            // Still a CPU layer; ONNX Runtime computes it with its integer QLinearSoftmax.
            QuantParams xq = inQ.get(0);
            Long axis = main.attr("axis") == null ? null : main.attrInt("axis", 0);
            OrtQLinearSoftmax softmax = new OrtQLinearSoftmax(xq, outQ, g.opset(), axis);
            return new QuantizedLayers.Built(
                    args -> QuantizedLayers.single(softmax.run(QuantizedValues.codesOf(args[0], xq))), Placement.CPU);
        }
        return matMulOrLayerNorm(g, nodes, inputs, spec, inQ, outQ);
    }

    /**
     * Whether ONNX Runtime (1.23, x86-64 CPU provider) leaves this layer as DequantizeLinear → float
     * op → QuantizeLinear instead of fusing it into a QLinear kernel, which the FLOAT requant mode
     * reproduces. Measured, not documented by ORT: with int8 activations, a Conv or Add that reads
     * or writes a tensor with several consumers (the skip connection of a residual block) is not
     * fused; with uint8 activations everything is.
     */
    static boolean leavesUnfused(Graph g, List<Node> nodes, List<String> inputs, RequantMode mode, QuantParams outQ) {
        if (mode != RequantMode.FLOAT || outQ.type() != DType.INT8) {
            return false;
        }
        for (String in : inputs) {
            if (g.consumers(in).size() > 1) {
                return true;
            }
        }
        return g.consumers(nodes.get(nodes.size() - 1).output(0)).size() > 1;
    }

    /**
     * Whether ONNX Runtime fuses this layer, DequantizeLinear → Softmax → QuantizeLinear, into its
     * QLinearSoftmax: one ONNX Softmax reading the layer input, int8 or uint8 on both sides.
     */
    private static boolean fusesSoftmax(
            List<Node> nodes, List<String> inputs, List<QuantParams> inQ, QuantParams outQ) {
        Node n = nodes.get(0);
        DType t = outQ.type();
        return nodes.size() == 1
                && n.opType().equals("Softmax")
                && n.domain().isEmpty()
                && inputs.size() == 1
                && n.input(0).equals(inputs.get(0))
                && inQ.get(0).type() == t
                && (t == DType.INT8 || t == DType.UINT8);
    }

    /**
     * For the FLOAT requant mode, a CPU layer built as ONNX Runtime computes it where a float kernel
     * followed by quantization would miss ORT's codes now and then; null for any other layer. One
     * ONNX node reading the layer inputs:
     * <ul>
     *   <li>MatMul of two int8 (or two uint8; uint8 by int8) activations with an output of A's
     *       type: ORT fuses it into QLinearMatMul, integer;</li>
     *   <li>MatMul of one activation by a float 2-D constant (no DequantizeLinear, so not fused):
     *       ORT's float SGEMM with B packed ahead;</li>
     *   <li>LayerNormalization with constant scale and bias: ORT's float arithmetic.</li>
     * </ul>
     */
    private static QuantizedLayers.Built matMulOrLayerNorm(
            Graph g, List<Node> nodes, List<String> inputs, QuantSpec spec, List<QuantParams> inQ, QuantParams outQ) {
        Node n = nodes.get(0);
        if (nodes.size() != 1
                || !n.domain().isEmpty()
                || n.outputs().size() != 1
                || inputs.isEmpty()
                || !n.input(0).equals(inputs.get(0))) {
            return null;
        }
        QuantParams aq = inQ.get(0);
        DType t = outQ.type();
        boolean bytes = aq.type() == t && (t == DType.INT8 || t == DType.UINT8);
        if (n.opType().equals("MatMul")
                && bytes
                && inputs.size() == 2
                && n.input(1).equals(inputs.get(1))) {
            QuantParams bq = inQ.get(1);
            if (bq.type() == DType.INT8 || (bq.type() == DType.UINT8 && t == DType.UINT8)) {
                OrtQLinearMatMul mm = new OrtQLinearMatMul(aq, bq, outQ);
                return new QuantizedLayers.Built(
                        args -> QuantizedLayers.single(
                                mm.run(QuantizedValues.codesOf(args[0], aq), QuantizedValues.codesOf(args[1], bq))),
                        Placement.CPU);
            }
        }
        if (n.opType().equals("MatMul")
                && inputs.size() == 1
                && g.isConstant(n.input(1))
                && spec.constantCodes(n.input(1)) == null
                && g.constant(n.input(1)).rank() == 2
                && g.constant(n.input(1)).isFloating()) {
            Tensor b = g.constant(n.input(1));
            OrtFloatMatMul mm = new OrtFloatMatMul(b.toFloat().floats(), b.shape()[0], b.shape()[1], aq, outQ);
            return new QuantizedLayers.Built(
                    args -> QuantizedLayers.single(mm.run(QuantizedValues.codesOf(args[0], aq))), Placement.CPU);
        }
        if (n.opType().equals("LayerNormalization")
                && inputs.size() == 1
                && g.isConstant(n.input(1))
                && (!n.hasInput(2) || g.isConstant(n.input(2)))) {
            Tensor bias = n.hasInput(2) ? g.constant(n.input(2)) : null;
            long axis = n.attrInt("axis", -1);
            float epsilon = n.attrFloat("epsilon", 1e-5f);
            OrtFloatLayerNorm ln = new OrtFloatLayerNorm(
                    g.constant(n.input(1)).toFloat().floats(),
                    bias == null ? null : bias.toFloat().floats(),
                    axis,
                    epsilon,
                    aq,
                    outQ);
            return new QuantizedLayers.Built(
                    args -> QuantizedLayers.single(ln.run(QuantizedValues.codesOf(args[0], aq))), Placement.CPU);
        }
        return null;
    }
}
