package dev.layerprobe.simulator.kernels;

import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Node;

/**
 * ONNX LSTM in float32, gates in the spec's order i, o, f, c (W, R and B) and peepholes in the
 * order i, o, f (f = Sigmoid, g = Tanh, h = Tanh by default):
 *
 * <pre>
 * it = f(Xt Wi^T + Ht-1 Ri^T + Pi . Ct-1 + Wbi + Rbi)
 * ft = f(Xt Wf^T + Ht-1 Rf^T + Pf . Ct-1 + Wbf + Rbf)      ft = 1 - it with input_forget
 * ct = g(Xt Wc^T + Ht-1 Rc^T + Wbc + Rbc)
 * Ct = ft . Ct-1 + it . ct
 * ot = f(Xt Wo^T + Ht-1 Ro^T + Po . Ct + Wbo + Rbo)
 * Ht = ot . h(Ct)
 * </pre>
 *
 * for every direction, sequence length, initial states, clip and layout; the conventions shared
 * with GRU and RNN are {@link RecurrentCell}'s. {@code clip} bounds the gates' pre-activations
 * (those of f and g), not h's input Ct: the spec's "input of activations" leaves Ct open, and
 * ONNX Runtime, the golden reference, applies h to Ct unclipped. Outputs Y, Y_h and Y_c.
 * Stateless and thread-safe.
 */
public final class LstmKernel implements FloatKernel {
    private final RecurrentCell cell;
    private final boolean inputForget;
    private final int outputs;

    LstmKernel(Node node) {
        cell = RecurrentCell.of(node);
        inputForget = KernelArgs.oneOf(node, "input_forget", 0, 0, 1) == 1;
        outputs = node.outputs().size();
    }

    static FloatKernel create(Node node, int opset) {
        return new LstmKernel(node);
    }

    @Override
    public Tensor[] run(Tensor[] inputs) {
        RecurrentCell.Run run = cell.new Run(inputs);
        int hid = run.hid;
        int batch = run.batch;
        int gh = 4 * hid;
        float[] peep = null;
        Tensor pt = KernelArgs.optional(inputs, 7);
        if (pt != null) {
            KernelArgs.requireFloating(pt, "P");
            RecurrentCell.expect(pt, "P", cell.directions, 3 * hid);
            peep = pt.toFloat().floats();
        }
        float[] yc = new float[cell.directions * batch * hid];
        for (int d = 0; d < cell.directions; d++) {
            float[] xw = run.project(d);
            float[] h = run.initial(KernelArgs.optional(inputs, 5), "initial_h", d);
            float[] c = run.initial(KernelArgs.optional(inputs, 6), "initial_c", d);
            RecurrentActivation f = cell.activation(d, 0);
            RecurrentActivation g = cell.activation(d, 1);
            RecurrentActivation hAct = cell.activation(d, 2);
            int bo = d * gh;
            int po = d * 3 * hid;
            float clip = cell.clip;
            // Gate pre-activations gathered per step, so each activation runs over whole rows.
            float[] gi = new float[hid];
            float[] gf = new float[hid];
            float[] gc = new float[hid];
            float[] go = new float[hid];
            float[] hc = new float[hid];
            for (int s = 0; s < run.maxLen; s++) {
                float[] hr = run.recur(h, d, 0, 4);
                for (int b = 0; b < batch; b++) {
                    if (s >= run.lens[b]) {
                        continue;
                    }
                    int t = run.time(d, b, s);
                    int xo = (t * batch + b) * gh;
                    int ro = b * gh;
                    for (int j = 0; j < hid; j++) {
                        float cPrev = c[b * hid + j];
                        float iPre = xw[xo + j] + hr[ro + j];
                        float fPre = xw[xo + 2 * hid + j] + hr[ro + 2 * hid + j];
                        if (peep != null) {
                            iPre += peep[po + j] * cPrev;
                            fPre += peep[po + 2 * hid + j] * cPrev;
                        }
                        gi[j] = iPre + run.bias[bo + j];
                        gf[j] = fPre + run.bias[bo + 2 * hid + j];
                        gc[j] = xw[xo + 3 * hid + j] + hr[ro + 3 * hid + j] + run.bias[bo + 3 * hid + j];
                    }
                    f.applyInPlace(gi, 0, hid, clip);
                    if (!inputForget) {
                        f.applyInPlace(gf, 0, hid, clip);
                    }
                    g.applyInPlace(gc, 0, hid, clip);
                    for (int j = 0; j < hid; j++) {
                        int k = b * hid + j;
                        float in = gi[j];
                        float forget = inputForget ? 1f - in : gf[j];
                        float cNew = forget * c[k] + in * gc[j];
                        float oPre = xw[xo + hid + j] + hr[ro + hid + j];
                        if (peep != null) {
                            oPre += peep[po + hid + j] * cNew;
                        }
                        go[j] = oPre + run.bias[bo + hid + j];
                        c[k] = cNew;
                        hc[j] = cNew;
                    }
                    f.applyInPlace(go, 0, hid, clip);
                    hAct.applyInPlace(hc, 0, hid, Float.POSITIVE_INFINITY);
                    for (int j = 0; j < hid; j++) {
                        h[b * hid + j] = go[j] * hc[j];
                    }
                    run.emit(d, b, t, h);
                }
            }
            for (int b = 0; b < batch; b++) {
                run.last(run.yh, d, b, h);
                run.last(yc, d, b, c);
            }
        }
        return run.outputs(outputs, yc);
    }
}
