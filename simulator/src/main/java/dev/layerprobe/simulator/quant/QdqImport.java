package dev.layerprobe.simulator.quant;

import dev.layerprobe.simulator.SimulatorException;
import dev.layerprobe.simulator.SimulatorException.Code;
import dev.layerprobe.simulator.graph.Graph;
import dev.layerprobe.simulator.graph.Node;
import dev.layerprobe.simulator.tensor.DType;
import dev.layerprobe.simulator.tensor.QTensor;
import dev.layerprobe.simulator.tensor.QuantParams;
import dev.layerprobe.simulator.tensor.Tensor;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * Reads the quantization out of a QDQ graph and removes its QuantizeLinear/DequantizeLinear
 * nodes, leaving the float graph the compiler works on plus a {@link QuantSpec}.
 *
 * <p>Recognised forms (those of ONNX Runtime's quantizer and of {@link QdqWriter}):
 * an activation {@code t -> QuantizeLinear -> DequantizeLinear -> t'} (consumers of t' read t; when
 * t' is a graph output, t takes its name so layers keep the model's output names), and a constant
 * {@code codes -> DequantizeLinear -> w} (w becomes a float constant, its codes are kept).
 */
public final class QdqImport {
    private static final Set<DType> ACTIVATION_TYPES = EnumSet.of(DType.INT8, DType.UINT8, DType.INT16);
    private static final Set<DType> CONSTANT_TYPES = EnumSet.of(DType.INT8, DType.UINT8, DType.INT16, DType.INT32);

    private QdqImport() {
    }

    /** Extracts and removes the quantization nodes; the graph is modified in place. */
    public static QuantSpec extract(Graph g) throws SimulatorException {
        QuantSpec spec = new QuantSpec();
        List<Node> dqs = new ArrayList<>();
        for (Node n : g.nodes()) {
            if (n.opType().equals("DequantizeLinear")) {
                dqs.add(n);
            }
        }
        for (Node dq : dqs) {
            String x = dq.input(0);
            QuantParams q = params(g, dq, x);
            if (g.isConstant(x)) {
                Tensor codes = g.constant(x);
                requireType(dq, q.type(), CONSTANT_TYPES);
                int[] ints = new int[codes.size()];
                for (int i = 0; i < ints.length; i++) {
                    ints[i] = (int) codes.longs()[i];
                }
                QTensor qt = new QTensor(codes.shape(), ints, q);
                g.constants().put(dq.output(0), qt.dequantize());
                spec.putConstant(dq.output(0), qt);
                g.nodes().remove(dq);
                continue;
            }
            Node qn = g.producer(x);
            if (qn == null || !qn.opType().equals("QuantizeLinear")) {
                throw new SimulatorException(Code.UNSUPPORTED_QUANTIZATION, "DequantizeLinear '" + dq.name()
                        + "' reads '" + x + "', which is neither a constant nor a QuantizeLinear output;"
                        + " only QDQ models (QuantizeLinear -> DequantizeLinear pairs) are supported");
            }
            requireType(dq, q.type(), ACTIVATION_TYPES);
            String t = qn.input(0);
            String out = dq.output(0);
            g.nodes().remove(dq);
            if (g.consumers(x).isEmpty() && !g.outputs().contains(x)) {
                g.nodes().remove(qn);
            }
            if (g.outputs().contains(out)) {
                // The graph output keeps its name: the float tensor before Q takes it.
                renameTensor(g, t, out);
                spec.renameActivation(t, out);
                spec.putActivation(out, q);
            } else {
                g.renameUses(out, t);
                spec.putActivation(t, q);
            }
        }
        for (Node n : g.nodes()) {
            if (n.opType().equals("QuantizeLinear")) {
                throw new SimulatorException(Code.UNSUPPORTED_QUANTIZATION, "QuantizeLinear '" + n.name()
                        + "' has no DequantizeLinear after it; integer graph outputs are not supported");
            }
        }
        g.pruneConstants();
        return spec;
    }

    private static void renameTensor(Graph g, String from, String to) {
        for (Node n : g.nodes()) {
            List<String> outs = n.outputs();
            for (int i = 0; i < outs.size(); i++) {
                if (outs.get(i).equals(from)) {
                    outs.set(i, to);
                }
            }
        }
        g.inputs().replaceAll(v -> v.name().equals(from)
                ? new dev.layerprobe.simulator.graph.ValueInfo(to, v.dtype(), v.shape()) : v);
        g.renameUses(from, to);
    }

    private static QuantParams params(Graph g, Node dq, String x) throws SimulatorException {
        Tensor scale = g.constant(dq.input(1));
        if (scale == null) {
            throw new SimulatorException(Code.UNSUPPORTED_QUANTIZATION, "DequantizeLinear '" + dq.name()
                    + "' has a scale that is not a constant");
        }
        Tensor zp = dq.hasInput(2) ? g.constant(dq.input(2)) : null;
        if (dq.hasInput(2) && zp == null) {
            throw new SimulatorException(Code.UNSUPPORTED_QUANTIZATION, "DequantizeLinear '" + dq.name()
                    + "' has a zero point that is not a constant");
        }
        DType type;
        if (zp != null) {
            type = zp.dtype();
        } else if (g.isConstant(x)) {
            type = g.constant(x).dtype();
        } else {
            type = DType.UINT8;
        }
        if (type.isFloating() || !Set.of(DType.INT8, DType.UINT8, DType.INT16, DType.INT32).contains(type)) {
            throw new SimulatorException(Code.UNSUPPORTED_QUANTIZATION, "DequantizeLinear '" + dq.name()
                    + "' uses type " + type + "; the simulator quantizes to [INT8, UINT8, INT16, INT32]");
        }
        float[] s = scale.toFloat().floats();
        long[] z = new long[s.length];
        if (zp != null) {
            if (zp.size() != s.length) {
                throw new SimulatorException(Code.INVALID_MODEL, "DequantizeLinear '" + dq.name()
                        + "': scale has " + s.length + " values, zero point " + zp.size());
            }
            for (int i = 0; i < z.length; i++) {
                z[i] = zp.longs()[i];
            }
        }
        int axis = (int) dq.attrInt("axis", 1);
        if (s.length > 1 && axis < 0) {
            int rank = g.isConstant(x) ? g.constant(x).rank() : 4;
            axis += rank;
        }
        try {
            return new QuantParams(type, s, z, axis);
        } catch (IllegalArgumentException e) {
            throw new SimulatorException(Code.UNSUPPORTED_QUANTIZATION, "DequantizeLinear '" + dq.name() + "': "
                    + e.getMessage());
        }
    }

    private static void requireType(Node dq, DType t, Set<DType> allowed) throws SimulatorException {
        if (!allowed.contains(t)) {
            throw new SimulatorException(Code.UNSUPPORTED_QUANTIZATION, "DequantizeLinear '" + dq.name()
                    + "' uses " + t + " here; supported: " + allowed);
        }
    }
}
