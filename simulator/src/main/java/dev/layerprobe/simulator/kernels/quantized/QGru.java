package dev.layerprobe.simulator.kernels.quantized;

import dev.layerprobe.core.tensor.QuantParams;
import dev.layerprobe.simulator.kernels.RecurrentFrame;
import dev.layerprobe.simulator.profile.RecurrentState;
import dev.layerprobe.simulator.profile.RequantMode;
import java.util.List;

/**
 * Integer GRU of the emulated NPU, in {@link QRecurrent}'s formats and rounding, gates in ONNX's
 * order z, r, h (pre-activations in Q3.12, gates in Q0.15, H in the state's format):
 *
 * <pre>
 * zt = f(Xt Wz^T + Ht-1 Rz^T + Wbz + Rbz)
 * rt = f(Xt Wr^T + Ht-1 Rr^T + Wbr + Rbr)
 * ht = g(Xt Wh^T + (rt . Ht-1) Rh^T + Rbh + Wbh)      rt . Ht-1 rounded to the state's format
 * ht = g(Xt Wh^T + rt . (Ht-1 Rh^T + Rbh) + Wbh)      linear_before_reset: the product rounded to Q3.12
 * Ht = (1 - zt) . ht + zt . Ht-1                      both products summed in Q0.30, rounded once
 * </pre>
 *
 * With {@code rnn_gate_order} the blocks are read as PyTorch's r, z, n: ONNX's z block serves as the
 * reset gate and its r block as the update gate. Immutable.
 */
final class QGru extends QRecurrent {
    /** For each ONNX block (z, r, h), the block a device reading PyTorch's order (r, z, n) takes. */
    private static final int[] PYTORCH_BLOCKS = {1, 0, 2};

    private final boolean linearBeforeReset;

    QGru(
            Parts parts,
            QuantParams xq,
            List<QuantParams> outputQuant,
            RecurrentState state,
            RequantMode mode,
            boolean pytorchGateOrder) {
        super(parts, xq, outputQuant, state, mode, pytorchGateOrder ? PYTORCH_BLOCKS : null);
        linearBeforeReset = parts.node().attrInt("linear_before_reset", 0) != 0;
    }

    @Override
    boolean hasCell() {
        return false;
    }

    @Override
    void steps(int d, RecurrentFrame.Evaluation ev, long[] preX, int[] h, int[] c) {
        int batch = ev.batch();
        float[] scratch = new float[batch * hid];
        int[] z = new int[hid];
        int[] r = new int[hid];
        int[] rh = new int[hid];
        for (int s = 0; s < ev.maxLength(); s++) {
            for (int b = 0; b < batch; b++) {
                if (s >= ev.length(b)) {
                    continue;
                }
                int t = ev.time(d, b, s);
                int xo = (t * batch + b) * 3 * hid;
                int ho = b * hid;
                long[] hr = recur(d, h, ho, 0, linearBeforeReset ? 3 : 2);
                for (int j = 0; j < hid; j++) {
                    z[j] = gate(d, 0, preX[xo + j] + hr[j]);
                    r[j] = gate(d, 0, preX[xo + hid + j] + hr[hid + j]);
                }
                long[] rhr = null;
                if (!linearBeforeReset) {
                    for (int j = 0; j < hid; j++) {
                        rh[j] = toState(r[j] * q15(h[ho + j]));
                    }
                    rhr = recur(d, rh, 0, 2, 1);
                }
                for (int j = 0; j < hid; j++) {
                    long pre = linearBeforeReset
                            ? preX[xo + 2 * hid + j] + shiftRound(r[j] * hr[2 * hid + j], GATE_BITS)
                            : preX[xo + 2 * hid + j] + rhr[j];
                    int hh = gate(d, 1, pre);
                    h[ho + j] = toState((ONE - z[j]) * hh + z[j] * q15(h[ho + j]));
                }
                emit(ev, scratch, d, b, t, h);
            }
        }
    }
}
