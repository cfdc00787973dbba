package dev.layerprobe.simulator.kernels.quantized;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.QTensor;
import dev.layerprobe.core.tensor.QuantParams;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Node;
import dev.layerprobe.simulator.kernels.RecurrentFrame;
import dev.layerprobe.simulator.profile.RecurrentState;
import dev.layerprobe.simulator.profile.RequantMode;
import java.util.List;
import java.util.function.Function;

/**
 * Integer LSTM, GRU and RNN of the emulated NPU, in the fixed-point formats vendor NPUs document for
 * their recurrent layers (TFLite's integer LSTM and the NPU toolchains that follow it): what the
 * three share, and their whole numeric convention, stated once here. The gate equations are the
 * ONNX spec's, written out in {@link QLstm}, {@link QGru} and {@link QRnn}; directions, sequence
 * lengths, initial states, layouts and clip follow the float kernels ({@link RecurrentFrame}).
 *
 * <ul>
 *   <li><b>Input and weights.</b> X is read as codes of the layer's input quantization (per tensor;
 *       int8 or uint8, or int16 in an int16 layer). W and R are quantized here from their real
 *       values (a QDQ file's codes dequantized), symmetric per row, i.e. per gate unit of a
 *       direction: {@code s = max|row| / qmax} (1 for a zero row), codes {@code rint(w / s)} in
 *       float32 (half to even) in [-127, 127] (int16 weights in [-32767, 32767] for an int16 X), so
 *       codes a file holds per row symmetrically come back unchanged. B's first half (W's biases)
 *       becomes int32 at {@code s_x * s_w[row]}, its second half (R's) int32 at
 *       {@code s_h * s_r[row]}, rounded half to even and saturated. LSTM's peepholes P are int16,
 *       symmetric per direction and gate ({@code s_p = max|P| / 32767}).</li>
 *   <li><b>Accumulation.</b> {@code acc_x = Wb + Σ (x - zp_x) w} and {@code acc_h = Rb + Σ h r},
 *       both in 64-bit integers (a device's int32 accumulator holds them while
 *       {@code input * 255 * 127} and {@code hidden * 2^15 * 127} stay below 2^31).</li>
 *   <li><b>Gate pre-activations</b> in Q3.12 (int16, {@code real = code * 2^-12}, [-8, 8)):
 *       {@code acc_x} and {@code acc_h} are requantized to it separately by
 *       {@code s_x * s_w[row] * 2^12} and {@code s_h * s_r[row] * 2^12} ({@link Requantizer}: Q31
 *       mantissa and shift, round half away from zero), a peephole product {@code p * c} by
 *       {@code s_p * 2^-11 * 2^12}; their sum saturates to int16 and is then clamped to
 *       {@code ±round(clip * 2^12)} when {@code clip} is given.</li>
 *   <li><b>Activations</b> by table: 513 int16 entries
 *       {@code T[k] = rint(2^15 * f(-8 + k / 32))} (saturated), k = 0..512; a pre-activation code
 *       p is read at {@code k = (p + 2^15) >> 7} with linear interpolation over its low 7 bits,
 *       {@code y = T[k] + round((T[k+1] - T[k]) * (p & 127) / 128)} (half away from zero), in Q0.15.
 *       Every spec activation whose values stay within [-1, 1] over [-8, 8] has a table (Sigmoid,
 *       Tanh, HardSigmoid, Softsign, ScaledTanh with |alpha| ≤ 1, ...); for any other (Relu, Elu,
 *       Softplus, LeakyRelu, ThresholdedRelu, Affine beyond that range) {@link #of} gives null and
 *       the layer stays on the CPU.</li>
 *   <li><b>Hidden state h</b> in the profile's {@code recurrent_state} format, zero point 0: int16
 *       Q0.15 (the default) or int8 Q0.7 ({@link RecurrentState}); initial_h is quantized to it
 *       (half to even, saturated: values beyond [-1, 1) saturate). <b>Cell state c</b> (LSTM) in
 *       int16 Q4.11 ([-16, 16)), initial_c likewise; the h activation reads c as a Q3.12
 *       pre-activation ({@code 2c}, saturated, so |c| ≥ 8 reads the table's end).</li>
 *   <li><b>Elementwise products</b> (gate by gate, gate by state) in 64-bit integers, one rounding
 *       per result: an arithmetic right shift rounding half away from zero, then saturation to the
 *       result's format.</li>
 *   <li><b>Outputs</b> Y, Y_h (and Y_c) requantized from the state's format by
 *       {@code 2^-frac / s_y} ({@link Requantizer}), plus the zero point, clamped to the output
 *       type; an output the program does not quantize (a Y_h no layer reads) comes out in the
 *       state's own format: INT16 (or INT8) codes at scale 2^-15 (2^-7), Y_c INT16 at 2^-11. Y
 *       is zero (its zero point) past an entry's length, Y_h zero for an entry of length 0.</li>
 *   <li><b>Fault {@code rnn_gate_order}</b>: the device reads the gate blocks of W, R and both
 *       halves of B in PyTorch's order (LSTM i, f, g, o; GRU r, z, n) instead of ONNX's (i, o, f, c;
 *       z, r, h); emulated by permuting those blocks before quantization. Peepholes, which PyTorch
 *       lacks, keep ONNX's order; RNN has one gate and no such fault.</li>
 * </ul>
 * Immutable; the input projection of all time steps runs in parallel ({@link GateWeights}), each
 * value with a fixed summation order, so results are deterministic.
 */
