package dev.layerprobe.simulator.kernels.quantized;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.QuantParams;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.kernels.RecurrentFrame;
import dev.layerprobe.simulator.profile.RecurrentState;
import dev.layerprobe.simulator.profile.RequantMode;
import java.util.List;

/**
 * Integer LSTM of the emulated NPU, in {@link QRecurrent}'s formats and rounding, gates in ONNX's
 * order i, o, f, c and peepholes in the order i, o, f (pre-activations in Q3.12, gates in Q0.15, C
 * in Q4.11, H in the state's format):
 *
 * <pre>
 * it = f(Xt Wi^T + Ht-1 Ri^T + Pi . Ct-1 + Wbi + Rbi)
 * ft = f(Xt Wf^T + Ht-1 Rf^T + Pf . Ct-1 + Wbf + Rbf)     ft = 1 - it with input_forget
 * ct = g(Xt Wc^T + Ht-1 Rc^T + Wbc + Rbc)
 * Ct = ft . Ct-1 + it . ct                                both products summed in Q.30, rounded once
 * ot = f(Xt Wo^T + Ht-1 Ro^T + Po . Ct + Wbo + Rbo)
 * Ht = ot . h(Ct)                                         h reads Ct unclipped, as the float kernel
 * </pre>
 *
 * With {@code rnn_gate_order} the blocks are read as PyTorch's i, f, g, o: ONNX's o block serves
 * as the forget gate, its f block as the cell input and its c block as the output gate. Immutable.
 */
final class QLstm extends QRecurrent {
    /** For each ONNX block (i, o, f, c), the block a device reading PyTorch's order (i, f, g, o) takes. */
    private static final int[] PYTORCH_BLOCKS = {0, 3, 1, 2};

    private final boolean inputForget;
    /** Peephole codes per direction, [3 * hidden] (i, o, f), or null. */
    private final int[][] peep;

    private final Requantizer[][] peepToPre;

    QLstm(
            Parts parts,
            QuantParams xq,
            List<QuantParams> outputQuant,
            RecurrentState state,
            RequantMode mode,
            boolean pytorchGateOrder) {
        super(parts, xq, outputQuant, state, mode, pytorchGateOrder ? PYTORCH_BLOCKS : null);
        inputForget = parts.node().attrInt("input_forget", 0) != 0;
        Tensor p = parts.p();
        if (p == null) {
            peep = null;
            peepToPre = null;
            return;
        }
        float[] v = p.toFloat().floats();
        peep = new int[directions][3 * hid];
        peepToPre = new Requantizer[directions][3];
        for (int d = 0; d < directions; d++) {
            for (int g = 0; g < 3; g++) {
                int off = (d * 3 + g) * hid;
                float max = 0;
                for (int j = 0; j < hid; j++) {
                    max = Math.max(max, Math.abs(v[off + j]));
                }
                float s = max > 0 ? max / DType.INT16.max() : 1f;
                for (int j = 0; j < hid; j++) {
                    peep[d][g * hid + j] = (int) Math.rint(v[off + j] / s);
                }
                peepToPre[d][g] = new Requantizer(Math.scalb((double) s, PRE_BITS - CELL_BITS), mode);
            }
        }
    }

    @Override
    boolean hasCell() {
        return true;
    }

    /** The peephole term of gate g (0 = i, 1 = o, 2 = f) for unit j on cell code c, in Q3.12. */
    private long peephole(int d, int g, int j, int c) {
        return peep == null ? 0 : peepToPre[d][g].scale((long) peep[d][g * hid + j] * c);
    }

    @Override
    void steps(int d, RecurrentFrame.Evaluation ev, long[] preX, int[] h, int[] c) {
        int batch = ev.batch();
        float[] scratch = new float[batch * hid];
        int[] hNew = new int[hid];
        for (int s = 0; s < ev.maxLength(); s++) {
            for (int b = 0; b < batch; b++) {
                if (s >= ev.length(b)) {
                    continue;
                }
                int t = ev.time(d, b, s);
                int xo = (t * batch + b) * 4 * hid;
                int ho = b * hid;
                long[] hr = recur(d, h, ho, 0, 4);
                for (int j = 0; j < hid; j++) {
                    int cPrev = c[ho + j];
                    int in = gate(d, 0, preX[xo + j] + hr[j] + peephole(d, 0, j, cPrev));
                    int forget = inputForget
                            ? (int) (ONE - in)
                            : gate(d, 0, preX[xo + 2 * hid + j] + hr[2 * hid + j] + peephole(d, 2, j, cPrev));
                    int cell = gate(d, 1, preX[xo + 3 * hid + j] + hr[3 * hid + j]);
                    // f . C is Q0.15 by Q4.11 (2^-26), i . c Q0.15 by Q0.15 (2^-30): summed in 2^-30.
                    long sum = (((long) forget * cPrev) << (GATE_BITS - CELL_BITS)) + (long) in * cell;
                    int cNew = (int)
                            saturate(shiftRound(sum, 2 * GATE_BITS - CELL_BITS), DType.INT16.min(), DType.INT16.max());
                    int out = gate(d, 0, preX[xo + hid + j] + hr[hid + j] + peephole(d, 1, j, cNew));
                    c[ho + j] = cNew;
                    hNew[j] = toState((long) out * ofCell(d, 2, cNew));
                }
                System.arraycopy(hNew, 0, h, ho, hid);
                emit(ev, scratch, d, b, t, h);
            }
        }
    }
}
