package dev.layerprobe.host.analyze;

import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.onnx.Onnx.ModelProto;
import dev.layerprobe.onnx.Onnx.NodeProto;
import dev.layerprobe.onnx.Onnx.TensorProto;
import dev.layerprobe.simulator.Layer;
import dev.layerprobe.simulator.graph.Graph;
import dev.layerprobe.simulator.graph.Node;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * How unevenly a layer's weights spread over its output channels: what a per-tensor weight scale
 * costs the channels with small weights, the evidence behind the hot-spot advice to quantize per channel.
 */
final class WeightSpread {
    private WeightSpread() {}

    /**
     * max/min over output channels of max|w| (channels with max|w| = 0 left out), when the layer's
     * weight is quantized per tensor in the quantized model; 0 otherwise. The float program's
     * weight is used when it has one of that name, so channels that rounded to zero still count.
     */
    static double of(Layer l, HotSpots.Sources s, Map<String, Integer> weightScales) {
        Graph g = s.sim().graph();
        Node main = null;
        for (Node n : g.nodes()) {
            if (n.opType().equals(l.op())
                    && (l.fusedNodes().contains(n.name()) || n.outputs().contains(l.name()))) {
                main = n;
                break;
            }
        }
        if (main == null || main.inputs().size() < 2) {
            return 0;
        }
        String w = main.input(1);
        Integer scales = weightScales.get(w);
        if (scales == null || scales != 1 || !g.isConstant(w)) {
            return 0;
        }
        Tensor t = g.constant(w);
        if (s.floatProgram() != null && s.floatProgram().graph().isConstant(w)) {
            Tensor f = s.floatProgram().graph().constant(w);
            if (Arrays.equals(f.shape(), t.shape())) {
                t = f;
            }
        }
        int rank = t.rank();
        if (rank < 1 || !t.isFloating()) {
            return 0;
        }
        int axis = switch (main.opType()) {
            case "Conv" -> 0;
            case "ConvTranspose" -> rank > 1 ? 1 : 0;
            case "Gemm" -> main.attrInt("transB", 0) != 0 ? 0 : rank - 1;
            case "MatMul" -> rank - 1;
            default -> -1;
        };
        if (axis < 0) {
            return 0;
        }
        return channelSpread(t.floats(), t.shape(), axis);
    }

    /** max/min over channels of {@code axis} of max|w|, leaving out all-zero channels; 0 with fewer than two. */
    static double channelSpread(float[] w, int[] shape, int axis) {
        int channels = shape[axis];
        long inner = 1;
        for (int i = axis + 1; i < shape.length; i++) {
            inner *= shape[i];
        }
        double[] max = new double[channels];
        for (int i = 0; i < w.length; i++) {
            int c = (int) ((i / inner) % channels);
            max[c] = Math.max(max[c], Math.abs(w[i]));
        }
        double lo = Double.POSITIVE_INFINITY;
        double hi = 0;
        int n = 0;
        for (double m : max) {
            if (m > 0) {
                lo = Math.min(lo, m);
                hi = Math.max(hi, m);
                n++;
            }
        }
        return n < 2 ? 0 : hi / lo;
    }

    /** DequantizeLinear outputs of the model to the number of elements of their scale. */
    static Map<String, Integer> scaleSizes(ModelProto m) {
        Map<String, Integer> out = new HashMap<>();
        if (m == null) {
            return out;
        }
        Map<String, Integer> sizes = new HashMap<>();
        for (TensorProto t : m.getGraph().getInitializerList()) {
            long n = 1;
            for (long d : t.getDimsList()) {
                n *= d;
            }
            sizes.put(t.getName(), (int) n);
        }
        for (NodeProto n : m.getGraph().getNodeList()) {
            if (n.getOpType().equals("DequantizeLinear") && n.getInputCount() > 1 && n.getOutputCount() > 0) {
                Integer size = sizes.get(n.getInput(1));
                if (size != null) {
                    out.put(n.getOutput(0), size);
                }
            }
        }
        return out;
    }
}