public abstract class QRecurrent {
    /** Fraction bits of gate pre-activations (Q3.12). */
    static final int PRE_BITS = 12;
    /** Fraction bits of activation outputs (Q0.15). */
    static final int GATE_BITS = 15;
    /** Fraction bits of LSTM's cell state (Q4.11). */
    static final int CELL_BITS = 11;
    /** 1.0 in Q0.15 (one more than int16 holds: products use 64 bits). */
    static final long ONE = 1L << GATE_BITS;

    final RecurrentFrame frame;
    final int hid;
    final int directions;
    final int stateBits;
    private final long stateMin;
    private final long stateMax;
    private final Node node;
    private final Tensor w;
    private final Tensor r;
    private final Tensor b;
    private final QuantParams xq;
    private final GateWeights[] weights;
    private final GateTable[] tables;
    private final long clipCode;
    private final List<QuantParams> outputQuant;
    private final Requantizer[] outputRequant;
    private final RecurrentState state;

    /** The parts of a node the constructor reads, checked by {@link #of}. */
    record Parts(Node node, Tensor w, Tensor r, Tensor b, Tensor p, int hid) {}

    QRecurrent(
            Parts parts,
            QuantParams xq,
            List<QuantParams> outputQuant,
            RecurrentState state,
            RequantMode mode,
            int[] pytorchBlocks) {
        this.node = parts.node();
        this.frame = new RecurrentFrame(node);
        this.directions = frame.directions();
        this.hid = parts.hid();
        this.w = parts.w();
        this.r = parts.r();
        this.b = parts.b();
        this.xq = xq;
        this.state = state;
        this.stateBits = state.fractionBits();
        this.stateMin = state == RecurrentState.INT8 ? DType.INT8.min() : DType.INT16.min();
        this.stateMax = state == RecurrentState.INT8 ? DType.INT8.max() : DType.INT16.max();
        this.weights = GateWeights.of(parts, pytorchBlocks, xq, stateBits, mode);
        int per = frame.activationsPerDirection();
        tables = new GateTable[directions * per];
        for (int d = 0; d < directions; d++) {
            for (int i = 0; i < per; i++) {
                tables[d * per + i] = GateTable.of(frame.activation(d, i));
            }
        }
        float clip = frame.clip();
        clipCode = Float.isInfinite(clip)
                ? Long.MAX_VALUE
                : Math.min(Math.round(Math.scalb((double) clip, PRE_BITS)), 32767);
        this.outputQuant = outputQuant;
        this.outputRequant = new Requantizer[outputQuant.size()];
        for (int i = 0; i < outputRequant.length; i++) {
            QuantParams q = outputQuant.get(i);
            if (q != null) {
                outputRequant[i] = new Requantizer(Math.scalb(1.0, -outputBits(i)) / q.scale(0), mode);
            }
        }
    }

