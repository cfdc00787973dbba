package dev.layerprobe.simulator.kernels.quantized;

import dev.layerprobe.core.tensor.QTensor;
import dev.layerprobe.core.tensor.QuantParams;
import java.util.function.DoubleUnaryOperator;

/**
 * A unary nonlinear op (Tanh, Sigmoid, HardSigmoid, ...) on per-tensor codes as a lookup table
 * with one entry per input code, built from the float function:
 * {@code lut[q] = quantize_out(f(dequantize_in(q)))}, f evaluated in float32. Immutable.
 */
public final class QLut {
    private final int[] table;
    private final int offset;
    private final QuantParams out;

    public QLut(DoubleUnaryOperator f, QuantParams in, QuantParams out, long lo, long hi) {
        this.out = out;
        this.offset = (int) in.qmin();
        int n = (int) (in.qmax() - in.qmin() + 1);
        this.table = new int[n];
        for (int i = 0; i < n; i++) {
            float x = in.dequantize(i + offset, 0);
            float y = (float) f.applyAsDouble(x);
            long q = out.quantize(y, 0);
            table[i] = (int) Math.max(lo, Math.min(hi, q));
        }
    }

    private QLut(int[] table, int offset, QuantParams out) {
        this.table = table;
        this.offset = offset;
        this.out = out;
    }

    /**
     * Fault hook (lut_coarse): the same function with a table of {@code entries} entries, each
     * covering a run of consecutive input codes (for int8 and 16 entries: indexed by
     * {@code code >> 4}) and holding the fine table's value at the run's middle code.
     */
    public QLut coarse(int entries) {
        int n = table.length;
        int run = Math.max(1, n / entries);
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            int start = i / run * run;
            t[i] = table[Math.min(n - 1, start + run / 2)];
        }
        return new QLut(t, offset, out);
    }

    public QTensor run(QTensor x) {
        int[] c = x.codes();
        int[] y = new int[c.length];
        for (int i = 0; i < c.length; i++) {
            y[i] = table[c[i] - offset];
        }
        return new QTensor(x.shape(), y, out);
    }
}
