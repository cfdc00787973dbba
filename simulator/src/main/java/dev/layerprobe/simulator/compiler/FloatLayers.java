package dev.layerprobe.simulator.compiler;

import dev.layerprobe.simulator.LayerExec;
import dev.layerprobe.simulator.LayerValue;
import dev.layerprobe.simulator.graph.Graph;
import dev.layerprobe.simulator.graph.Node;
import dev.layerprobe.simulator.kernels.FloatKernel;
import dev.layerprobe.simulator.kernels.FloatKernels;
import dev.layerprobe.simulator.tensor.Tensor;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Binds a layer's nodes to float kernels: the float program, and CPU layers of quantized ones. */
final class FloatLayers {
    private FloatLayers() {
    }

    /** A float evaluation of the nodes in order; returns the last node's outputs as float values. */
    static LayerExec build(Graph g, List<Node> nodes, List<String> inputs) {
        FloatKernel[] kernels = new FloatKernel[nodes.size()];
        for (int i = 0; i < kernels.length; i++) {
            kernels[i] = FloatKernels.create(nodes.get(i), g.opset());
        }
        Map<String, Tensor> constants = new HashMap<>();
        for (Node n : nodes) {
            for (String in : n.inputs()) {
                if (g.isConstant(in)) {
                    constants.put(in, g.constant(in));
                }
            }
        }
        return args -> {
            Tensor[] out = evaluate(nodes, kernels, constants, inputs, real(args));
            LayerValue[] v = new LayerValue[out.length];
            for (int i = 0; i < v.length; i++) {
                v[i] = LayerValue.of(out[i]);
            }
            return v;
        };
    }

    static Tensor[] real(LayerValue[] args) {
        Tensor[] t = new Tensor[args.length];
        for (int i = 0; i < t.length; i++) {
            t[i] = args[i].real();
        }
        return t;
    }

    static Tensor[] evaluate(List<Node> nodes, FloatKernel[] kernels, Map<String, Tensor> constants,
            List<String> inputs, Tensor[] args) {
        Map<String, Tensor> env = new HashMap<>(constants);
        for (int i = 0; i < args.length; i++) {
            env.put(inputs.get(i), args[i]);
        }
        Tensor[] out = null;
        for (int k = 0; k < nodes.size(); k++) {
            Node n = nodes.get(k);
            Tensor[] in = new Tensor[n.inputs().size()];
            for (int i = 0; i < in.length; i++) {
                in[i] = n.hasInput(i) ? env.get(n.input(i)) : null;
            }
            out = kernels[k].run(in);
            for (int i = 0; i < out.length && i < n.outputs().size(); i++) {
                env.put(n.output(i), out[i]);
            }
        }
        return out;
    }
}
