package dev.layerprobe.simulator.kernels;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Node;

/**
 * Elementwise unary ONNX operators, one factory per op type. Transcendental functions are
 * evaluated in double and rounded once to float32, so each result is the float32 nearest to the
 * exact value in practice. Ops that ONNX defines on integers (Relu, Neg, Abs, Sign, Not) accept
 * integer tensors; the others reject them. The kernels are stateless and thread-safe.
 */
public final class UnaryKernels {
    private UnaryKernels() {}

    /** A float32 function of one value. */
    @FunctionalInterface
    interface FloatFn {
        float apply(float x);
    }

    /** An integer function of one value (before wrapping to the tensor's width). */
    @FunctionalInterface
    interface LongFn {
        long apply(long x);
    }

    private static FloatKernel map(String op, FloatFn f, LongFn l) {
        return new FloatKernel() {
            @Override
            public Tensor[] run(Tensor[] inputs) {
                return map(op, f, l, inputs, false);
            }

            @Override
            public Tensor[] runReusing(Tensor[] inputs, int reusable) {
                return map(op, f, l, inputs, reusable == 0);
            }
        };
    }

    /** f (or l) of every value of X, into X's own data when {@code reuse} allows it. */
    private static Tensor[] map(String op, FloatFn f, LongFn l, Tensor[] inputs, boolean reuse) {
        Tensor x = KernelArgs.required(inputs, 0, "X");
        if (x.isFloating()) {
            float[] s = x.floats();
            float[] r = reuse ? s : new float[s.length];
            for (int i = 0; i < s.length; i++) {
                r[i] = f.apply(s[i]);
            }
            return new Tensor[] {Outputs.floats(x.dtype(), x.shape(), r)};
        }
        if (l == null) {
            throw new IllegalArgumentException(
                    op + " of type " + x.dtype() + " is not supported (valid: FLOAT32, FLOAT16, DOUBLE)");
        }
        long[] s = x.longs();
        long[] r = reuse ? s : new long[s.length];
        for (int i = 0; i < s.length; i++) {
            r[i] = l.apply(s[i]);
        }
        return new Tensor[] {Outputs.longs(x.dtype(), x.shape(), r)};
    }

    private static FloatKernel predicate(String op, FloatFn test) {
        return inputs -> {
            Tensor x = KernelArgs.required(inputs, 0, "X");
            KernelArgs.requireFloating(x, op + " input");
            float[] s = x.floats();
            long[] r = new long[s.length];
            for (int i = 0; i < s.length; i++) {
                r[i] = test.apply(s[i]) != 0f ? 1 : 0;
            }
            return new Tensor[] {Tensor.ofLongs(DType.BOOL, x.shape(), r)};
        };
    }

    static FloatKernel relu(Node n, int opset) {
        return inputs -> {
            Tensor x = KernelArgs.required(inputs, 0, "X");
            if (!x.isFloating()) {
                return map("Relu", null, v -> Math.max(v, 0)).run(inputs);
            }
            // Hot in CNNs: a plain loop the JIT vectorises. NaN stays NaN, as in numpy.
            float[] s = x.floats();
            float[] r = new float[s.length];
            for (int i = 0; i < s.length; i++) {
                float v = s[i];
                r[i] = v < 0f ? 0f : v;
            }
            return new Tensor[] {Tensor.ofFloats(x.dtype(), x.shape(), r)};
        };
    }

    static FloatKernel tanh(Node n, int opset) {
        return arrayMap("Tanh", true);
    }

    static FloatKernel sigmoid(Node n, int opset) {
        return arrayMap("Sigmoid", false);
    }

    /** Tanh or Sigmoid, a whole array at a time ({@link TanhSigmoid}), into X's data when it may be reused. */
    private static FloatKernel arrayMap(String op, boolean tanh) {
        return new FloatKernel() {
            @Override
            public Tensor[] run(Tensor[] inputs) {
                return runReusing(inputs, -1);
            }

            @Override
            public Tensor[] runReusing(Tensor[] inputs, int reusable) {
                Tensor x = KernelArgs.required(inputs, 0, "X");
                KernelArgs.requireFloating(x, op + " input");
                float[] s = x.floats();
                float[] r = reusable == 0 ? s : new float[s.length];
                TanhSigmoid.apply(s, 0, r, 0, s.length, tanh);
                return new Tensor[] {Outputs.floats(x.dtype(), x.shape(), r)};
            }
        };
    }

