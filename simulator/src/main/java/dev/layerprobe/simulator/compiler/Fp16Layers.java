package dev.layerprobe.simulator.compiler;

import dev.layerprobe.core.tensor.Half;
import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.LayerExec;
import dev.layerprobe.simulator.graph.Graph;
import dev.layerprobe.simulator.graph.Node;
import dev.layerprobe.simulator.kernels.FloatKernel;
import dev.layerprobe.simulator.kernels.FloatKernels;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Binds a layer computed in fp16 (its output marked fp16 in the QDQ model, docs/architecture.md#the-quantized-model-is-a-qdq-file) to the
 * emulated NPU's fp16 arithmetic (docs/architecture.md#numerics). The fp16 numerics are stated here and nowhere else:
 * <ul>
 *   <li>values are IEEE binary16; the layer's inputs are rounded to binary16 on entry (a no-op for
 *       fp16 producers, the conversion an fp16 unit does on loading int8 or fp32 values), its
 *       weights already are binary16 (the QDQ file stores them as FLOAT16);</li>
 *   <li>each op computes in float32 (float32 accumulation in Conv/Gemm/MatMul) and its result is
 *       rounded to the nearest binary16, ties to even ({@link Half#round}), after every op of the
 *       layer, fused ones included;</li>
 *   <li>the layer's values are float32 tensors (dtype FLOAT32) holding binary16-exact values, so
 *       float32 kernels and consumers read them unchanged.</li>
 * </ul>
 * Placement NPU. Stateless and thread-safe after compilation.
 */
final class Fp16Layers {
    private Fp16Layers() {}

    static LayerExec build(Graph g, List<Node> nodes, List<String> inputs) {
        FloatKernel[] kernels = new FloatKernel[nodes.size()];
        Map<String, Tensor> constants = new HashMap<>();
        for (int i = 0; i < kernels.length; i++) {
            Node n = nodes.get(i);
            kernels[i] = FloatKernels.create(n, g.opset());
            for (String in : n.inputs()) {
                if (g.isConstant(in)) {
                    constants.put(in, g.constant(in));
                }
            }
        }
        return args -> {
            Map<String, Tensor> env = new HashMap<>(constants);
            for (int i = 0; i < args.length; i++) {
                env.put(inputs.get(i), round(args[i].real()));
            }
            Tensor[] out = null;
            for (int k = 0; k < nodes.size(); k++) {
                Node n = nodes.get(k);
                Tensor[] in = new Tensor[n.inputs().size()];
                for (int i = 0; i < in.length; i++) {
                    in[i] = n.hasInput(i) ? env.get(n.input(i)) : null;
                }
                out = kernels[k].run(in);
                for (int i = 0; i < out.length; i++) {
                    out[i] = round(out[i]);
                    if (i < n.outputs().size()) {
                        env.put(n.output(i), out[i]);
                    }
                }
            }
            LayerValue[] v = new LayerValue[out.length];
            for (int i = 0; i < v.length; i++) {
                v[i] = LayerValue.of(out[i]);
            }
            return v;
        };
    }

    /** The tensor with every float value rounded to binary16; integer tensors and exact ones as they are. */
    static Tensor round(Tensor t) {
        if (!t.isFloating()) {
            return t;
        }
        float[] x = t.floats();
        int i = 0;
        while (i < x.length && Half.round(x[i]) == x[i]) {
            i++;
        }
        if (i == x.length) {
            return t;
        }
        float[] r = x.clone(); // kernels never write into their inputs or outputs handed on
        for (; i < r.length; i++) {
            r[i] = Half.round(r[i]);
        }
        return Tensor.ofFloats(t.dtype(), t.shape(), r);
    }
}
