package dev.layerprobe.simulator.compiler;

import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Graph;
import dev.layerprobe.simulator.graph.Node;
import java.util.ArrayList;

/**
 * Graph pass: folds an inference BatchNormalization into the Conv before it,
 * {@code w' = w * g / sqrt(var + eps)}, {@code b' = (b - mean) * g / sqrt(var + eps) + beta}
 * (computed in double, stored in float32). The Conv takes the BatchNorm's output name, so the
 * layer keeps the ONNX name of its last output.
 */
final class BatchNormFolding {
    private BatchNormFolding() {}

    static void run(Graph g) {
        for (Node bn : new ArrayList<>(g.nodes())) {
            if (!bn.opType().equals("BatchNormalization") || bn.outputs().size() != 1) {
                continue;
            }
            Node conv = g.producer(bn.input(0));
            if (conv == null
                    || !conv.opType().equals("Conv")
                    || !g.isConstant(conv.input(1))
                    || g.consumers(conv.output(0)).size() != 1
                    || g.outputs().contains(conv.output(0))) {
                continue;
            }
            Tensor scale = g.constant(bn.input(1));
            Tensor beta = g.constant(bn.input(2));
            Tensor mean = g.constant(bn.input(3));
            Tensor var = g.constant(bn.input(4));
            if (scale == null || beta == null || mean == null || var == null) {
                continue;
            }
            double eps = bn.attrFloat("epsilon", 1e-5f);
            Tensor w = g.constant(conv.input(1));
            int oc = w.dim(0);
            int per = w.size() / oc;
            float[] wf = w.floats().clone();
            float[] bias = new float[oc];
            Tensor b0 = conv.hasInput(2) ? g.constant(conv.input(2)) : null;
            if (conv.hasInput(2) && b0 == null) {
                continue;
            }
            for (int c = 0; c < oc; c++) {
                double k = scale.getDouble(c) / Math.sqrt(var.getDouble(c) + eps);
                for (int i = 0; i < per; i++) {
                    wf[c * per + i] = (float) (wf[c * per + i] * k);
                }
                double b = b0 == null ? 0 : b0.getDouble(c);
                bias[c] = (float) ((b - mean.getDouble(c)) * k + beta.getDouble(c));
            }
            Absorption.setInput(
                    conv, 1, Absorption.addConstant(g, conv.input(1) + "_bnfold", Tensor.ofFloats(w.shape(), wf)));
            Absorption.setInput(
                    conv,
                    2,
                    Absorption.addConstant(g, conv.name() + "_bias_bnfold", Tensor.ofFloats(new int[] {oc}, bias)));
            Absorption.absorb(g, conv, bn);
        }
        g.pruneConstants();
    }
}
