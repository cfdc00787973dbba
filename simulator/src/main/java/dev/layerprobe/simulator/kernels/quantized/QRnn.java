package dev.layerprobe.simulator.kernels.quantized;

import dev.layerprobe.core.tensor.QuantParams;
import dev.layerprobe.simulator.kernels.RecurrentFrame;
import dev.layerprobe.simulator.profile.RecurrentState;
import dev.layerprobe.simulator.profile.RequantMode;
import java.util.List;

/**
 * Integer RNN of the emulated NPU, in {@link QRecurrent}'s formats and rounding:
 * {@code Ht = f(Xt Wi^T + Ht-1 Ri^T + Wbi + Rbi)}, the pre-activation in Q3.12, f from its table in
 * Q0.15, then rounded to the state's format. Immutable.
 */
final class QRnn extends QRecurrent {
    QRnn(Parts parts, QuantParams xq, List<QuantParams> outputQuant, RecurrentState state, RequantMode mode) {
        super(parts, xq, outputQuant, state, mode, null);
    }

    @Override
    boolean hasCell() {
        return false;
    }

    @Override
    void steps(int d, RecurrentFrame.Evaluation ev, long[] preX, int[] h, int[] c) {
        int batch = ev.batch();
        float[] scratch = new float[batch * hid];
        for (int s = 0; s < ev.maxLength(); s++) {
            for (int b = 0; b < batch; b++) {
                if (s >= ev.length(b)) {
                    continue;
                }
                int t = ev.time(d, b, s);
                int xo = (t * batch + b) * hid;
                long[] hr = recur(d, h, b * hid, 0, 1);
                for (int j = 0; j < hid; j++) {
                    h[b * hid + j] = toState(gate(d, 0, preX[xo + j] + hr[j]) * ONE);
                }
                emit(ev, scratch, d, b, t, h);
            }
        }
    }
}
