package dev.layerprobe.simulator.kernels;

import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Node;

/**
 * ONNX RNN in float32: {@code Ht = f(Xt Wi^T + Ht-1 Ri^T + Wbi + Rbi)}, f = Tanh by default, for
 * every direction, sequence length, initial state, clip and layout; the conventions shared with
 * LSTM and GRU are {@link RecurrentCell}'s. Outputs Y and Y_h. Stateless and thread-safe.
 */
public final class RnnKernel implements FloatKernel {
    private final RecurrentCell cell;
    private final int outputs;

    RnnKernel(Node node) {
        cell = RecurrentCell.of(node);
        outputs = node.outputs().size();
    }

    static FloatKernel create(Node node, int opset) {
        return new RnnKernel(node);
    }

    @Override
    public Tensor[] run(Tensor[] inputs) {
        RecurrentCell.Run run = cell.new Run(inputs);
        int hid = run.hid;
        int batch = run.batch;
        for (int d = 0; d < cell.directions; d++) {
            float[] xw = run.project(d);
            float[] h = run.initial(KernelArgs.optional(inputs, 5), "initial_h", d);
            RecurrentActivation f = cell.activation(d, 0);
            for (int s = 0; s < run.maxLen; s++) {
                float[] hr = run.recur(h, d, 0, 1);
                for (int b = 0; b < batch; b++) {
                    if (s >= run.lens[b]) {
                        continue;
                    }
                    int t = run.time(d, b, s);
                    int xo = (t * batch + b) * hid;
                    for (int j = 0; j < hid; j++) {
                        h[b * hid + j] = xw[xo + j] + hr[b * hid + j] + run.bias[d * hid + j];
                    }
                    f.applyInPlace(h, b * hid, hid, cell.clip);
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
