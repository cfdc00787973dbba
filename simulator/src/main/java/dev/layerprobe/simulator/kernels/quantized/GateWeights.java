package dev.layerprobe.simulator.kernels.quantized;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.QuantParams;
import dev.layerprobe.simulator.profile.RequantMode;
import java.util.stream.IntStream;

/**
 * One direction's W and R of an integer recurrent layer in codes, with its biases in accumulator
 * units and the requantizers of both products to Q3.12, quantized as {@link QRecurrent}'s class
 * comment states, and the two products. Immutable; {@link #project} runs its rows in parallel, each
 * value with a fixed summation order.
 */
final class GateWeights {
    private final int rows;
    private final int input;
    private final int hid;
    private final int[] w;
    private final int[] r;
    private final long[] wBias;
    private final long[] rBias;
    private final Requantizer[] xToPre;
    private final Requantizer[] hToPre;

    private GateWeights(int rows, int input, int hid) {
        this.rows = rows;
        this.input = input;
        this.hid = hid;
        this.w = new int[rows * input];
        this.r = new int[rows * hid];
        this.wBias = new long[rows];
        this.rBias = new long[rows];
        this.xToPre = new Requantizer[rows];
        this.hToPre = new Requantizer[rows];
    }

    /**
     * Every direction's weights from the node's real W [dirs, rows, input], R [dirs, rows, hid] and
     * B [dirs, 2 * rows] (absent: zeros), their gate blocks first rearranged so that ONNX position p
     * holds block {@code blocks[p]} (the {@code rnn_gate_order} fault; null keeps them).
     *
     * @param stateBits fraction bits of the hidden state R multiplies
     */
    static GateWeights[] of(QRecurrent.Parts parts, int[] blocks, QuantParams xq, int stateBits, RequantMode mode) {
        int directions = parts.w().dim(0);
        int rows = parts.w().dim(1);
        int input = parts.w().dim(2);
        int hid = parts.hid();
        float[] wv = parts.w().toFloat().floats();
        float[] rv = parts.r().toFloat().floats();
        float[] bv = parts.b() == null ? null : parts.b().toFloat().floats();
        float[] wp = permuted(wv, blocks, hid * input);
        float[] rp = permuted(rv, blocks, hid * hid);
        float[] bp = bv == null ? new float[directions * 2 * rows] : permuted(bv, blocks, hid);
        DType type = xq.type() == DType.INT16 ? DType.INT16 : DType.INT8;
        double sh = Math.scalb(1.0, -stateBits);
        GateWeights[] out = new GateWeights[directions];
        for (int d = 0; d < directions; d++) {
            GateWeights g = new GateWeights(rows, input, hid);
            float[] sw = perRow(wp, d * rows * input, rows, input, type, g.w);
            float[] sr = perRow(rp, d * rows * hid, rows, hid, type, g.r);
            for (int row = 0; row < rows; row++) {
                double accX = (double) xq.scale(0) * sw[row];
                double accH = sh * sr[row];
                g.wBias[row] = int32(bp[d * 2 * rows + row] / accX);
                g.rBias[row] = int32(bp[d * 2 * rows + rows + row] / accH);
                g.xToPre[row] = new Requantizer(Math.scalb(accX, QRecurrent.PRE_BITS), mode);
                g.hToPre[row] = new Requantizer(Math.scalb(accH, QRecurrent.PRE_BITS), mode);
            }
            out[d] = g;
        }
        return out;
    }

    /**
     * {@code acc_x} of {@code count} input vectors ({@code x - zp_x}, [count, input]) for every row,
     * requantized to Q3.12: [count, rows].
     */
    long[] project(int[] xs, int count) {
        long[] out = new long[count * rows];
        IntStream.range(0, count).parallel().forEach(tb -> {
            int xo = tb * input;
            for (int row = 0; row < rows; row++) {
                long acc = wBias[row];
                int wo = row * input;
                for (int k = 0; k < input; k++) {
                    acc += (long) xs[xo + k] * w[wo + k];
                }
                out[tb * rows + row] = xToPre[row].scale(acc);
            }
        });
        return out;
    }

    /**
     * {@code acc_h} of {@code count} gates from gate {@code from} for one state vector (codes of the
     * state's format from {@code off}), requantized to Q3.12.
     */
    long[] recur(int[] v, int off, int from, int count) {
        long[] out = new long[count * hid];
        for (int i = 0; i < out.length; i++) {
            int row = from * hid + i;
            long acc = rBias[row];
            int ro = row * hid;
            for (int j = 0; j < hid; j++) {
                acc += (long) v[off + j] * r[ro + j];
            }
            out[i] = hToPre[row].scale(acc);
        }
        return out;
    }

    private static long int32(double v) {
        return QRecurrent.saturate((long) Math.rint(v), Integer.MIN_VALUE, Integer.MAX_VALUE);
    }

    /**
     * Symmetric per-row codes of one direction's [rows, cols] weight from {@code off}, written into
     * {@code codes}; returns the row scales.
     */
    private static float[] perRow(float[] v, int off, int rows, int cols, DType type, int[] codes) {
        float[] scales = new float[rows];
        float qmax = type.max();
        for (int row = 0; row < rows; row++) {
            float max = 0;
            for (int k = 0; k < cols; k++) {
                max = Math.max(max, Math.abs(v[off + row * cols + k]));
            }
            float s = max > 0 ? max / qmax : 1f;
            scales[row] = s;
            for (int k = 0; k < cols; k++) {
                float q = (float) Math.rint(v[off + row * cols + k] / s);
                codes[row * cols + k] = (int) Math.max(-qmax, Math.min(qmax, q));
            }
        }
        return scales;
    }

    /**
     * The gate blocks (of {@code block} values each, {@code blocks.length} per group) of every group
     * rearranged so that position p holds block {@code blocks[p]}; the values unchanged for null.
     */
    private static float[] permuted(float[] v, int[] blocks, int block) {
        if (blocks == null) {
            return v;
        }
        float[] out = new float[v.length];
        int group = blocks.length * block;
        for (int g = 0; g < v.length / group; g++) {
            for (int p = 0; p < blocks.length; p++) {
                System.arraycopy(v, g * group + blocks[p] * block, out, g * group + p * block, block);
            }
        }
        return out;
    }
}
