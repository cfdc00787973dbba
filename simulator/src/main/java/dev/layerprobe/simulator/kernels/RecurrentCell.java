package dev.layerprobe.simulator.kernels;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Node;
import java.util.Arrays;

/**
 * What LSTM, GRU and RNN share, as the ONNX operator spec states it for all three (opsets 7, 14,
 * 22; the opset 1 and 3 forms read the same way): the attributes {@code direction},
 * {@code hidden_size}, {@code clip}, {@code layout} and the activations; the inputs X, W, R, B,
 * sequence_lens and initial_h at positions 0 to 5; the outputs Y and Y_h and their layouts; the
 * input projection and the recurrent product.
 *
 * <p>Conventions, stated once here: gates are stacked in W and R in the spec's order
 * ({@code gates} blocks of {@code hidden_size} rows), B holds the W biases then the R biases.
 * Internally time is the outer index ([seq, batch, ...]); {@code layout = 1} tensors are converted
 * on entry and exit. Batch entry b runs {@code sequence_lens[b]} steps (all steps when the input is
 * absent): forward from time 0, reverse from time {@code len - 1} down to 0. Y is zero at times
 * past an entry's length; Y_h (and LSTM's Y_c) hold the state after the entry's last step, zero
 * for an entry of length 0 (as ONNX Runtime does). Products accumulate in float32 with k
 * ascending ({@link Sgemm}): X W^T for all steps at once, then H R^T at every step; biases (W's
 * and R's, summed once) and peepholes are added after the products, then the input of each gate
 * activation is clipped to {@code [-clip, clip]} when {@code clip} is given.
 */
final class RecurrentCell {
    final int hidden;
    final int directions;
    final boolean bidirectional;
    final boolean reverse;
    final boolean batchMajor;
    final float clip;
    final int gates;
    final RecurrentActivation[] activations;
    final int perDirection;
    /** R transposed per direction, for the recurrent product; see {@link #transposedR}. */
    private volatile TransposedR transposedR;

    RecurrentCell(Node node, int gates, String... defaultActivations) {
        String direction = KernelArgs.oneOf(node, "direction", "forward", "forward", "reverse", "bidirectional");
        this.bidirectional = direction.equals("bidirectional");
        this.reverse = direction.equals("reverse");
        this.directions = bidirectional ? 2 : 1;
        long h = node.attrInt("hidden_size", 0);
        if (h < 0 || h > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("hidden_size=" + h + " is out of range");
        }
        this.hidden = (int) h;
        this.batchMajor = KernelArgs.oneOf(node, "layout", 0, 0, 1) == 1;
        float c = node.attrFloat("clip", Float.POSITIVE_INFINITY);
        if (!(c > 0)) {
            throw new IllegalArgumentException("clip=" + c + " must be positive");
        }
        this.clip = c;
        this.gates = gates;
        this.perDirection = defaultActivations.length;
        this.activations = RecurrentActivation.parse(node, directions, defaultActivations);
    }

    /**
     * The cell of an LSTM (gates i, o, f, c; activations f, g, h), GRU (z, r, h; f, g) or RNN (i; f)
     * node, with its op's default activations.
     */
    static RecurrentCell of(Node node) {
        return switch (node.opType()) {
            case "LSTM" -> new RecurrentCell(node, 4, "Sigmoid", "Tanh", "Tanh");
            case "GRU" -> new RecurrentCell(node, 3, "Sigmoid", "Tanh");
            case "RNN" -> new RecurrentCell(node, 1, "Tanh");
            default -> throw new IllegalArgumentException(node.opType() + " is not a recurrent op");
        };
    }

    /** The activation {@code i} (0 = f, 1 = g, 2 = h) of direction d. */
    RecurrentActivation activation(int d, int i) {
        return activations[d * perDirection + i];
    }

    /**
     * R [directions, gh, hid] as [directions, hid, gh], so that the product at every step runs its
     * vector loop over the gate rows. Kept while R is the same array: tensors are immutable once
     * handed to a kernel, and R is the same initializer run after run.
     */
    private TransposedR transposedR(float[] r, int gh, int hid) {
        TransposedR t = transposedR;
        if (t != null && t.source == r && t.gh == gh && t.hid == hid) {
            return t;
        }
        float[] rt = new float[r.length];
        float[][][] rows = new float[directions][hid][gh];
        for (int d = 0; d < directions; d++) {
            int base = d * gh * hid;
            for (int j = 0; j < gh; j++) {
                for (int k = 0; k < hid; k++) {
                    rt[base + k * gh + j] = r[base + j * hid + k];
                    rows[d][k][j] = r[base + j * hid + k];
                }
            }
        }
        t = new TransposedR(r, gh, hid, rt, rows);
        transposedR = t;
        return t;
    }

