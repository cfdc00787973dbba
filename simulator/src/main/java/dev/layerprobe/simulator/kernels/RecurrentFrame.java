package dev.layerprobe.simulator.kernels;

import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Node;
import java.util.function.DoubleUnaryOperator;

/**
 * An LSTM, GRU or RNN node as the recurrent kernels outside the float ones see it (the integer
 * kernels of {@code kernels.quantized}): its attributes, and for one evaluation its inputs checked
 * and laid out and its outputs assembled, all in the conventions {@link RecurrentCell} states for the
 * float kernels (gate order, B's halves, [seq, batch, ...] inside, layout 1 converted on entry and
 * exit, sequence lengths, Y zero past an entry's length). A kernel that holds integer codes passes
 * them as float32 values (exact below 2^24) and reads them back the same way. Immutable; each
 * {@link Evaluation} belongs to one run.
 */
public final class RecurrentFrame {
    private final RecurrentCell cell;

    /**
     * @throws IllegalArgumentException for an op other than LSTM, GRU and RNN, or attributes the
     *     float kernels refuse
     */
    public RecurrentFrame(Node node) {
        this.cell = RecurrentCell.of(node);
    }

    /** Gate blocks stacked in W, R and each half of B: 4 (LSTM), 3 (GRU), 1 (RNN). */
    public int gates() {
        return cell.gates;
    }

    public int directions() {
        return cell.directions;
    }

    /** Whether direction d runs backwards in time. */
    public boolean backwards(int d) {
        return cell.backwards(d);
    }

    /** The {@code clip} attribute, infinite when absent. */
    public float clip() {
        return cell.clip;
    }

    /** Activations per direction: 3 (LSTM f, g, h), 2 (GRU f, g), 1 (RNN f). */
    public int activationsPerDirection() {
        return cell.perDirection;
    }

    /** Activation i of direction d as the float kernels compute it (float32), without the clip. */
    public DoubleUnaryOperator activation(int d, int i) {
        RecurrentActivation a = cell.activation(d, i);
        return x -> a.apply((float) x);
    }

    /** The ONNX name of activation i of direction d, for messages. */
    public String activationName(int d, int i) {
        return cell.activation(d, i).kind().onnxName;
    }

    /**
     * One evaluation on the node's inputs (X, W, R, B, sequence_lens, initial_h, ... at their ONNX
     * positions, null where absent), checked as the float kernels check them.
     *
     * @throws IllegalArgumentException naming the input whose shape or values are wrong
     */
    public Evaluation evaluate(Tensor[] inputs) {
        return new Evaluation(cell.new Run(inputs));
    }

    /** The inputs of one evaluation in the internal layout, and its outputs as they are emitted. */
    public static final class Evaluation {
        private final RecurrentCell.Run run;

        private Evaluation(RecurrentCell.Run run) {
            this.run = run;
        }

        public int seq() {
            return run.seq;
        }

        public int batch() {
            return run.batch;
        }

        public int input() {
            return run.input;
        }

        public int hidden() {
            return run.hid;
        }

        /** X as [seq, batch, input]. */
        public float[] x() {
            return run.x;
        }

        /** The steps batch entry b runs. */
        public int length(int b) {
            return run.lens[b];
        }

        /** The most steps any batch entry runs. */
        public int maxLength() {
            return run.maxLen;
        }

        /** The time of step s of batch entry b in direction d. */
        public int time(int d, int b, int s) {
            return run.time(d, b, s);
        }

        /** Initial state {@code t} (initial_h or initial_c, named {@code what}) of direction d as [batch, hidden]. */
        public float[] initial(Tensor t, String what, int d) {
            return run.initial(t, what, d);
        }

        /** Stores the [batch, hidden] state h of batch entry b at time t in Y. */
        public void emit(int d, int b, int t, float[] h) {
            run.emit(d, b, t, h);
        }

        /** Stores the final state of batch entry b in Y_h. */
        public void lastH(int d, int b, float[] h) {
            run.last(run.yh, d, b, h);
        }

        /** Stores the final state of batch entry b in {@code into} ([directions, batch, hidden], LSTM's Y_c). */
        public void last(float[] into, int d, int b, float[] state) {
            run.last(into, d, b, state);
        }

        /** The node's {@code count} outputs in its layout: Y, Y_h, then the further finals (Y_c). */
        public Tensor[] outputs(int count, float[]... finals) {
            return run.outputs(count, finals);
        }
    }
}