    static FloatKernel exp(Node n, int opset) {
        return map("Exp", x -> (float) Math.exp(x), null);
    }

    static FloatKernel log(Node n, int opset) {
        return map("Log", x -> (float) Math.log(x), null);
    }

    static FloatKernel sqrt(Node n, int opset) {
        return map("Sqrt", x -> (float) Math.sqrt(x), null);
    }

    static FloatKernel neg(Node n, int opset) {
        return map("Neg", x -> -x, x -> -x);
    }

    static FloatKernel abs(Node n, int opset) {
        return map("Abs", Math::abs, Math::abs);
    }

    static FloatKernel sign(Node n, int opset) {
        return map("Sign", Math::signum, Long::signum);
    }

    static FloatKernel reciprocal(Node n, int opset) {
        return map("Reciprocal", x -> 1f / x, null);
    }

    static FloatKernel floor(Node n, int opset) {
        return map("Floor", x -> (float) Math.floor(x), null);
    }

    static FloatKernel ceil(Node n, int opset) {
        return map("Ceil", x -> (float) Math.ceil(x), null);
    }

    /** Round: half to even, as ONNX specifies. */
    static FloatKernel round(Node n, int opset) {
        return map("Round", x -> (float) Math.rint(x), null);
    }

    static FloatKernel sin(Node n, int opset) {
        return map("Sin", x -> (float) Math.sin(x), null);
    }

    static FloatKernel cos(Node n, int opset) {
        return map("Cos", x -> (float) Math.cos(x), null);
    }

    static FloatKernel tan(Node n, int opset) {
        return map("Tan", x -> (float) Math.tan(x), null);
    }

    static FloatKernel asin(Node n, int opset) {
        return map("Asin", x -> (float) Math.asin(x), null);
    }

    static FloatKernel acos(Node n, int opset) {
        return map("Acos", x -> (float) Math.acos(x), null);
    }

    static FloatKernel atan(Node n, int opset) {
        return map("Atan", x -> (float) Math.atan(x), null);
    }

    static FloatKernel sinh(Node n, int opset) {
        return map("Sinh", x -> (float) Math.sinh(x), null);
    }

    static FloatKernel cosh(Node n, int opset) {
        return map("Cosh", x -> (float) Math.cosh(x), null);
    }

    static FloatKernel asinh(Node n, int opset) {
        return map(
                "Asinh",
                x -> {
                    double d = x;
                    return (float) (Math.signum(d) * Math.log(Math.abs(d) + Math.sqrt(d * d + 1)));
                },
                null);
    }

    static FloatKernel acosh(Node n, int opset) {
        return map("Acosh", x -> (float) Math.log(x + Math.sqrt((double) x * x - 1)), null);
    }

    static FloatKernel atanh(Node n, int opset) {
        return map("Atanh", x -> (float) (0.5 * Math.log((1.0 + x) / (1.0 - x))), null);
    }

    static FloatKernel softsign(Node n, int opset) {
        return map("Softsign", x -> x / (1f + Math.abs(x)), null);
    }

    static FloatKernel softplus(Node n, int opset) {
        return map("Softplus", x -> (float) Math.log1p(Math.exp(x)), null);
    }

    static FloatKernel erf(Node n, int opset) {
        return new FloatKernel() {
            @Override
            public Tensor[] run(Tensor[] inputs) {
                return erf(inputs, false);
            }

            @Override
            public Tensor[] runReusing(Tensor[] inputs, int reusable) {
                return erf(inputs, reusable == 0);
            }
        };
    }

    private static Tensor[] erf(Tensor[] inputs, boolean reuse) {
        Tensor x = KernelArgs.required(inputs, 0, "X");
        KernelArgs.requireFloating(x, "Erf");
        float[] s = x.floats();
        float[] r = reuse ? s : new float[s.length];
        // About 3 ns a value (Gelu's Erf is the costliest elementwise op of a transformer):
        // worth splitting over the pool's threads, as ONNX Runtime does.
        Chunks.run(s.length, ERF_NANOS, (from, to) -> {
            for (int i = from; i < to; i++) {
                r[i] = (float) erf((double) s[i]);
            }
        });
        return new Tensor[] {Outputs.floats(x.dtype(), x.shape(), r)};
    }

    static FloatKernel hardSigmoid(Node n, int opset) {
        float alpha = n.attrFloat("alpha", 0.2f);
        float beta = n.attrFloat("beta", 0.5f);
        return map("HardSigmoid", x -> Math.max(0f, Math.min(1f, alpha * x + beta)), null);
    }

