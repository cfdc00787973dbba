package dev.layerprobe.simulator.kernels.quantized;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.QTensor;
import dev.layerprobe.core.tensor.QuantParams;
import dev.layerprobe.core.tensor.Shapes;
import dev.layerprobe.simulator.profile.RequantMode;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link QGemm}'s int32 rows against its 64-bit element-by-element path, and {@link QAdd} and
 * {@link QMul} (and {@link QuantizedValues#rescale}) in row form against the element-by-element
 * formulas of their class comments (the code they replaced), on random codes and zero points, broadcast shapes, both requantization
 * modes, fused clamps, the shift fault and the int16 accumulator wrap.
 */
class RowKernelsTest {
    private static final DType[] TYPES = {DType.INT8, DType.UINT8, DType.INT16};

    private static QuantParams params(SplittableRandom r, DType type) {
        long zp = type == DType.UINT8 ? r.nextInt(0, 256) : type == DType.INT8 ? r.nextInt(-128, 128) : 0;
        return QuantParams.perTensor(type, (float) (0.001 + r.nextDouble() * 0.1), zp);
    }

    private static QTensor codes(SplittableRandom r, int[] shape, QuantParams q) {
        int[] c = new int[Math.toIntExact(Shapes.size(shape))];
        for (int i = 0; i < c.length; i++) {
            c[i] = (int) r.nextLong(q.qmin(), q.qmax() + 1);
        }
        return new QTensor(shape, c, q);
    }

    @Test
    void gemmRowsGiveTheCodesOfTheElementwisePath() {
        SplittableRandom r = new SplittableRandom(3);
        int[][] mnk = {{1, 1000, 1280}, {3, 17, 5}, {37, 128, 64}, {2, 5, 1}, {1, 33, 3000}};
        for (int[] s : mnk) {
            for (RequantMode mode : RequantMode.values()) {
                for (boolean transA : new boolean[] {false, true}) {
                    for (boolean wrap : new boolean[] {false, true}) {
                        for (DType type : new DType[] {DType.INT8, DType.UINT8}) {
                            int m = s[0];
                            int n = s[1];
                            int k = s[2];
                            int[] w = new int[n * k];
                            int[] zp = new int[n];
                            long[] bias = new long[n];
                            Requantizer[] rq = new Requantizer[n];
                            for (int j = 0; j < n; j++) {
                                zp[j] = r.nextInt(-10, 11);
                                bias[j] = r.nextInt(-100_000, 100_000);
                                double mult = Math.exp(-2 - r.nextDouble() * 10);
                                rq[j] = new Requantizer(mult, mode, (float) mult);
                                for (int t = 0; t < k; t++) {
                                    w[j * k + t] = r.nextInt(-128, 128);
                                }
                            }
                            QuantParams aq = params(r, type);
                            QuantParams yq = params(r, type);
                            QGemm gemm =
                                    new QGemm(w, n, k, zp, bias, rq, aq, yq, yq.qmin() + 3, yq.qmax(), transA, wrap);
                            QTensor a = codes(r, transA ? new int[] {k, m} : new int[] {m, k}, aq);
                            assertArrayEquals(
                                    gemm.runReference(a).codes(),
                                    gemm.run(a).codes(),
                                    m + "x" + n + "x" + k + " " + mode + " " + type + (transA ? " transA" : "")
                                            + (wrap ? " wrap" : ""));
                        }
                    }
                }
            }
        }
    }

    /** {@code [a shape, b shape]} pairs: equal, channel broadcast, scalar, both sides broadcast. */
    private static final int[][][] BROADCASTS = {
        {{1, 24, 56, 56}, {1, 24, 56, 56}},
        {{1, 16, 9, 7}, {1, 16, 1, 1}},
        {{1}, {2, 3, 5}},
        {{3, 1, 5}, {1, 4, 1}},
        {{5000}, {5000}}
    };

    @Test
    void addAndSubGiveTheCodesOfTheElementwiseFormulas() {
        SplittableRandom r = new SplittableRandom(5);
        for (int[][] shapes : BROADCASTS) {
            for (RequantMode mode : RequantMode.values()) {
                for (boolean subtract : new boolean[] {false, true}) {
                    for (int shift : new int[] {0, 1}) {
                        for (DType type : TYPES) {
                            QuantParams qa = params(r, type);
                            QuantParams qb = params(r, type);
                            QuantParams qy = params(r, type);
                            long lo = qy.qmin() + 2;
                            long hi = qy.qmax() - 1;
                            QTensor a = codes(r, shapes[0], qa);
                            QTensor b = codes(r, shapes[1], qb);
                            QTensor got = new QAdd(qa, qb, qy, mode, lo, hi, subtract, false, shift).run(a, b);
                            if (mode == RequantMode.FIXED) {
                                assertArrayEquals(
                                        fixedAdd(a, b, qy, lo, hi, subtract, shift),
                                        got.codes(),
                                        "FIXED " + type + (subtract ? " sub " : " add ") + shift);
                            }
                        }
                    }
                }
            }
        }
    }

    /** QAdd's FIXED rule element by element: both inputs << 20, to 2 max(s_a, s_b), added, to s_y. */
    private static int[] fixedAdd(QTensor a, QTensor b, QuantParams qy, long lo, long hi, boolean subtract, int shift) {
        QuantParams qa = a.params();
        QuantParams qb = b.params();
        double twiceMax = 2.0 * Math.max(qa.scale(0), qb.scale(0));
        Requantizer ra = new Requantizer(qa.scale(0) / twiceMax, RequantMode.FIXED);
        Requantizer rb = new Requantizer(qb.scale(0) / twiceMax, RequantMode.FIXED);
        Requantizer ry = new Requantizer(twiceMax / ((1 << 20) * (double) qy.scale(0)), RequantMode.FIXED);
        if (shift != 0) {
            ry = ry.withShiftDelta(shift);
        }
        int[] shape = Shapes.broadcast(a.shape(), b.shape());
        int[] ia = BroadcastIndex.map(a.shape(), shape);
        int[] ib = BroadcastIndex.map(b.shape(), shape);
        int[] y = new int[Math.toIntExact(Shapes.size(shape))];
        for (int i = 0; i < y.length; i++) {
            long sa = ra.scale((a.codes()[ia == null ? i : ia[i]] - qa.zeroPoint(0)) << 20);
            long sb = rb.scale((b.codes()[ib == null ? i : ib[i]] - qb.zeroPoint(0)) << 20);
            y[i] = ry.apply(subtract ? sa - sb : sa + sb, qy.zeroPoint(0), lo, hi);
        }
        return y;
    }

    @Test
    void mulGivesTheCodesOfTheElementwiseFormula() {
        SplittableRandom r = new SplittableRandom(9);
        for (int[][] shapes : BROADCASTS) {
            for (RequantMode mode : RequantMode.values()) {
                for (int shift : new int[] {0, 1}) {
                    for (DType type : TYPES) {
                        QuantParams qa = params(r, type);
                        QuantParams qb = params(r, type);
                        QuantParams qy = params(r, type);
                        long lo = qy.qmin() + 1;
                        long hi = qy.qmax() - 2;
                        QTensor a = codes(r, shapes[0], qa);
                        QTensor b = codes(r, shapes[1], qb);
                        QTensor got = new QMul(qa, qb, qy, mode, lo, hi, shift).run(a, b);
                        double m = (double) qa.scale(0) * qb.scale(0) / qy.scale(0);
                        Requantizer rq = new Requantizer(m, mode, (qa.scale(0) * qb.scale(0)) / qy.scale(0));
                        if (shift != 0) {
                            rq = rq.withShiftDelta(shift);
                        }
                        int[] shape = Shapes.broadcast(a.shape(), b.shape());
                        int[] ia = BroadcastIndex.map(a.shape(), shape);
                        int[] ib = BroadcastIndex.map(b.shape(), shape);
                        int[] want = new int[got.size()];
                        for (int i = 0; i < want.length; i++) {
                            long p = (a.codes()[ia == null ? i : ia[i]] - qa.zeroPoint(0))
                                    * (b.codes()[ib == null ? i : ib[i]] - qb.zeroPoint(0));
                            want[i] = rq.apply(p, qy.zeroPoint(0), lo, hi);
                        }
                        assertArrayEquals(want, got.codes(), mode + " " + type + " shift " + shift);
                    }
                }
            }
        }
    }

    @Test
    void rescaleGivesTheCodesOfTheElementwiseFormula() {
        SplittableRandom r = new SplittableRandom(13);
        for (RequantMode mode : RequantMode.values()) {
            for (DType type : TYPES) {
                for (int size : new int[] {1, 4095, 4096, 10_001}) {
                    QuantParams in = params(r, type);
                    QuantParams out = params(r, type);
                    long lo = out.qmin() + 1;
                    long hi = out.qmax();
                    int[] c = codes(r, new int[] {size}, in).codes();
                    Requantizer rq =
                            new Requantizer((double) in.scale(0) / out.scale(0), mode, in.scale(0) / out.scale(0));
                    int[] want = new int[size];
                    for (int i = 0; i < size; i++) {
                        want[i] = rq.apply(c[i] - in.zeroPoint(0), out.zeroPoint(0), lo, hi);
                    }
                    assertArrayEquals(
                            want, QuantizedValues.rescale(c, in, out, mode, lo, hi), mode + " " + type + " " + size);
                }
            }
        }
    }
}
