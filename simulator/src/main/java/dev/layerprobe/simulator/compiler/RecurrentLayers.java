package dev.layerprobe.simulator.compiler;

import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.core.tensor.QTensor;
import dev.layerprobe.core.tensor.QuantParams;
import dev.layerprobe.simulator.Placement;
import dev.layerprobe.simulator.graph.Graph;
import dev.layerprobe.simulator.graph.Node;
import dev.layerprobe.simulator.kernels.quantized.QRecurrent;
import dev.layerprobe.simulator.kernels.quantized.QuantizedValues;
import dev.layerprobe.simulator.ops.OpTraits;
import dev.layerprobe.simulator.profile.DeviceProfile;
import dev.layerprobe.simulator.profile.FaultKind;
import dev.layerprobe.simulator.profile.RequantMode;
import dev.layerprobe.simulator.quant.QuantSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Binds the LSTM, GRU and RNN layers of a quantized program to their integer kernel
 * ({@link QRecurrent}, placement NPU) for the {@code fixed} requant mode, in the profile's
 * {@code recurrent_state} format. Under {@code requant: float} it binds nothing: those layers stay
 * float between their inputs' dequantization and their outputs' quantization, as ONNX Runtime runs a
 * QDQ file's recurrent nodes, so the cross-check against ORT is unchanged.
 *
 * <p>The layer's input X must be quantized per tensor and its named output (Y, or Y_h when Y is
 * omitted) quantized; W, R, B and P must be constants; sequence_lens and the initial states may be
 * constants or computed at run time. Where that does not hold, or the kernel has no table for an
 * activation, the caller runs the layer on the CPU.
 */
final class RecurrentLayers {
    static final Set<String> OPS = Set.of("LSTM", "GRU", "RNN");

    /** The node inputs that may be computed at run time besides X: sequence_lens, initial_h, initial_c. */
    private static final Set<Integer> RUNTIME = Set.of(4, 5, 6);

    private RecurrentLayers() {}

    /** The layer on its integer kernel, or null (the caller falls back to the CPU). */
    static QuantizedLayers.Built build(
            Graph g, List<Node> nodes, List<String> inputs, QuantSpec spec, DeviceProfile profile, FaultedKernels fk) {
        Node n = nodes.get(0);
        if (profile.requant() != RequantMode.FIXED
                || nodes.size() != 1
                || !n.domain().isEmpty()
                || inputs.isEmpty()
                || !inputs.get(0).equals(n.input(0))) {
            return null;
        }
        QuantParams named = spec.activation(NpuCompiler.layerName(n));
        if (named == null || !named.isPerTensor()) {
            return null;
        }
        for (String in : inputs.subList(1, inputs.size())) {
            if (!RUNTIME.contains(n.inputs().indexOf(in))) {
                return null; // a weight computed at run time: no integer form
            }
        }
        List<QuantParams> outQ = new ArrayList<>();
        for (String o : n.outputs()) {
            outQ.add(o.isEmpty() ? null : spec.activation(o));
        }
        QuantParams xq = spec.activation(n.input(0));
        // The compile refuses rnn_gate_order on an RNN once every layer is bound (it has one gate), so
        // the binding does not pass it on to a kernel that cannot carry it.
        boolean gateOrder = fk.pytorchGateOrder() && OpTraits.faultApplies(FaultKind.RNN_GATE_ORDER, n.opType());
        QRecurrent kernel =
                QRecurrent.of(n, g::constant, xq, outQ, profile.recurrentState(), profile.requant(), gateOrder);
        if (kernel == null) {
            return null;
        }
        return new QuantizedLayers.Built(
                args -> {
                    QTensor[] out = kernel.run(QuantizedValues.codesOf(args[0], xq), name -> {
                        int at = inputs.indexOf(name);
                        return at >= 0 ? args[at].real() : g.constant(name);
                    });
                    LayerValue[] v = new LayerValue[out.length];
                    for (int i = 0; i < v.length; i++) {
                        v[i] = LayerValue.of(out[i]);
                    }
                    return v;
                },
                Placement.NPU);
    }
}