    /**
     * R transposed, flat ([directions, hid, gh]) and as whole rows per direction: a product over
     * all the gates reads the rows in place, with nothing packed at every step.
     */
    private record TransposedR(float[] source, int gh, int hid, float[] rt, float[][][] rows) {}

    /** Whether direction d (0 or 1) runs backwards in time. */
    boolean backwards(int d) {
        return reverse || d == 1;
    }

    /** One evaluation: the inputs checked and converted to the internal layout, and the outputs. */
    final class Run {
        final DType dtype;
        final int seq;
        final int batch;
        final int input;
        final int hid;
        /** X as [seq, batch, input]. */
        final float[] x;

        final float[] w;
        final float[] r;
        /** R transposed: [directions, hidden, gates * hidden]. */
        final float[] rTransposed;
        /** The same as rows of gates * hidden, per direction. */
        final float[][][] rRows;
        /** Wb + Rb per direction, [directions, gates * hidden] (zeros when B is absent). */
        final float[] bias;
        /** Wb and Rb alone, for GRU's h gate with linear_before_reset. */
        final float[] wBias;

        final float[] rBias;
        final int[] lens;
        final int maxLen;
        /** Y as [seq, directions, batch, hidden]; Y_h as [directions, batch, hidden]. */
        final float[] y;

        final float[] yh;

        Run(Tensor[] inputs) {
            Tensor xt = KernelArgs.required(inputs, 0, "X");
            Tensor wt = KernelArgs.required(inputs, 1, "W");
            Tensor rt = KernelArgs.required(inputs, 2, "R");
            KernelArgs.requireFloating(xt, "X");
            KernelArgs.requireFloating(wt, "W");
            KernelArgs.requireFloating(rt, "R");
            if (xt.rank() != 3 || wt.rank() != 3 || rt.rank() != 3) {
                throw new IllegalArgumentException("X, W and R must be 3-D, got " + Arrays.toString(xt.shape()) + ", "
                        + Arrays.toString(wt.shape()) + " and " + Arrays.toString(rt.shape()));
            }
            dtype = xt.dtype();
            seq = xt.dim(batchMajor ? 1 : 0);
            batch = xt.dim(batchMajor ? 0 : 1);
            input = xt.dim(2);
            hid = hidden > 0 ? hidden : rt.dim(2);
            int gh = gates * hid;
            expect(wt, "W", directions, gh, input);
            expect(rt, "R", directions, gh, hid);
            x = batchMajor
                    ? swap01(xt.toFloat().floats(), batch, seq, input)
                    : xt.toFloat().floats();
            w = wt.toFloat().floats();
            r = rt.toFloat().floats();
            TransposedR tr = transposedR(r, gh, hid);
            rTransposed = tr.rt;
            rRows = tr.rows;
            Tensor bt = KernelArgs.optional(inputs, 3);
            bias = new float[directions * gh];
            wBias = new float[directions * gh];
            rBias = new float[directions * gh];
            if (bt != null) {
                KernelArgs.requireFloating(bt, "B");
                expect(bt, "B", directions, 2 * gh);
                float[] b = bt.toFloat().floats();
                for (int d = 0; d < directions; d++) {
                    for (int j = 0; j < gh; j++) {
                        float wb = b[d * 2 * gh + j];
                        float rb = b[d * 2 * gh + gh + j];
                        bias[d * gh + j] = wb + rb;
                        wBias[d * gh + j] = wb;
                        rBias[d * gh + j] = rb;
                    }
                }
            }
            lens = new int[batch];
            Tensor st = KernelArgs.optional(inputs, 4);
            if (st == null) {
                Arrays.fill(lens, seq);
            } else {
                if (st.isFloating() || st.size() != batch) {
                    throw new IllegalArgumentException("sequence_lens must be an integer tensor of " + batch
                            + " values, got " + st.dtype() + " " + Arrays.toString(st.shape()));
                }
                for (int b = 0; b < batch; b++) {
                    long v = st.getLong(b);
                    if (v < 0 || v > seq) {
                        throw new IllegalArgumentException(
                                "sequence_lens[" + b + "]=" + v + " is out of range (valid: 0.." + seq + ")");
                    }
                    lens[b] = (int) v;
                }
            }
            maxLen = Arrays.stream(lens).max().orElse(0);
            y = new float[seq * directions * batch * hid];
            yh = new float[directions * batch * hid];
        }