    static FloatKernel hardSwish(Node n, int opset) {
        return map("HardSwish", x -> x * Math.max(0f, Math.min(1f, x / 6f + 0.5f)), null);
    }

    static FloatKernel leakyRelu(Node n, int opset) {
        float alpha = n.attrFloat("alpha", 0.01f);
        return map("LeakyRelu", x -> x < 0f ? alpha * x : x, null);
    }

    static FloatKernel elu(Node n, int opset) {
        float alpha = n.attrFloat("alpha", 1f);
        return map("Elu", x -> x < 0f ? (float) (alpha * Math.expm1(x)) : x, null);
    }

    static FloatKernel selu(Node n, int opset) {
        float alpha = n.attrFloat("alpha", 1.6732632f);
        float gamma = n.attrFloat("gamma", 1.050701f);
        return map("Selu", x -> x > 0f ? gamma * x : (float) (gamma * (alpha * Math.exp(x) - alpha)), null);
    }

    static FloatKernel celu(Node n, int opset) {
        float alpha = n.attrFloat("alpha", 1f);
        return map(
                "Celu", x -> (float) (Math.max(0.0, x) + Math.min(0.0, alpha * Math.expm1(x / (double) alpha))), null);
    }

    static FloatKernel thresholdedRelu(Node n, int opset) {
        float alpha = n.attrFloat("alpha", 1f);
        return map("ThresholdedRelu", x -> x > alpha ? x : 0f, null);
    }

    static FloatKernel shrink(Node n, int opset) {
        float bias = n.attrFloat("bias", 0f);
        float lambd = n.attrFloat("lambd", 0.5f);
        return map("Shrink", x -> x < -lambd ? x + bias : x > lambd ? x - bias : 0f, null);
    }

    static FloatKernel isNaN(Node n, int opset) {
        return predicate("IsNaN", x -> Float.isNaN(x) ? 1f : 0f);
    }

    static FloatKernel isInf(Node n, int opset) {
        boolean neg = n.attrInt("detect_negative", 1) != 0;
        boolean pos = n.attrInt("detect_positive", 1) != 0;
        return predicate(
                "IsInf", x -> (pos && x == Float.POSITIVE_INFINITY) || (neg && x == Float.NEGATIVE_INFINITY) ? 1f : 0f);
    }

    static FloatKernel not(Node n, int opset) {
        return inputs -> {
            Tensor x = KernelArgs.required(inputs, 0, "X");
            if (x.dtype() != DType.BOOL) {
                throw new IllegalArgumentException("Not of type " + x.dtype() + " is not supported (valid: BOOL)");
            }
            long[] s = x.longs();
            long[] r = new long[s.length];
            for (int i = 0; i < s.length; i++) {
                r[i] = s[i] == 0 ? 1 : 0;
            }
            return new Tensor[] {Tensor.ofLongs(DType.BOOL, x.shape(), r)};
        };
    }

    /** Nanoseconds per value of {@link #erf(double)} (measured), for {@link Chunks}. */
    private static final int ERF_NANOS = 3;

    /** Points per unit of the erf table, and how many Taylor terms each point carries. */
    private static final int ERF_STEPS = 256;

    private static final int ERF_TERMS = 5;
    /** Beyond this |x|, erf(x) is +-1 in double. */
    private static final double ERF_ONE = 6.0;
    /** Doubles per table point: erf(x0) and the five coefficients, padded to eight. */
    private static final int ERF_STRIDE = 8;
    /**
     * Per table point x0 = i / ERF_STEPS, at i * ERF_STRIDE: erf(x0), then the Taylor coefficients
     * of erf(x0 + h) in h. One flat array (98 KiB): one bounds check and no row load per value.
     */
    private static final double[] ERF_TABLE = erfTable();

