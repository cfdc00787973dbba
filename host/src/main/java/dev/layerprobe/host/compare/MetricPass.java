package dev.layerprobe.host.compare;

import dev.layerprobe.core.VectorForms;
import java.util.Optional;

/**
 * One chunk's pass of {@link Metrics#add(float[], int, float[], int, int)}: over {@code a[aOff,
 * aOff+len)} (reference) against {@code b[bOff, bOff+len)}, in double,
 * <ul>
 *   <li>the five sums Σab, Σa², Σb², Σ(a−b)², Σ|a−b|, each a single chain from 0 that adds its
 *       terms one rounding at a time in element order (no reassociation, no partial sums, no fused
 *       multiply-add), so they are the same bits however fast the pass is;</li>
 *   <li>the largest |a−b| as {@code mx = ad > mx ? ad : mx} over the elements, starting from
 *       {@link Sums#max} as it is on entry: a NaN difference never replaces it, and it stays what
 *       it was when nothing is larger;</li>
 *   <li>the number of elements with {@code |a−b| <= atol + rtol·|a|} (false for a NaN on either
 *       side).</li>
 * </ul>
 * Both implementations compute the same bits:
 * <ul>
 *   <li>scalar: one loop that does all of it element by element;</li>
 *   <li>vector ({@code VectorMetricPass}, built from {@code src/main/vector}): the Vector API
 *       ({@code jdk.incubator.vector}) computes the terms, the maximum and the count eight elements
 *       at a time, and scalar adds run the five chains over the terms in element order; used when
 *       the JVM runs with {@code --add-modules jdk.incubator.vector} (the launchers and the tests
 *       pass it).</li>
 * </ul>
 * Stateless and thread-safe; the {@link Sums} it writes is the caller's.
 */
abstract class MetricPass {
    private static final String VECTOR_CLASS = "dev.layerprobe.host.compare.VectorMetricPass";
    private static final MetricPass SCALAR = new Scalar();
    private static final MetricPass BEST = vector().orElse(SCALAR);

    /** One chunk's results. Not thread-safe. */
    static final class Sums {
        double ab;
        double aa;
        double bb;
        double dd;
        double abs;
        /** In: the largest |a−b| so far. Out: including this chunk. */
        double max;

        long close;
    }

    /** Writes the chunk's sums and count into {@code s} and updates {@code s.max}. */
    abstract void add(float[] a, int aOff, float[] b, int bOff, int len, double atol, double rtol, Sums s);

    /** The fastest implementation this JVM runs. */
    static MetricPass best() {
        return BEST;
    }

    static MetricPass scalar() {
        return SCALAR;
    }

    /** The Vector API form, when the JVM resolved {@code jdk.incubator.vector}. */
    static Optional<MetricPass> vector() {
        return VectorForms.load(MetricPass.class, VECTOR_CLASS);
    }

    private static final class Scalar extends MetricPass {
        @Override
        void add(float[] a, int aOff, float[] b, int bOff, int len, double atol, double rtol, Sums s) {
            s.ab = 0;
            s.aa = 0;
            s.bb = 0;
            s.dd = 0;
            s.abs = 0;
            s.close = 0;
            addFrom(a, aOff, b, bOff, 0, len, atol, rtol, s);
        }
    }

    /**
     * Goes on with elements {@code [from, to)} from the sums, maximum and count in {@code s}: the
     * whole scalar form, and the vector form's last few elements.
     */
    static void addFrom(float[] a, int aOff, float[] b, int bOff, int from, int to, double atol, double rtol, Sums s) {
        // The loop body has no statement that branches on the data: conditional expressions leave
        // the compiler free to use conditional moves.
        double ab = s.ab;
        double aa = s.aa;
        double bb = s.bb;
        double dd = s.dd;
        double abs = s.abs;
        double mx = s.max;
        long cl = s.close;
        for (int i = from; i < to; i++) {
            double x = a[aOff + i];
            double y = b[bOff + i];
            double d = x - y;
            double ad = Math.abs(d);
            ab += x * y;
            aa += x * x;
            bb += y * y;
            dd += d * d;
            abs += ad;
            mx = ad > mx ? ad : mx;
            cl += ad <= atol + rtol * Math.abs(x) ? 1 : 0;
        }
        s.ab = ab;
        s.aa = aa;
        s.bb = bb;
        s.dd = dd;
        s.abs = abs;
        s.max = mx;
        s.close = cl;
    }
}
