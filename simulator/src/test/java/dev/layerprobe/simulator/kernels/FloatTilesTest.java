package dev.layerprobe.simulator.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The Vector API form of the float product gives the scalar loops' floats, bit for bit. */
class FloatTilesTest {
    @Test
    void vectorFormIsLoadedUnderTheBuildsJvmOptions() {
        // Surefire passes --add-modules jdk.incubator.vector, as the launchers do.
        assertTrue(FloatTiles.vector().isPresent(), "VectorFloatTiles did not load: is src/main/vector compiled?");
        assertTrue(FloatTiles.best() != FloatTiles.scalar(), "the kernels run the scalar form");
    }

    @Test
    void vectorFormComputesTheScalarSums() {
        FloatTiles vector = FloatTiles.vector().orElseThrow();
        Random r = new Random(18);
        for (int trial = 0; trial < 300; trial++) {
            int count = 1 + r.nextInt(11);
            int kn = 1 + r.nextInt(40);
            boolean transposed = r.nextBoolean();
            // x addressed both ways the products use: rows of k (xk = 1) or columns (xr = 1).
            int xr = transposed ? 1 : kn + r.nextInt(5);
            int xk = transposed ? count + r.nextInt(5) : 1;
            int xo = r.nextInt(7);
            int p0 = r.nextInt(4);
            int width = 1 + r.nextInt(150);
            int lo = r.nextInt(Math.min(width, 20));
            int hi = lo + r.nextInt(width - lo + 1);
            int a0 = r.nextInt(3);
            float[] x = new float[xo + count * xr + kn * xk];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) r.nextGaussian();
            }
            float[][] panel = new float[p0 + kn][width];
            for (float[] row : panel) {
                for (int t = 0; t < width; t++) {
                    // Wide exponents make every rounding matter: a fused or reordered sum differs.
                    row[t] = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(7) - 3));
                }
            }
            float[][] want = new float[a0 + count][width];
            for (float[] row : want) {
                for (int t = 0; t < width; t++) {
                    row[t] = (float) r.nextGaussian();
                }
            }
            float[][] got = new float[want.length][];
            for (int i = 0; i < want.length; i++) {
                got[i] = want[i].clone();
            }
            FloatTiles.scalar().accumulate(x, xo, xr, xk, count, panel, p0, kn, want, a0, lo, hi);
            vector.accumulate(x, xo, xr, xk, count, panel, p0, kn, got, a0, lo, hi);
            for (int i = 0; i < want.length; i++) {
                for (int t = 0; t < width; t++) {
                    assertEquals(
                            Float.floatToRawIntBits(want[i][t]),
                            Float.floatToRawIntBits(got[i][t]),
                            "trial " + trial + ", row " + i + ", column " + t);
                }
            }
        }
    }

    @Test
    void vectorBiasProductComputesTheScalarValues() {
        FloatTiles vector = FloatTiles.vector().orElseThrow();
        Random r = new Random(19);
        for (int trial = 0; trial < 300; trial++) {
            int count = 1 + r.nextInt(11);
            int kn = 1 + r.nextInt(40);
            int xr = kn + r.nextInt(5);
            int xo = r.nextInt(7);
            int width = 1 + r.nextInt(150);
            int from = r.nextInt(Math.min(width, 20));
            int to = from + r.nextInt(width - from + 1);
            int cr = width + r.nextInt(9);
            int cBase = r.nextInt(5);
            boolean clamp = r.nextBoolean();
            float[] bias = trial % 4 == 0 ? null : new float[count + 3];
            int biasOff = bias == null ? 0 : r.nextInt(4);
            float[] x = new float[xo + count * xr];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) r.nextGaussian();
            }
            if (bias != null) {
                for (int i = 0; i < bias.length; i++) {
                    bias[i] = (float) r.nextGaussian();
                }
            }
            float[][] panel = new float[kn][width];
            for (float[] row : panel) {
                for (int t = 0; t < width; t++) {
                    row[t] = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(7) - 3));
                }
            }
            float[] want = new float[cBase + count * cr + width];
            for (int i = 0; i < want.length; i++) {
                want[i] = (float) r.nextGaussian();
            }
            float[] got = want.clone();
            FloatTiles.scalar()
                    .biasProduct(
                            x, xo, xr, 1, count, panel, 0, kn, bias, biasOff, clamp, -0.5f, 6f, want, cBase, cr, from,
                            to);
            vector.biasProduct(
                    x, xo, xr, 1, count, panel, 0, kn, bias, biasOff, clamp, -0.5f, 6f, got, cBase, cr, from, to);
            for (int i = 0; i < want.length; i++) {
                assertEquals(
                        Float.floatToRawIntBits(want[i]),
                        Float.floatToRawIntBits(got[i]),
                        "trial " + trial + ", element " + i);
            }
        }
    }

    @Test
    void vectorOffsetProductComputesTheScalarValues() {
        FloatTiles vector = FloatTiles.vector().orElseThrow();
        Random r = new Random(21);
        for (int trial = 0; trial < 300; trial++) {
            int count = 1 + r.nextInt(11);
            int kn = 1 + r.nextInt(40);
            int xr = kn + r.nextInt(5);
            int xo = r.nextInt(7);
            int width = 1 + r.nextInt(150);
            int from = r.nextInt(Math.min(width, 20));
            int to = from + r.nextInt(width - from + 1);
            int cr = width + r.nextInt(9);
            int cBase = r.nextInt(5);
            boolean clamp = r.nextBoolean();
            float[] bias = trial % 4 == 0 ? null : new float[count + 3];
            int biasOff = bias == null ? 0 : r.nextInt(4);
            float[] x = new float[xo + count * xr];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) r.nextGaussian();
            }
            if (bias != null) {
                for (int i = 0; i < bias.length; i++) {
                    bias[i] = (float) r.nextGaussian();
                }
            }
            // Offsets in any order, overlapping, as a padded plane's taps are.
            int[] koff = new int[kn];
            for (int kk = 0; kk < kn; kk++) {
                koff[kk] = r.nextInt(60);
            }
            float[] src = new float[60 + width];
            for (int i = 0; i < src.length; i++) {
                src[i] = r.nextInt(5) == 0 ? 0f : (float) (r.nextGaussian() * Math.pow(10, r.nextInt(7) - 3));
            }
            float[] want = new float[cBase + count * cr + width];
            for (int i = 0; i < want.length; i++) {
                want[i] = (float) r.nextGaussian();
            }
            float[] got = want.clone();
            FloatTiles.scalar()
                    .offsetProduct(
                            x, xo, xr, count, src, koff, kn, bias, biasOff, clamp, -0.5f, 6f, want, cBase, cr, from,
                            to);
            vector.offsetProduct(
                    x, xo, xr, count, src, koff, kn, bias, biasOff, clamp, -0.5f, 6f, got, cBase, cr, from, to);
            for (int i = 0; i < want.length; i++) {
                assertEquals(
                        Float.floatToRawIntBits(want[i]),
                        Float.floatToRawIntBits(got[i]),
                        "trial " + trial + ", element " + i);
            }
        }
    }

    @Test
    void vectorTapsComputeTheScalarValues() {
        FloatTiles vector = FloatTiles.vector().orElseThrow();
        Random r = new Random(20);
        for (int trial = 0; trial < 300; trial++) {
            int kn = 1 + r.nextInt(30);
            int len = 1 + r.nextInt(300);
            int from = r.nextInt(Math.min(len, 20));
            int to = from + r.nextInt(len - from + 1);
            int[] koff = new int[kn];
            for (int k = 0; k < kn; k++) {
                koff[k] = r.nextInt(40);
            }
            float[] src = new float[len + 40];
            for (int j = 0; j < src.length; j++) {
                // Zeros as the pad taps hold, and wide exponents.
                src[j] = r.nextInt(5) == 0 ? 0f : (float) (r.nextGaussian() * Math.pow(10, r.nextInt(7) - 3));
            }
            float[] w = new float[kn + 4];
            for (int k = 0; k < w.length; k++) {
                w[k] = (float) r.nextGaussian();
            }
            int wb = r.nextInt(4);
            float bias = trial % 5 == 0 ? 0f : (float) r.nextGaussian();
            boolean clamp = r.nextBoolean();
            float[] want = new float[len];
            float[] got = new float[len];
            FloatTiles.scalar().taps(src, koff, kn, w, wb, bias, clamp, 0f, 6f, want, from, to);
            vector.taps(src, koff, kn, w, wb, bias, clamp, 0f, 6f, got, from, to);
            for (int j = 0; j < len; j++) {
                assertEquals(
                        Float.floatToRawIntBits(want[j]),
                        Float.floatToRawIntBits(got[j]),
                        "trial " + trial + ", element " + j);
            }
        }
    }

    @Test
    void vectorDeinterleaveAndEvensPickColumns() {
        FloatTiles vector = FloatTiles.vector().orElseThrow();
        Random r = new Random(21);
        for (int trial = 0; trial < 100; trial++) {
            int n = r.nextInt(90);
            int xo = r.nextInt(5);
            float[] x = new float[xo + 2 * n + r.nextInt(3)];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) r.nextGaussian();
            }
            int e = r.nextInt(4);
            int od = r.nextInt(4);
            float[] even = new float[e + n];
            float[] odd = new float[od + n];
            vector.deinterleave(x, xo, even, e, odd, od, n);
            float[] evens = new float[e + n];
            // The even columns alone may end at the last element of x.
            vector.evens(Arrays.copyOf(x, Math.max(0, xo + 2 * n - 1)), xo, evens, e, n);
            for (int i = 0; i < n; i++) {
                assertEquals(x[xo + 2 * i], even[e + i], 0f, "trial " + trial + ", even " + i);
                assertEquals(x[xo + 2 * i + 1], odd[od + i], 0f, "trial " + trial + ", odd " + i);
                assertEquals(x[xo + 2 * i], evens[e + i], 0f, "trial " + trial + ", evens " + i);
            }
        }
    }

    @Test
    void vectorNineTapsComputeTheScalarValues() {
        FloatTiles vector = FloatTiles.vector().orElseThrow();
        Random r = new Random(20);
        for (int trial = 0; trial < 200; trial++) {
            int len = 1 + r.nextInt(200);
            int j0 = r.nextInt(Math.min(len, 20));
            int j1 = j0 + r.nextInt(len - j0 + 1);
            float[][] tap = new float[9][len];
            for (float[] row : tap) {
                for (int j = 0; j < len; j++) {
                    // Zeros as the pad taps hold, and wide exponents.
                    row[j] = r.nextInt(5) == 0 ? 0f : (float) (r.nextGaussian() * Math.pow(10, r.nextInt(7) - 3));
                }
            }
            float[] w = new float[9 + 4];
            for (int k = 0; k < w.length; k++) {
                w[k] = (float) r.nextGaussian();
            }
            int wb = r.nextInt(4);
            float bias = trial % 5 == 0 ? 0f : (float) r.nextGaussian();
            boolean clamp = r.nextBoolean();
            float[] want = new float[len];
            float[] got = new float[len];
            FloatTiles.scalar().taps9(tap, w, wb, bias, j0, j1, clamp, 0f, 6f, want);
            vector.taps9(tap, w, wb, bias, j0, j1, clamp, 0f, 6f, got);
            for (int j = 0; j < len; j++) {
                assertEquals(
                        Float.floatToRawIntBits(want[j]),
                        Float.floatToRawIntBits(got[j]),
                        "trial " + trial + ", element " + j);
            }
        }
    }
}