    /**
     * The error function to about 1e-13 absolute: erf(x0 + h) = erf(x0) + sum over n of
     * erf^(n)(x0) h^n / n!, with x0 the nearest of a table every 1/256 (|h| <= 1/512, five terms:
     * the sixth is below 3e-18) and erf^(n)(x) = (2/sqrt pi) (-1)^(n-1) H_(n-1)(x) exp(-x^2) (H the
     * Hermite polynomials); the table is made once, its erf(x0) from the series in
     * {@link #erfReference} at every 1/32 expanded to the finer points. +-1 beyond |x| = 6 (the
     * table's last point, where erf is 1 in double); erf(-0) is +0.
     *
     * <p>Why this shape: the table's few terms (a finer table instead of ten terms every 1/32) halve
     * the dependent multiply-adds of each value, and there is no branch on the sign: it would be
     * mispredicted for half of a tensor's values, each miss throwing away the other values' chains
     * that the CPU was overlapping. The tests for NaN and for the end of the table are never or
     * almost never taken, so they cost less than branch-free forms. About 3 ns a value.
     */
    static double erf(double x) {
        if (Double.isNaN(x)) {
            return x;
        }
        double ax = Math.abs(x);
        ax = ax < ERF_ONE ? ax : ERF_ONE;
        int i = (int) Math.rint(ax * ERF_STEPS);
        double h = ax - (double) i / ERF_STEPS;
        double[] c = ERF_TABLE;
        int b = i * ERF_STRIDE;
        double sum = c[b + ERF_TERMS];
        for (int n = ERF_TERMS - 1; n >= 1; n--) {
            sum = c[b + n] + h * sum;
        }
        double r = c[b] + h * sum;
        // + 0.0 turns the -0 of erf(-0) into +0; it changes no other value.
        return Math.copySign(r, x) + 0.0;
    }

    private static double[] erfTable() {
        // erf(x0) at each point comes from anchors every 1/32 (the series, accurate to about 1e-14
        // there, with ten Taylor terms each), so that the fine table is as accurate as they are
        // rather than the series at 1537 points (5e-14 near |x| = 3, where its terms cancel).
        int anchors = (int) (ERF_ONE * 32) + 1;
        double[] coarse = new double[anchors * 11];
        for (int j = 0; j < anchors; j++) {
            double x0 = j / 32.0;
            taylor(x0, erfReference(x0), coarse, j * 11, 10);
        }
        int points = (int) (ERF_ONE * ERF_STEPS) + 1;
        double[] t = new double[points * ERF_STRIDE];
        for (int i = 0; i < points; i++) {
            double x0 = (double) i / ERF_STEPS;
            int j = (int) Math.rint(x0 * 32);
            double h = x0 - j / 32.0;
            double value = coarse[j * 11 + 10];
            for (int n = 9; n >= 0; n--) {
                value = coarse[j * 11 + n] + h * value;
            }
            taylor(x0, value, t, i * ERF_STRIDE, ERF_TERMS);
        }
        return t;
    }

    /** t[at] = erf(x0), t[at + n] = erf^(n)(x0) / n! for n = 1..terms. */
    private static void taylor(double x0, double erfX0, double[] t, int at, int terms) {
        double d = 2.0 / Math.sqrt(Math.PI) * Math.exp(-x0 * x0);
        t[at] = erfX0;
        // H_0 = 1, H_1 = 2x, H_(k+1) = 2x H_k - 2k H_(k-1); term n uses H_(n-1), sign (-1)^(n-1), 1/n!.
        double hPrev = 0;
        double h = 1;
        double factorial = 1;
        for (int n = 1; n <= terms; n++) {
            factorial *= n;
            t[at + n] = ((n - 1) % 2 == 0 ? 1 : -1) * h * d / factorial;
            double next = 2 * x0 * h - 2 * (n - 1) * hPrev;
            hPrev = h;
            h = next;
        }
    }

    /**
     * The error function to about 1e-13 absolute for |x| < 3 (Maclaurin series in double, whose terms
     * cancel near 3), and from
     * the continued fraction of erfc beyond, where erf is within 2.3e-5 of +-1. Slow; makes the table.
     */
    static double erfReference(double x) {
        double ax = Math.abs(x);
        if (Double.isNaN(x)) {
            return x;
        }
        if (ax < 3.0) {
            double x2 = x * x;
            double term = x;
            double sum = x;
            for (int k = 1; k < 200; k++) {
                term *= -x2 / k;
                double add = term / (2 * k + 1);
                sum += add;
                if (Math.abs(add) < 1e-17 * Math.abs(sum)) {
                    break;
                }
            }
            return 2.0 / Math.sqrt(Math.PI) * sum;
        }
        if (ax > 6.0) {
            return Math.signum(x);
        }
        // erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + 1/2/(x + 1/(x + 3/2/(x + ...)))), evaluated bottom-up.
        double f = ax;
        for (int k = 60; k >= 1; k--) {
            f = ax + (k / 2.0) / f;
        }
        double erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
        return Math.signum(x) * (1.0 - erfc);
    }
}
