package dev.layerprobe.simulator.kernels;

import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Node;

/**
 * ONNX GRU in float32, gates in the spec's order z, r, h (f = Sigmoid and g = Tanh by default):
 *
 * <pre>
 * zt = f(Xt Wz^T + Ht-1 Rz^T + Wbz + Rbz)
 * rt = f(Xt Wr^T + Ht-1 Rr^T + Wbr + Rbr)
 * ht = g(Xt Wh^T + (rt . Ht-1) Rh^T + Rbh + Wbh)       linear_before_reset = 0
 * ht = g(Xt Wh^T + rt . (Ht-1 Rh^T + Rbh) + Wbh)       linear_before_reset != 0
 * Ht = (1 - zt) . ht + zt . Ht-1
 * </pre>
 *
 * for every direction, sequence length, initial state, clip and layout; the conventions shared with
 * LSTM and RNN are {@link RecurrentCell}'s. Outputs Y and Y_h. Stateless and thread-safe.
 */
public final class GruKernel implements FloatKernel {
    private final RecurrentCell cell;
    private final boolean linearBeforeReset;
    private final int outputs;

    GruKernel(Node node) {
        cell = RecurrentCell.of(node);
        linearBeforeReset = node.attrInt("linear_before_reset", 0) != 0;
        outputs = node.outputs().size();
    }

    static FloatKernel create(Node node, int opset) {
        return new GruKernel(node);
    }

    @Override
    public Tensor[] run(Tensor[] inputs) {
        RecurrentCell.Run run = cell.new Run(inputs);
        int hid = run.hid;
        int batch = run.batch;
        int gh = 3 * hid;
        for (int d = 0; d < cell.directions; d++) {
            float[] xw = run.project(d);
            float[] h = run.initial(KernelArgs.optional(inputs, 5), "initial_h", d);
            RecurrentActivation f = cell.activation(d, 0);
            RecurrentActivation g = cell.activation(d, 1);
            // Gate pre-activations gathered per step, so each activation runs over whole rows.
            float[] z = new float[batch * hid];
            float[] r = new float[batch * hid];
            float[] hh = new float[batch * hid];
            float[] rh = new float[batch * hid];
            int bo = d * gh;
            for (int s = 0; s < run.maxLen; s++) {
                // H R^T over z and r (and h, when it is applied before the reset gate).
                int cols = linearBeforeReset ? gh : 2 * hid;
                float[] hr = run.recur(h, d, 0, linearBeforeReset ? 3 : 2);
                for (int b = 0; b < batch; b++) {
                    if (s >= run.lens[b]) {
                        continue;
                    }
                    int xo = (run.time(d, b, s) * batch + b) * gh;
                    int ro = b * cols;
                    for (int j = 0; j < hid; j++) {
                        z[b * hid + j] = xw[xo + j] + hr[ro + j] + run.bias[bo + j];
                        r[b * hid + j] = xw[xo + hid + j] + hr[ro + hid + j] + run.bias[bo + hid + j];
                    }
                    f.applyInPlace(z, b * hid, hid, cell.clip);
                    f.applyInPlace(r, b * hid, hid, cell.clip);
                }
                float[] rhr = null;
                if (!linearBeforeReset) {
                    for (int i = 0; i < rh.length; i++) {
                        rh[i] = r[i] * h[i];
                    }
                    rhr = run.recur(rh, d, 2, 1);
                }
                for (int b = 0; b < batch; b++) {
                    if (s >= run.lens[b]) {
                        continue;
                    }
                    int t = run.time(d, b, s);
                    int xo = (t * batch + b) * gh;
                    for (int j = 0; j < hid; j++) {
                        int k = b * hid + j;
                        if (linearBeforeReset) {
                            float rec = hr[b * cols + 2 * hid + j] + run.rBias[bo + 2 * hid + j];
                            hh[k] = xw[xo + 2 * hid + j] + r[k] * rec + run.wBias[bo + 2 * hid + j];
                        } else {
                            hh[k] = xw[xo + 2 * hid + j] + rhr[k] + run.bias[bo + 2 * hid + j];
                        }
                    }
                    g.applyInPlace(hh, b * hid, hid, cell.clip);
                    for (int j = 0; j < hid; j++) {
                        int k = b * hid + j;
                        h[k] = (1f - z[k]) * hh[k] + z[k] * h[k];
                    }
                    run.emit(d, b, t, h);
                }
            }
            for (int b = 0; b < batch; b++) {
                run.last(run.yh, d, b, h);
            }
        }
        return run.outputs(outputs);
    }
}
