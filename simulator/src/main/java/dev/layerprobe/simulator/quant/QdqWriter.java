package dev.layerprobe.simulator.quant;

import dev.layerprobe.onnx.Onnx.ModelProto;
import dev.layerprobe.simulator.Layer;
import dev.layerprobe.simulator.NpuProgram;
import dev.layerprobe.simulator.SimulatorException;
import dev.layerprobe.simulator.SimulatorException.Code;
import dev.layerprobe.simulator.graph.Attribute;
import dev.layerprobe.simulator.graph.Graph;
import dev.layerprobe.simulator.graph.Node;
import dev.layerprobe.simulator.graph.ValueInfo;
import dev.layerprobe.simulator.onnx.OnnxGraphs;
import dev.layerprobe.simulator.tensor.DType;
import dev.layerprobe.simulator.tensor.QTensor;
import dev.layerprobe.simulator.tensor.QuantParams;
import dev.layerprobe.simulator.tensor.Tensor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes the quantized model as QDQ ONNX (DESIGN §5): the compiled float graph with
 * QuantizeLinear/DequantizeLinear pairs on every graph input and layer output, and weights stored
 * as integer initializers behind DequantizeLinear. Graph outputs keep their names, as in ONNX
 * Runtime's quantizer ({@code T_QuantizeLinear_Input -> Q -> DQ -> T}).
 *
 * <p>Quantization rules, stated here once:
 * <ul>
 *   <li>activations: asymmetric per tensor over the calibrated range widened to include 0,
 *       {@code scale = (max - min) / (qmax - qmin)}, {@code zp = round(qmin - min / scale)};
 *       data-movement layers (DepthToSpace, Reshape, Flatten, Transpose, MaxPool, ...) reuse their
 *       input's scale and zero point so they stay exact;</li>
 *   <li>weights (Conv W, Gemm B): symmetric, {@code scale = max|w| / qmax} with codes in
 *       [-qmax, qmax], per output channel (axis 0 of W; axis 0 of B when transB, else 1) unless
 *       per-tensor is asked or the opset (&lt; 13) has no per-axis DequantizeLinear;</li>
 *   <li>biases: int32 at scale {@code s_x * s_w[c]}, zero point 0.</li>
 * </ul>
 */
public final class QdqWriter {
    private static final Set<String> KEEPS_INPUT_QUANT = Set.of("DepthToSpace", "SpaceToDepth", "Flatten", "Reshape",
            "Transpose", "Squeeze", "Unsqueeze", "Identity", "MaxPool", "GlobalMaxPool", "Slice");

    private QdqWriter() {
    }

    public static ModelProto write(NpuProgram floatProgram, Calibration calibration, QuantConfig config)
            throws SimulatorException {
        if (floatProgram.isQuantized()) {
            throw new IllegalArgumentException("the program is already quantized");
        }
        Graph g = floatProgram.graph();
        boolean perChannel = config.perChannel() && g.opset() >= 13;
        Map<String, QuantParams> act = new HashMap<>();
        for (ValueInfo in : g.inputs()) {
            act.put(in.name(), activationParams(in.name(), calibration, config.activations()));
        }
        Set<String> layerOutputs = new HashSet<>();
        for (Layer l : floatProgram.layers()) {
            String name = l.name();
            layerOutputs.add(name);
            QuantParams inherited = KEEPS_INPUT_QUANT.contains(l.op()) && l.fusedOps().isEmpty()
                    && !l.inputs().isEmpty() ? act.get(l.inputs().get(0)) : null;
            if (inherited != null) {
                act.put(name, inherited);
            } else if (calibration.range(name) != null) {
                act.put(name, activationParams(name, calibration, config.activations()));
            }
        }

        Map<String, Tensor> constants = new LinkedHashMap<>(g.constants());
        List<Node> nodes = new ArrayList<>();
        Map<String, String> rename = new HashMap<>();
        for (ValueInfo in : g.inputs()) {
            String dq = in.name() + "_DequantizeLinear_Output";
            addQdq(nodes, constants, in.name(), in.name() + "_QuantizeLinear_Output", dq, act.get(in.name()));
            rename.put(in.name(), dq);
        }
        for (Node n : g.nodes()) {
            List<String> inputs = new ArrayList<>();
            for (String i : n.inputs()) {
                inputs.add(rename.getOrDefault(i, i));
            }
            if ((n.opType().equals("Conv") || n.opType().equals("Gemm")) && g.isConstant(n.input(1))) {
                quantizeWeights(n, inputs, constants, nodes, act.get(n.input(0)), config, perChannel);
            }
            List<String> outputs = new ArrayList<>(n.outputs());
            List<Node> after = new ArrayList<>();
            for (int i = 0; i < outputs.size(); i++) {
                String t = outputs.get(i);
                QuantParams q = layerOutputs.contains(t) ? act.get(t) : null;
                if (q == null) {
                    continue;
                }
                if (g.outputs().contains(t)) {
                    String pre = t + "_QuantizeLinear_Input";
                    outputs.set(i, pre);
                    addQdq(after, constants, pre, t + "_QuantizeLinear_Output", t, q);
                } else {
                    String dq = t + "_DequantizeLinear_Output";
                    addQdq(after, constants, t, t + "_QuantizeLinear_Output", dq, q);
                    rename.put(t, dq);
                }
            }
            Node copy = new Node(n.name(), n.opType(), n.domain(), inputs, outputs, n.attributes());
            nodes.add(copy);
            nodes.addAll(after);
        }
        Graph out = new Graph(g.name(), nodes, constants, g.inputs(), g.outputs(), g.opsets());
        out.pruneConstants();
        return OnnxGraphs.toModel(out, "layerprobe", Map.of());
    }

