package dev.layerprobe.simulator.quant;

import dev.layerprobe.core.tensor.DType;

/**
 * Clipping ranges from a tensor's histogram, one method per {@link CalibrationAlgorithm}. Every
 * result {@code [a, b]} satisfies {@code min <= a <= b <= max}; a tensor whose values are all
 * equal keeps [min, max].
 *
 * <p>The activation quantizer these searches optimise for is the one of
 * {@link QdqWriter#activationParams}: per tensor over the range widened to include 0; asymmetric
 * for 8-bit types, {@code scale = (max - min) / (qmax - qmin)} in float32,
 * {@code zp = rint(qmin - min / scale)} clamped to [qmin, qmax]; symmetric for INT16,
 * {@code scale = max(-min, max) / qmax}, {@code zp = 0}; {@code q = clamp(rint(x / scale) + zp)}.
 * {@link #quantizer} is a local copy of that rule (QdqWriter's method takes a whole Calibration);
 * the two must change together, which {@code CalibrationAlgorithmTest} checks.
 */
final class ClippingSearch {
    /** Candidates of the MSE search: factors 1, r, r^2, ..., 1/256 applied to min and max. */
    static final int MSE_STEPS = 128;

    static final double MSE_SMALLEST_FACTOR = 1.0 / 256;
    /** KL smoothing of empty bins, as in MXNet, ONNX Runtime and TensorRT's reference script. */
    private static final double KL_EPS = 1e-4;

    private ClippingSearch() {}

    /**
     * @param h          the tensor's values over [min, max]
     * @param magnitudes the tensor's |x| over [0, max(|min|, |max|)]
     */
    static float[] select(Histogram h, Histogram magnitudes, float min, float max, CalibrationOptions o) {
        if (!(max > min) || o.algorithm() == CalibrationAlgorithm.MINMAX) {
            return new float[] {min, max};
        }
        float[] r = switch (o.algorithm()) {
            case PERCENTILE -> percentile(h, min, max, o.percentile());
            case KL -> entropy(magnitudes, min, max, o.activations());
            case MSE -> mse(h, min, max, o.activations());
            case MINMAX -> new float[] {min, max};
        };
        r[0] = Math.max(min, Math.min(max, r[0]));
        r[1] = Math.min(max, r[1]);
        // A collapsed range quantizes everything to one value; never better than no clipping.
        return r[1] > r[0] ? r : new float[] {min, max};
    }

    // ---- percentile

    /** Upper bound the p-th percentile, lower bound the (100 - p)-th, or min when min >= 0. */
    static float[] percentile(Histogram h, float min, float max, double p) {
        float hi = (float) h.quantile(p / 100);
        float lo = min >= 0 ? min : (float) h.quantile(1 - p / 100);
        return new float[] {lo, hi};
    }

    // ---- KL (entropy)

    /**
     * TensorRT's entropy calibration on the histogram of |x| over [0, A], A = max(|min|, |max|)
     * (for a non-negative tensor that is the histogram of x over [0, max]). For each candidate i
     * from {@code levels} to {@code bins}: P = the first i bins with the count beyond added to
     * bin i-1; Q = the first i bins merged into {@code levels} groups (the last group takes the
     * remainder) and expanded back over the bins where P is non-zero; both smoothed (empty bins
     * get eps = 1e-4, taken evenly from the others) and KL(P || Q) computed. The smallest KL wins
     * (the first one on ties); T = the upper edge of bin i-1, range [max(min, -T), min(max, T)]
     * (for a non-negative tensor [min, T], i.e. [0, T] for a ReLU output).
     *
     * <p>{@code levels} is the number of quantization steps over [0, T] under the activation
     * quantizer: 2^(bits-1) for a tensor with negative values (the steps are shared by [-T, T]),
     * 2^bits for a non-negative one (128 and 256 for 8-bit types). When levels >= bins (16-bit
     * types) the histogram cannot resolve the quantization error and [min, max] is kept.
     */
    static float[] entropy(Histogram magnitudes, float min, float max, DType type) {
        boolean nonNegative = min >= 0;
        long steps = type.max() - type.min() + 1;
        long levelsL = nonNegative ? steps : steps / 2;
        int n = magnitudes.bins();
        if (levelsL >= n || !(magnitudes.hi() > 0)) {
            return new float[] {min, max};
        }
        int levels = (int) levelsL;
        KlCurve curve = new KlCurve(magnitudes);
        int best = n;
        double bestKl = Double.POSITIVE_INFINITY;
        for (int i = levels; i <= n; i++) {
            double kl = curve.divergence(i, levels);
            if (kl < bestKl) {
                bestKl = kl;
                best = i;
            }
        }
        double t = magnitudes.edge(best);
        return new float[] {(float) Math.max(min, -t), (float) Math.min(max, t)};
    }

