package dev.layerprobe.simulator.compiler;

import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Attribute;
import dev.layerprobe.simulator.graph.Graph;
import dev.layerprobe.simulator.graph.Node;
import java.util.ArrayList;
import java.util.List;

/**
 * Graph passes that fold per-channel affine arithmetic into the weights of the layer before it,
 * as NPU compilers do:
 * <ul>
 *   <li>Conv followed by Mul, Add or Sub with a constant that is a scalar or per output channel
 *       ({@code [C,1,1]} or {@code [1,C,1,1]}): {@code w[o] *= c[o], b[o] *= c[o]} for Mul,
 *       {@code b[o] += c[o]} for Add ({@code -=} for Sub);</li>
 *   <li>Gemm followed by BatchNormalization over its output columns:
 *       {@code B[:, o] *= k[o]}, {@code C' = (beta * C - mean) * k + bn_beta} with
 *       {@code k = scale / sqrt(var + eps)}.</li>
 * </ul>
 * The folded layer takes the name of the removed node's output and lists it among the nodes it
 * covers. Arithmetic in double, stored in float32. Only for float graphs: a QDQ graph's weights
 * are already quantized as its author chose.
 */
final class AffineFolding {
    private AffineFolding() {}

    static void run(Graph g) {
        for (Node n : new ArrayList<>(g.nodes())) {
            if (!g.nodes().contains(n)) {
                continue;
            }
            if (n.opType().equals("Conv")) {
                while (foldIntoConv(g, n)) {
                    // keep folding chains such as Conv -> Mul -> Add
                }
            } else if (n.opType().equals("Gemm")) {
                foldBatchNormIntoGemm(g, n);
            }
        }
        g.pruneConstants();
    }

    private static Node soleConsumer(Graph g, Node n) {
        String out = n.output(0);
        List<Node> users = g.consumers(out);
        if (users.size() != 1 || g.outputs().contains(out)) {
            return null;
        }
        return users.get(0);
    }

    private static boolean foldIntoConv(Graph g, Node conv) {
        Node next = soleConsumer(g, conv);
        if (next == null || !g.isConstant(conv.input(1)) || (conv.hasInput(2) && !g.isConstant(conv.input(2)))) {
            return false;
        }
        String op = next.opType();
        if (!op.equals("Mul") && !op.equals("Add") && !op.equals("Sub")) {
            return false;
        }
        String out = conv.output(0);
        int convSide = next.input(0).equals(out) ? 0 : next.input(1).equals(out) ? 1 : -1;
        if (convSide < 0 || next.inputs().size() != 2 || (op.equals("Sub") && convSide != 0)) {
            return false;
        }
        Tensor c = g.constant(next.input(1 - convSide));
        Tensor w = g.constant(conv.input(1));
        if (c == null || !c.isFloating() || !w.isFloating() || w.rank() != 4) {
            return false;
        }
        int oc = w.dim(0);
        double[] perChannel = perChannel(c, oc);
        if (perChannel == null) {
            return false;
        }
        float[] bias = new float[oc];
        if (conv.hasInput(2)) {
            float[] b0 = g.constant(conv.input(2)).toFloat().floats();
            System.arraycopy(b0, 0, bias, 0, oc);
        }
        float[] wf = w.floats();
        String wName = conv.input(1);
        if (op.equals("Mul")) {
            wf = wf.clone();
            int per = wf.length / oc;
            for (int o = 0; o < oc; o++) {
                for (int i = 0; i < per; i++) {
                    wf[o * per + i] = (float) (wf[o * per + i] * perChannel[o]);
                }
                bias[o] = (float) (bias[o] * perChannel[o]);
            }
            wName = Absorption.addConstant(g, conv.input(1) + "_folded", Tensor.ofFloats(w.shape(), wf));
        } else {
            double sign = op.equals("Sub") ? -1 : 1;
            for (int o = 0; o < oc; o++) {
                bias[o] = (float) (bias[o] + sign * perChannel[o]);
            }
        }
        Absorption.setInput(conv, 1, wName);
        Absorption.setInput(
                conv,
                2,
                Absorption.addConstant(g, conv.name() + "_bias_folded", Tensor.ofFloats(new int[] {oc}, bias)));
        Absorption.absorb(g, conv, next);
        return true;
    }

    /** The constant as one value per output channel, or null if it does not broadcast that way. */
    private static double[] perChannel(Tensor c, int oc) {
        double[] v = new double[oc];
        if (c.size() == 1) {
            java.util.Arrays.fill(v, c.getDouble(0));
            return v;
        }
        int[] s = c.shape();
        if (c.size() != oc || s.length < 3 || s.length > 4) {
            return null;
        }
        // [C,1,1] or [1,C,1,1]: the channel dimension must be the one 3 from the end.
        if (s[s.length - 3] != oc) {
            return null;
        }
        for (int i = 0; i < oc; i++) {
            v[i] = c.getDouble(i);
        }
        return v;
    }

    private static void foldBatchNormIntoGemm(Graph g, Node gemm) {
        Node bn = soleConsumer(g, gemm);
        if (bn == null
                || !bn.opType().equals("BatchNormalization")
                || bn.outputs().size() != 1
                || !g.isConstant(gemm.input(1))
                || (gemm.hasInput(2) && !g.isConstant(gemm.input(2)))) {
            return;
        }
        Tensor b = g.constant(gemm.input(1));
        Tensor scale = g.constant(bn.input(1));
        Tensor beta = g.constant(bn.input(2));
        Tensor mean = g.constant(bn.input(3));
        Tensor var = g.constant(bn.input(4));
        if (b.rank() != 2 || !b.isFloating() || scale == null || beta == null || mean == null || var == null) {
            return;
        }
        boolean transB = gemm.attrInt("transB", 0) != 0;
        int n = transB ? b.dim(0) : b.dim(1);
        int k = transB ? b.dim(1) : b.dim(0);
        Tensor c0 = gemm.hasInput(2) ? g.constant(gemm.input(2)) : null;
        if (c0 != null && c0.size() != n && c0.size() != 1) {
            return;
        }
        double eps = bn.attrFloat("epsilon", 1e-5f);
        double gBeta = gemm.attrFloat("beta", 1f);
        float[] bf = b.floats().clone();
        float[] c = new float[n];
        for (int o = 0; o < n; o++) {
            double kk = scale.getDouble(o) / Math.sqrt(var.getDouble(o) + eps);
            for (int t = 0; t < k; t++) {
                int idx = transB ? o * k + t : t * n + o;
                bf[idx] = (float) (bf[idx] * kk);
            }
            double cv = c0 == null ? 0 : c0.getDouble(c0.size() == 1 ? 0 : o) * gBeta;
            c[o] = (float) ((cv - mean.getDouble(o)) * kk + beta.getDouble(o));
        }
        Absorption.setInput(
                gemm, 1, Absorption.addConstant(g, gemm.input(1) + "_bnfold", Tensor.ofFloats(b.shape(), bf)));
        Absorption.setInput(
                gemm, 2, Absorption.addConstant(g, gemm.name() + "_bias_bnfold", Tensor.ofFloats(new int[] {n}, c)));
        gemm.attributes().put("beta", Attribute.ofFloat(1f));
        Absorption.absorb(g, gemm, bn);
    }
}