    /** Asymmetric per-tensor parameters from a calibrated range (see the class comment). */
    public static QuantParams activationParams(String tensor, Calibration c, DType type) throws SimulatorException {
        float[] r = c.range(tensor);
        if (r == null) {
            throw new SimulatorException(Code.INVALID_MODEL, "no calibration range for tensor '" + tensor + "'");
        }
        float min = Math.min(0f, r[0]);
        float max = Math.max(0f, r[1]);
        long qmin = type.min();
        long qmax = type.max();
        float scale = (max - min) / (float) (qmax - qmin);
        if (!(scale > 0) || Float.isInfinite(scale)) {
            scale = 1f;
        }
        long zp = Math.round(Math.rint(qmin - min / scale));
        zp = Math.max(qmin, Math.min(qmax, zp));
        return QuantParams.perTensor(type, scale, zp);
    }

    private static void quantizeWeights(Node n, List<String> inputs, Map<String, Tensor> constants, List<Node> nodes,
            QuantParams xq, QuantConfig config, boolean perChannel) {
        String wName = n.input(1);
        Tensor w = constants.get(wName);
        if (w == null || !w.isFloating() || xq == null) {
            return;
        }
        int axis = 0;
        if (n.opType().equals("Gemm")) {
            if (w.rank() != 2) {
                return;
            }
            axis = n.attrInt("transB", 0) != 0 ? 0 : 1;
        }
        QuantParams wq = weightParams(w, axis, config.weights(), perChannel);
        QTensor codes = QTensor.quantize(w.toFloat(), wq);
        String wq8 = wName + "_quantized";
        String wdq = wName + "_DequantizeLinear_Output";
        constants.put(wq8, codesTensor(codes, config.weights()));
        addDq(nodes, constants, wq8, wdq, wq);
        inputs.set(1, wdq);
        if (n.hasInput(2) && constants.get(n.input(2)) != null) {
            Tensor b = constants.get(n.input(2)).toFloat();
            int channels = w.dim(axis);
            if (b.size() == channels) {
                float[] s = new float[channels];
                long[] zp = new long[channels];
                long[] q = new long[channels];
                for (int c = 0; c < channels; c++) {
                    s[c] = xq.scale(0) * wq.scale(wq.isPerTensor() ? 0 : c);
                    q[c] = Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, Math.round(Math.rint(b.floats()[c] / (double) s[c]))));
                }
                QuantParams bq = new QuantParams(DType.INT32, s, zp, 0);
                String bName = n.input(2) + "_quantized";
                String bdq = n.input(2) + "_DequantizeLinear_Output";
                constants.put(bName, Tensor.ofLongs(DType.INT32, b.shape(), q));
                addDq(nodes, constants, bName, bdq, bq);
                inputs.set(2, bdq);
            }
        }
    }

    /** Symmetric weight parameters, per channel along axis or per tensor. */
    static QuantParams weightParams(Tensor w, int axis, DType type, boolean perChannel) {
        float[] x = w.toFloat().floats();
        long qmax = type.max();
        int[] shape = w.shape();
        int channels = perChannel ? shape[axis] : 1;
        int inner = 1;
        for (int i = axis + 1; i < shape.length; i++) {
            inner *= shape[i];
        }
        float[] absmax = new float[channels];
        for (int i = 0; i < x.length; i++) {
            int c = perChannel ? (i / inner) % shape[axis] : 0;
            absmax[c] = Math.max(absmax[c], Math.abs(x[i]));
        }
        float[] s = new float[channels];
        for (int c = 0; c < channels; c++) {
            s[c] = absmax[c] > 0 ? absmax[c] / qmax : 1f;
        }
        return new QuantParams(type, s, new long[channels], perChannel ? axis : 0);
    }

    private static Tensor codesTensor(QTensor q, DType type) {
        long[] l = new long[q.size()];
        for (int i = 0; i < l.length; i++) {
            l[i] = q.codes()[i];
        }
        return Tensor.ofLongs(type, q.shape(), l);
    }

    private static void addQdq(List<Node> nodes, Map<String, Tensor> constants, String in, String mid, String out,
            QuantParams q) {
        String scale = in + "_scale";
        String zp = in + "_zero_point";
        constants.put(scale, Tensor.scalar(q.scale(0)));
        constants.put(zp, Tensor.ofLongs(q.type(), new int[0], new long[] {q.zeroPoint(0)}));
        nodes.add(new Node(in + "_QuantizeLinear", "QuantizeLinear", "", List.of(in, scale, zp), List.of(mid), Map.of()));
        nodes.add(new Node(in + "_DequantizeLinear", "DequantizeLinear", "", List.of(mid, scale, zp), List.of(out), Map.of()));
    }

    private static void addDq(List<Node> nodes, Map<String, Tensor> constants, String codes, String out, QuantParams q) {
        String scale = codes + "_scale";
        String zp = codes + "_zero_point";
        Map<String, Attribute> attrs = new LinkedHashMap<>();
        if (q.isPerTensor()) {
            constants.put(scale, Tensor.scalar(q.scale(0)));
            constants.put(zp, Tensor.ofLongs(q.type(), new int[0], new long[] {q.zeroPoint(0)}));
        } else {
            constants.put(scale, Tensor.ofFloats(new int[] {q.scale().length}, q.scale()));
            constants.put(zp, Tensor.ofLongs(q.type(), new int[] {q.scale().length}, q.zeroPoint()));
            attrs.put("axis", Attribute.ofInt(q.axis()));
        }
        nodes.add(new Node(codes + "_DequantizeLinear", "DequantizeLinear", "", List.of(codes, scale, zp), List.of(out),
                attrs));
    }
}