    /**
     * The integer kernel of an LSTM, GRU or RNN node, or null where this convention has none (the
     * caller keeps the layer on the CPU): X not per-tensor int8, uint8 or int16; W, R, B or P not
     * float constants of the node's shapes; an output quantized per channel; an activation without a
     * table.
     *
     * @param constants       the graph's constant of a tensor name, or null for a runtime value
     * @param xq              X's quantization
     * @param outputQuant     the quantization of each node output (null where absent or unquantized)
     * @param pytorchGateOrder the {@code rnn_gate_order} fault (GRU and LSTM only)
     */
    public static QRecurrent of(
            Node node,
            Function<String, Tensor> constants,
            QuantParams xq,
            List<QuantParams> outputQuant,
            RecurrentState state,
            RequantMode mode,
            boolean pytorchGateOrder) {
        if (xq == null
                || !xq.isPerTensor()
                || (xq.type() != DType.INT8 && xq.type() != DType.UINT8 && xq.type() != DType.INT16)
                || outputQuant.stream().anyMatch(q -> q != null && !q.isPerTensor())) {
            return null;
        }
        RecurrentFrame frame = new RecurrentFrame(node);
        Parts parts = parts(node, constants, frame);
        if (parts == null) {
            return null;
        }
        for (int d = 0; d < frame.directions(); d++) {
            for (int i = 0; i < frame.activationsPerDirection(); i++) {
                if (GateTable.of(frame.activation(d, i)) == null) {
                    return null;
                }
            }
        }
        return switch (node.opType()) {
            case "LSTM" -> new QLstm(parts, xq, outputQuant, state, mode, pytorchGateOrder);
            case "GRU" -> new QGru(parts, xq, outputQuant, state, mode, pytorchGateOrder);
            case "RNN" -> {
                if (pytorchGateOrder) {
                    throw new IllegalArgumentException("rnn_gate_order does not apply to RNN (one gate)");
                }
                yield new QRnn(parts, xq, outputQuant, state, mode);
            }
            default -> null;
        };
    }

    /** W, R, B (and LSTM's P) as constants of the node's shapes, or null. */
    private static Parts parts(Node node, Function<String, Tensor> constants, RecurrentFrame frame) {
        Tensor w = constant(node, 1, constants);
        Tensor r = constant(node, 2, constants);
        Tensor b = node.hasInput(3) ? constant(node, 3, constants) : null;
        Tensor p = node.opType().equals("LSTM") && node.hasInput(7) ? constant(node, 7, constants) : null;
        if (w == null || r == null || w.rank() != 3 || r.rank() != 3) {
            return null;
        }
        int dirs = frame.directions();
        int hid = r.dim(2);
        int rows = frame.gates() * hid;
        boolean ok = hid > 0
                && w.dim(0) == dirs
                && w.dim(1) == rows
                && r.dim(0) == dirs
                && r.dim(1) == rows
                && (!node.hasInput(3) || (b != null && b.size() == dirs * 2 * rows))
                && (!node.hasInput(7) || !node.opType().equals("LSTM") || (p != null && p.size() == dirs * 3 * hid));
        return ok ? new Parts(node, w, r, b, p, hid) : null;
    }

    private static Tensor constant(Node node, int i, Function<String, Tensor> constants) {
        Tensor t = constants.apply(node.input(i));
        return t != null && t.isFloating() ? t : null;
    }

    /**
     * Runs the layer, reading sequence_lens and the initial states by their names in the node.
     *
     * @param x      X's codes, in the quantization given to {@link #of}
     * @param values the real value of a tensor the node reads (constants included), or null
     * @return one value per node output, in output order
     */
    public QTensor[] run(QTensor x, Function<String, Tensor> values) {
        Tensor[] extra = new Tensor[3];
        for (int i = 0; i < extra.length; i++) {
            extra[i] = node.hasInput(4 + i) ? values.apply(node.input(4 + i)) : null;
        }
        return run(x, extra[0], extra[1], extra[2]);
    }

    /**
     * Runs the layer.
     *
     * @param x            X's codes, in the quantization given to {@link #of}
     * @param sequenceLens sequence_lens, or null
     * @param initialH     initial_h in real values, or null
     * @param initialC     initial_c in real values (LSTM), or null
     * @return one value per node output, in output order
     */
    public QTensor[] run(QTensor x, Tensor sequenceLens, Tensor initialH, Tensor initialC) {
        Tensor[] in = new Tensor[Math.max(8, node.inputs().size())];
        in[0] = QuantizedValues.codesAsFloats(x);
        in[1] = w;
        in[2] = r;
        in[3] = b;
        in[4] = sequenceLens;
        in[5] = initialH;
        in[6] = initialC;
        RecurrentFrame.Evaluation ev = frame.evaluate(in);
        int batch = ev.batch();
        int[] xs = new int[ev.x().length];
        long zx = xq.zeroPoint(0);
        for (int i = 0; i < xs.length; i++) {
            xs[i] = (int) (ev.x()[i] - zx);
        }
        float[] cellFinal = hasCell() ? new float[directions * batch * hid] : null;
        float[] scratch = new float[batch * hid];
        for (int d = 0; d < directions; d++) {
            long[] preX = weights[d].project(xs, ev.seq() * batch);
            int[] h = fixed(ev.initial(initialH, "initial_h", d), stateBits, stateMin, stateMax);
            int[] c = hasCell()
                    ? fixed(ev.initial(initialC, "initial_c", d), CELL_BITS, DType.INT16.min(), DType.INT16.max())
                    : null;
            steps(d, ev, preX, h, c);
            for (int e = 0; e < batch; e++) {
                ev.lastH(d, e, floats(h, scratch));
                if (c != null) {
                    ev.last(cellFinal, d, e, floats(c, scratch));
                }
            }
        }
        Tensor[] out = cellFinal != null ? ev.outputs(outputQuant.size(), cellFinal) : ev.outputs(outputQuant.size());
        QTensor[] q = new QTensor[out.length];
        for (int i = 0; i < out.length; i++) {
            q[i] = requantized(i, out[i]);
        }
        return q;
    }