        /** The time of step s of batch entry b in direction d. */
        int time(int d, int b, int s) {
            return backwards(d) ? lens[b] - 1 - s : s;
        }

        /**
         * The initial state (initial_h, initial_c) of direction d as [batch, hidden], zeros when the
         * input is absent.
         */
        float[] initial(Tensor t, String what, int d) {
            float[] out = new float[batch * hid];
            if (t == null) {
                return out;
            }
            KernelArgs.requireFloating(t, what);
            if (batchMajor) {
                expect(t, what, batch, directions, hid);
            } else {
                expect(t, what, directions, batch, hid);
            }
            float[] v = t.toFloat().floats();
            for (int b = 0; b < batch; b++) {
                int from = batchMajor ? (b * directions + d) * hid : (d * batch + b) * hid;
                System.arraycopy(v, from, out, b * hid, hid);
            }
            return out;
        }

        /** X W[d]^T for every time and batch entry: [seq * batch, gates * hidden]. */
        float[] project(int d) {
            int gh = gates * hid;
            float[] out = new float[seq * batch * gh];
            Sgemm.run(x, 0, input, 1, w, d * gh * input, 1, input, out, 0, gh, 1, seq * batch, input, gh, true);
            return out;
        }

        /**
         * h R[d]^T over {@code count} gates from gate {@code from}: [batch, count * hidden], for h of
         * [batch, hidden].
         */
        float[] recur(float[] h, int d, int from, int count) {
            int cols = count * hid;
            float[] out = new float[batch * cols];
            int gh = gates * hid;
            if (from == 0 && count == gates) {
                Sgemm.runRows(h, 0, hid, 1, rRows[d], out, 0, cols, batch, hid, cols, false);
                return out;
            }
            Sgemm.run(
                    h,
                    0,
                    hid,
                    1,
                    rTransposed,
                    d * gh * hid + from * hid,
                    gh,
                    1,
                    out,
                    0,
                    cols,
                    1,
                    batch,
                    hid,
                    cols,
                    false);
            return out;
        }

        /** Stores state h of batch entry b at time t in Y. */
        void emit(int d, int b, int t, float[] h) {
            System.arraycopy(h, b * hid, y, ((t * directions + d) * batch + b) * hid, hid);
        }

        /** Stores the final state of batch entry b (Y_h, or Y_c in {@code into}). */
        void last(float[] into, int d, int b, float[] state) {
            if (lens[b] > 0) {
                System.arraycopy(state, b * hid, into, (d * batch + b) * hid, hid);
            }
        }

        /**
         * The node's {@code count} outputs in its layout: Y, Y_h, then the given further finals
         * (Y_c).
         */
        Tensor[] outputs(int count, float[]... finals) {
            Tensor[] out = new Tensor[Math.min(count, 2 + finals.length)];
            if (out.length == 0) {
                return out;
            }
            out[0] = batchMajor
                    ? Outputs.floats(
                            dtype, new int[] {batch, seq, directions, hid}, swap01(y, seq, directions, batch, hid))
                    : Outputs.floats(dtype, new int[] {seq, directions, batch, hid}, y);
            for (int i = 1; i < out.length; i++) {
                out[i] = state(i == 1 ? yh : finals[i - 2]);
            }
            return out;
        }

        private Tensor state(float[] v) {
            return batchMajor
                    ? Outputs.floats(dtype, new int[] {batch, directions, hid}, swap01(v, directions, batch, hid))
                    : Outputs.floats(dtype, new int[] {directions, batch, hid}, v);
        }
    }

    /** [a, b, inner] as [b, a, inner]. */
    static float[] swap01(float[] v, int a, int b, int inner) {
        return swap01(v, a, 1, b, inner);
    }

    /** [a, mid, b, inner] as [b, a, mid, inner]. */
    static float[] swap01(float[] v, int a, int mid, int b, int inner) {
        float[] out = new float[v.length];
        for (int i = 0; i < a; i++) {
            for (int m = 0; m < mid; m++) {
                for (int j = 0; j < b; j++) {
                    System.arraycopy(v, ((i * mid + m) * b + j) * inner, out, ((j * a + i) * mid + m) * inner, inner);
                }
            }
        }
        return out;
    }

    static void expect(Tensor t, String what, int... dims) {
        if (!Arrays.equals(t.shape(), dims)) {
            throw new IllegalArgumentException(
                    what + " has shape " + Arrays.toString(t.shape()) + ", expected " + Arrays.toString(dims));
        }
    }
}
