package dev.layerprobe.host.analyze;

import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.core.tensor.Tensor;

/**
 * The model output's values of one input as golden, the simulator and the device computed them,
 * kept for the task metrics ({@link TaskMetrics}): only a model with one output of at most
 * {@link #MAX_ELEMENTS} values (a classifier's scores) is captured, so an input never keeps a
 * large tensor. Each side is written by one thread; read once the input has finished.
 */
final class OutputCapture {
    /** Outputs larger than this are not kept (a classifier has far fewer classes). */
    static final int MAX_ELEMENTS = 1 << 16;

    private final String name;
    private volatile float[] golden;
    private volatile float[] simulator;
    private volatile float[] device;
    private volatile int[] shape;

    OutputCapture(String name) {
        this.name = name;
    }

    /** Golden's value of a tensor: kept when it is the output. */
    void golden(String tensor, Tensor t) {
        if (tensor.equals(name) && t.isFloating() && t.size() <= MAX_ELEMENTS) {
            golden = t.toFloat().floats().clone();
            shape = t.shape();
        }
    }

    /** The simulator's value of a layer: kept when it is the output. */
    void simulator(String layer, LayerValue v) {
        if (layer.equals(name)) {
            Tensor real = v.real();
            if (real.size() <= MAX_ELEMENTS) {
                simulator = real.toFloat().floats().clone();
            }
        }
    }

    /** A chunk of the device's value of a layer, elements {@code [first, first + n)}: kept when it is the output. */
    void device(String layer, int[] layerShape, long first, float[] values, int n) {
        if (!layer.equals(name)) {
            return;
        }
        long size = 1;
        for (int d : layerShape) {
            size *= d;
        }
        if (size > MAX_ELEMENTS) {
            return;
        }
        float[] d = device;
        if (d == null || d.length != size) {
            d = new float[(int) size];
            device = d;
        }
        System.arraycopy(values, 0, d, (int) first, n);
    }

    /**
     * Whether the output looks like a classifier's scores: shape {@code [C]} or {@code [1, C]}
     * with {@code C > 1}.
     */
    boolean classifier() {
        int[] s = shape;
        return s != null && ((s.length == 1 && s[0] > 1) || (s.length == 2 && s[0] == 1 && s[1] > 1));
    }

    float[] golden() {
        return golden;
    }

    float[] simulator() {
        return simulator;
    }

    float[] device() {
        return device;
    }

    /** The {@code k} largest scores' indices, highest first (ties: lower index first); null for no scores. */
    static int[] top(float[] scores, int k) {
        if (scores == null) {
            return null;
        }
        int n = Math.min(k, scores.length);
        int[] best = new int[n];
        boolean[] taken = new boolean[scores.length];
        for (int j = 0; j < n; j++) {
            int b = -1;
            for (int i = 0; i < scores.length; i++) {
                // NaN never wins: a NaN score is no prediction
                if (!taken[i] && !Float.isNaN(scores[i]) && (b < 0 || scores[i] > scores[b])) {
                    b = i;
                }
            }
            if (b < 0) {
                return java.util.Arrays.copyOf(best, j);
            }
            best[j] = b;
            taken[b] = true;
        }
        return best;
    }
}