    /**
     * KL(P || Q) of the entropy search for every threshold bin i, in O(levels) per i instead of
     * O(i): Q is constant over the bins of a group where P is non-zero, so its part of the sum is
     * one log per group, and the sum of p log p over the unclipped bins comes from prefix sums.
     * Smoothing as in MXNet / ONNX Runtime, on raw counts: every empty bin gets eps = 1e-4, taken
     * evenly (e = eps * zeros / nonzeros) from the others; a smoothed Q value below eps / 2 is
     * raised to eps / 2. For p the sum of (a - e) log(a - e) over counts a >= 1 is expanded to
     * second order in e (error below e^3 / (6 a^2) per bin, nothing next to the sum over
     * millions of values); when e > 1/4 (more than ~2500 bins per non-empty one) it is summed
     * directly. Bins empty in P are empty in Q and cancel out of the sum.
     */
    static final class KlCurve {
        private final long[] a;
        private final double[] count;
        private final int[] nonZero;
        private final double[] aLogA;
        private final double[] logAPlus1;
        private final double[] inverse;
        private final double total;

        KlCurve(Histogram magnitudes) {
            int n = magnitudes.bins();
            a = magnitudes.counts();
            count = new double[n + 1];
            nonZero = new int[n + 1];
            aLogA = new double[n + 1];
            logAPlus1 = new double[n + 1];
            inverse = new double[n + 1];
            for (int k = 0; k < n; k++) {
                double v = a[k];
                boolean nz = v > 0;
                count[k + 1] = count[k] + v;
                nonZero[k + 1] = nonZero[k] + (nz ? 1 : 0);
                aLogA[k + 1] = aLogA[k] + (nz ? v * Math.log(v) : 0);
                logAPlus1[k + 1] = logAPlus1[k] + (nz ? Math.log(v) + 1 : 0);
                inverse[k + 1] = inverse[k] + (nz ? 1 / v : 0);
            }
            total = count[n];
        }

        /** KL(P || Q) for threshold bin i (levels <= i <= bins), +infinity when Q would be empty. */
        double divergence(int i, int levels) {
            double last = a[i - 1] + (total - count[i]); // bin i-1 with the clipped outliers
            int nzP = nonZero[i - 1] + (last > 0 ? 1 : 0);
            if (nzP == 0) {
                return Double.POSITIVE_INFINITY;
            }
            double ep = KL_EPS * (i - nzP) / nzP;
            double pLogP = xLogX(Math.max(KL_EPS / 2, last - ep));
            if (ep <= 0.25) {
                pLogP += aLogA[i - 1] - ep * logAPlus1[i - 1] + ep * ep / 2 * inverse[i - 1];
            } else {
                for (int k = 0; k < i - 1; k++) {
                    if (a[k] > 0) {
                        pLogP += xLogX(Math.max(KL_EPS / 2, a[k] - ep));
                    }
                }
            }
            int merged = i / levels;
            int nzQ = 0;
            for (int j = 0; j < levels; j++) {
                int start = j * merged;
                int stop = j == levels - 1 ? i : start + merged;
                double sum = count[stop] - count[start];
                int nz = groupNonZero(start, stop, i, last);
                if (sum > 0 && nz > 0) {
                    nzQ += nz;
                }
            }
            if (nzQ == 0) {
                return Double.POSITIVE_INFINITY;
            }
            double eq = KL_EPS * (i - nzQ) / nzQ;
            double sq = KL_EPS * (i - nzQ);
            double pLogQ = 0;
            for (int j = 0; j < levels; j++) {
                int start = j * merged;
                int stop = j == levels - 1 ? i : start + merged;
                double sum = count[stop] - count[start];
                int nz = groupNonZero(start, stop, i, last);
                if (nz == 0) {
                    continue;
                }
                double pSum = sum + (stop == i ? total - count[i] : 0) - nz * ep;
                double q = sum > 0 ? Math.max(KL_EPS / 2, sum / nz - eq) : KL_EPS;
                if (sum > 0) {
                    sq += nz * q;
                }
                pLogQ += pSum * Math.log(q);
            }
            return (pLogP - pLogQ) / total + Math.log(sq / total);
        }

        /** Bins of P in [start, stop) that are non-zero, bin i-1 holding {@code last}. */
        private int groupNonZero(int start, int stop, int i, double last) {
            if (stop < i) {
                return nonZero[stop] - nonZero[start];
            }
            return nonZero[i - 1] - nonZero[start] + (last > 0 ? 1 : 0);
        }

        private static double xLogX(double x) {
            return x * Math.log(x);
        }
    }

    // ---- MSE

