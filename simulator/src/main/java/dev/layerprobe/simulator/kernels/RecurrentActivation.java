package dev.layerprobe.simulator.kernels;

import dev.layerprobe.simulator.graph.Node;
import java.util.Arrays;
import java.util.Locale;

/**
 * One activation function of a recurrent op (LSTM, GRU, RNN), as the ONNX operator spec lists
 * them: Relu, Tanh, Sigmoid, Affine, LeakyRelu, ThresholdedRelu, ScaledTanh, HardSigmoid, Elu,
 * Softsign, Softplus. Names match without regard to case, as in ONNX Runtime.
 *
 * <p>{@code activation_alpha} and {@code activation_beta} are consumed in the order of the
 * {@code activations} list, one value by each function that takes that parameter; a function left
 * without a value takes the default of the ONNX operator of the same name (LeakyRelu 0.01,
 * ThresholdedRelu 1, HardSigmoid 0.2 and 0.5, Elu 1; Affine 1 and 0, ScaledTanh 1 and 1).
 * Values are float32; the transcendental functions are evaluated in double and rounded once.
 *
 * @param kind  the function
 * @param alpha its alpha (unused by functions without one)
 * @param beta  its beta (unused by functions without one)
 */
record RecurrentActivation(Kind kind, float alpha, float beta) {
    /** The functions; {@code alpha}/{@code beta} say which parameters each takes and their default. */
    enum Kind {
        RELU("Relu", Float.NaN, Float.NaN),
        TANH("Tanh", Float.NaN, Float.NaN),
        SIGMOID("Sigmoid", Float.NaN, Float.NaN),
        AFFINE("Affine", 1f, 0f),
        LEAKY_RELU("LeakyRelu", 0.01f, Float.NaN),
        THRESHOLDED_RELU("ThresholdedRelu", 1f, Float.NaN),
        SCALED_TANH("ScaledTanh", 1f, 1f),
        HARD_SIGMOID("HardSigmoid", 0.2f, 0.5f),
        ELU("Elu", 1f, Float.NaN),
        SOFTSIGN("Softsign", Float.NaN, Float.NaN),
        SOFTPLUS("Softplus", Float.NaN, Float.NaN);

        final String onnxName;
        final float alpha;
        final float beta;

        Kind(String onnxName, float alpha, float beta) {
            this.onnxName = onnxName;
            this.alpha = alpha;
            this.beta = beta;
        }

        boolean takesAlpha() {
            return !Float.isNaN(alpha);
        }

        boolean takesBeta() {
            return !Float.isNaN(beta);
        }

        static Kind named(String name) {
            for (Kind k : values()) {
                if (k.onnxName.toLowerCase(Locale.ROOT).equals(name.toLowerCase(Locale.ROOT))) {
                    return k;
                }
            }
            String[] valid = Arrays.stream(values()).map(k -> k.onnxName).toArray(String[]::new);
            throw new IllegalArgumentException(
                    "activation '" + name + "' is not supported (valid: " + Arrays.toString(valid) + ")");
        }
    }

    /** f(x) in float32. */
    float apply(float x) {
        return switch (kind) {
            case RELU -> Math.max(x, 0f);
            case TANH -> (float) Math.tanh(x);
            case SIGMOID -> (float) (1.0 / (1.0 + Math.exp(-x)));
            case AFFINE -> alpha * x + beta;
            case LEAKY_RELU -> x >= 0f ? x : alpha * x;
            case THRESHOLDED_RELU -> x >= alpha ? x : 0f;
            case SCALED_TANH -> alpha * (float) Math.tanh(beta * x);
            case HARD_SIGMOID -> Math.min(Math.max(alpha * x + beta, 0f), 1f);
            case ELU -> x >= 0f ? x : alpha * (float) Math.expm1(x);
            case SOFTSIGN -> x / (1f + Math.abs(x));
            case SOFTPLUS -> (float) (x > 30 ? x : Math.log1p(Math.exp(x)));
        };
    }

    /**
     * v[i] = f(min(max(v[i], -clip), clip)) for i in [off, off + len), the same values as
     * {@link #apply(float, float)}; Tanh and Sigmoid a whole run at a time ({@link TanhSigmoid}).
     */
    void applyInPlace(float[] v, int off, int len, float clip) {
        if (clip != Float.POSITIVE_INFINITY) {
            for (int i = off; i < off + len; i++) {
                v[i] = Math.min(Math.max(v[i], -clip), clip);
            }
        }
        if (kind == Kind.TANH || kind == Kind.SIGMOID) {
            TanhSigmoid.apply(v, off, v, off, len, kind == Kind.TANH);
        } else {
            for (int i = off; i < off + len; i++) {
                v[i] = apply(v[i]);
            }
        }
    }

    /** f(min(max(x, -clip), clip)): the spec's {@code clip} bounds every activation's input. */
    float apply(float x, float clip) {
        return apply(Math.min(Math.max(x, -clip), clip));
    }

    /**
     * The node's activations for every direction, {@code perDirection} per direction in the order
     * of the spec's equations (forward's, then reverse's). An absent list takes the defaults for each
     * direction; a list of one direction's functions for a bidirectional node applies to both.
     */
    static RecurrentActivation[] parse(Node node, int directions, String... defaults) {
        int perDirection = defaults.length;
        String[] names = node.attr("activations") == null
                ? null
                : node.attr("activations").strings();
        if (names == null || names.length == 0) {
            names = new String[perDirection * directions];
            for (int d = 0; d < directions; d++) {
                System.arraycopy(defaults, 0, names, d * perDirection, perDirection);
            }
        }
        if (names.length != perDirection && names.length != perDirection * directions) {
            throw new IllegalArgumentException("activations has " + names.length + " entries, expected "
                    + perDirection * directions + " (" + perDirection + " per direction)");
        }
        float[] alphas = node.attrFloats("activation_alpha", new float[0]);
        float[] betas = node.attrFloats("activation_beta", new float[0]);
        int ai = 0;
        int bi = 0;
        RecurrentActivation[] parsed = new RecurrentActivation[names.length];
        for (int i = 0; i < names.length; i++) {
            Kind k = Kind.named(names[i]);
            float a = k.alpha;
            float b = k.beta;
            if (k.takesAlpha() && ai < alphas.length) {
                a = alphas[ai++];
            }
            if (k.takesBeta() && bi < betas.length) {
                b = betas[bi++];
            }
            parsed[i] = new RecurrentActivation(k, a, b);
        }
        if (parsed.length == perDirection * directions) {
            return parsed;
        }
        RecurrentActivation[] all = new RecurrentActivation[perDirection * directions];
        for (int d = 0; d < directions; d++) {
            System.arraycopy(parsed, 0, all, d * perDirection, perDirection);
        }
        return all;
    }
}