    /** Whether the op keeps a cell state (LSTM). */
    abstract boolean hasCell();

    /**
     * Runs direction d over every step of every batch entry, updating the states h (and c) in place
     * and emitting h into Y ({@link #emit}).
     *
     * @param preX the requantized input projections, [seq, batch, gates * hidden] in Q3.12
     */
    abstract void steps(int d, RecurrentFrame.Evaluation ev, long[] preX, int[] h, int[] c);

    /**
     * {@code acc_h} of {@code count} gates from gate {@code from} of direction d for one state vector
     * (codes of the state's format from {@code off}), requantized to Q3.12.
     */
    final long[] recur(int d, int[] v, int off, int from, int count) {
        return weights[d].recur(v, off, from, count);
    }

    /** Activation i of direction d on a sum of Q3.12 terms: saturated to int16, clipped, looked up; Q0.15. */
    final int gate(int d, int i, long pre) {
        long p = saturate(pre, DType.INT16.min(), DType.INT16.max());
        p = Math.max(-clipCode, Math.min(clipCode, p));
        return lookup(d, i, (int) p);
    }

    /** Activation i of direction d on a Q4.11 cell state, read as a Q3.12 pre-activation, unclipped. */
    final int ofCell(int d, int i, int c) {
        return lookup(d, i, (int) saturate((long) c << 1, DType.INT16.min(), DType.INT16.max()));
    }

    private int lookup(int d, int i, int p) {
        return tables[d * frame.activationsPerDirection() + i].at(p);
    }

    /** A product in units of 2^-30 (Q0.15 by Q0.15) as a state code. */
    final int toState(long q30) {
        return (int) saturate(shiftRound(q30, 2 * GATE_BITS - stateBits), stateMin, stateMax);
    }

    /** A state code in Q0.15. */
    final long q15(int h) {
        return (long) h << (GATE_BITS - stateBits);
    }

    /** Stores h of batch entry b at time t in Y. */
    final void emit(RecurrentFrame.Evaluation ev, float[] scratch, int d, int b, int t, int[] h) {
        for (int j = b * hid; j < (b + 1) * hid; j++) {
            scratch[j] = h[j];
        }
        ev.emit(d, b, t, scratch);
    }

    /** {@code x * 2^-s} rounded half away from zero ({@code s >= 1}). */
    static long shiftRound(long x, int s) {
        long half = 1L << (s - 1);
        return x >= 0 ? (x + half) >> s : -((-x + half) >> s);
    }

    static long saturate(long v, long lo, long hi) {
        return v < lo ? lo : v > hi ? hi : v;
    }

    /** Fraction bits of output i's codes before requantization: the state's, or the cell's for Y_c. */
    private int outputBits(int i) {
        return i == 2 ? CELL_BITS : stateBits;
    }

    /** Output i (codes held as floats) requantized to its quantization, or in its state format. */
    private QTensor requantized(int i, Tensor t) {
        float[] v = t.floats();
        int[] codes = new int[v.length];
        QuantParams q = outputQuant.get(i);
        if (q == null) {
            for (int k = 0; k < v.length; k++) {
                codes[k] = (int) v[k];
            }
            DType type = i == 2 || state == RecurrentState.INT16 ? DType.INT16 : DType.INT8;
            return new QTensor(
                    t.shape(), codes, QuantParams.perTensor(type, (float) Math.scalb(1.0, -outputBits(i)), 0));
        }
        long zp = q.zeroPoint(0);
        for (int k = 0; k < v.length; k++) {
            codes[k] = outputRequant[i].apply((long) v[k], zp, q.qmin(), q.qmax());
        }
        return new QTensor(t.shape(), codes, q);
    }

    /** Real values as codes of {@code bits} fraction bits, half to even, saturated. */
    private static int[] fixed(float[] v, int bits, long lo, long hi) {
        int[] out = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = (int) saturate((long) Math.rint(Math.scalb((double) v[i], bits)), lo, hi);
        }
        return out;
    }

    private static float[] floats(int[] codes, float[] into) {
        for (int i = 0; i < codes.length; i++) {
            into[i] = codes[i];
        }
        return into;
    }
}