    /**
     * The range minimising the expected squared quantization error under the histogram. Candidates
     * scale [min, max] towards 0 by factors on a geometric grid of {@value #MSE_STEPS} steps from 1
     * down to 1/256 (geometric, rather than a linear grid down to 0.2, so that a range inflated by
     * outliers a hundred times the bulk can still shrink to the bulk): first both ends together, then
     * the lower end alone, then the upper end alone (outliers are often one-sided). The first
     * candidate with the smallest error wins, so minmax is kept unless clipping strictly helps.
     *
     * <p>The error of a candidate is the sum over bins of {@code count / w * integral over the bin
     * of (Q(x) - x)^2}, values taken as uniform within each bin: the exact integral rather than
     * the error at the bin centre, because for tight candidates a quantization step is only one or
     * two bins wide and centre sampling aliases. Where a bin spans more than 16 steps the rounding
     * part is taken as step^2 / 12 per value.
     */
    static float[] mse(Histogram h, float min, float max, DType type) {
        double[] g = new double[MSE_STEPS];
        for (int k = 0; k < MSE_STEPS; k++) {
            g[k] = Math.pow(MSE_SMALLEST_FACTOR, k / (double) (MSE_STEPS - 1));
        }
        float bestLo = min;
        float bestHi = max;
        double bestErr = expectedError(h, min, max, type);
        for (int k = 1; k < MSE_STEPS; k++) {
            float lo = (float) (min * g[k]);
            float hi = (float) (max * g[k]);
            double e = expectedError(h, lo, hi, type);
            if (e < bestErr) {
                bestErr = e;
                bestLo = lo;
                bestHi = hi;
            }
        }
        if (min < 0) {
            float hi = bestHi;
            for (int k = 0; k < MSE_STEPS; k++) {
                float lo = (float) (min * g[k]);
                double e = expectedError(h, lo, hi, type);
                if (e < bestErr) {
                    bestErr = e;
                    bestLo = lo;
                }
            }
        }
        float lo = bestLo;
        for (int k = 0; k < MSE_STEPS; k++) {
            float hi = (float) (max * g[k]);
            double e = expectedError(h, lo, hi, type);
            if (e < bestErr) {
                bestErr = e;
                bestHi = hi;
            }
        }
        return new float[] {bestLo, bestHi};
    }

    /** Scale and zero point of QdqWriter's activation rule for the range [lo, hi]: {scale, zp}. */
    static double[] quantizer(float lo, float hi, DType type) {
        float min = Math.min(0f, lo);
        float max = Math.max(0f, hi);
        long qmin = type.min();
        long qmax = type.max();
        if (type == DType.INT16) {
            float scale = Math.max(-min, max) / (float) qmax;
            return new double[] {scale > 0 && !Float.isInfinite(scale) ? scale : 1f, 0};
        }
        float scale = (max - min) / (float) (qmax - qmin);
        if (!(scale > 0) || Float.isInfinite(scale)) {
            scale = 1f;
        }
        long zp = Math.round(Math.rint(qmin - min / scale));
        zp = Math.max(qmin, Math.min(qmax, zp));
        return new double[] {scale, zp};
    }

    /** x quantized and dequantized with QdqWriter's activation rule for [lo, hi]. */
    static double fakeQuantize(double x, float lo, float hi, DType type) {
        double[] sz = quantizer(lo, hi, type);
        double q = Math.rint(x / sz[0]) + sz[1];
        q = Math.max((double) type.min(), Math.min((double) type.max(), q));
        return (q - sz[1]) * sz[0];
    }

    /** Expected total squared error of quantizing the histogram's values with the range [lo, hi]. */
    static double expectedError(Histogram h, float lo, float hi, DType type) {
        double[] sz = quantizer(lo, hi, type);
        double s = sz[0];
        double low = (type.min() - sz[1]) * s;
        double high = (type.max() - sz[1]) * s;
        double w = h.binWidth();
        double total = 0;
        for (int k = 0; k < h.bins(); k++) {
            long c = h.count(k);
            if (c == 0) {
                continue;
            }
            double a = h.edge(k);
            total += c * binError(a, a + w, s, low, high) / w;
        }
        return total;
    }

    /** Integral over [a, b] of (Q(x) - x)^2, Q rounding to the grid k*s clamped to [low, high]. */
    private static double binError(double a, double b, double s, double low, double high) {
        double total = 0;
        double lowEdge = low + s / 2;
        double highEdge = high - s / 2;
        if (a < lowEdge) {
            total += squareIntegral(a, Math.min(b, lowEdge), low);
        }
        if (b > highEdge) {
            total += squareIntegral(Math.max(a, highEdge), b, high);
        }
        double m0 = Math.max(a, lowEdge);
        double m1 = Math.min(b, highEdge);
        if (m1 > m0) {
            if ((m1 - m0) / s > 16) {
                total += (m1 - m0) * s * s / 12;
            } else {
                long k = (long) Math.floor(m0 / s + 0.5);
                double u = m0;
                while (u < m1) {
                    double v = Math.min(m1, (k + 0.5) * s);
                    if (v > u) {
                        total += squareIntegral(u, v, k * s);
                        u = v;
                    }
                    k++;
                }
            }
        }
        return total;
    }

    /** Integral over [u, v] of (c - x)^2. */
    private static double squareIntegral(double u, double v, double c) {
        if (!(v > u)) {
            return 0;
        }
        double du = u - c;
        double dv = v - c;
        return (dv * dv * dv - du * du * du) / 3;
    }
}
