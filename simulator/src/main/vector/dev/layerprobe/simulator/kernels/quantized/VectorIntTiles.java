package dev.layerprobe.simulator.kernels.quantized;

import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link IntTiles} on the Vector API: the same int32 sums (wrapping, so in any order), register
 * blocked. A tile is four output rows by two vectors of columns; its eight sums stay in registers
 * over the whole depth, each step loading two vectors of the operand and broadcasting four
 * weights, and are stored once. Column tiles are the outer loop, so a tile's columns of the operand
 * stay in L1 while every block of output rows reads them. Leftover rows go one at a time, leftover
 * columns (fewer than a vector) through {@link IntGemmLoops}. Compiled on its own (it needs
 * {@code --add-modules jdk.incubator.vector}) and loaded by {@link IntTiles#vector} only when the
 * JVM has the module. Stateless.
 */
final class VectorIntTiles extends IntTiles {
    private static final VectorSpecies<Integer> S = IntVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    @Override
    void multiply(
            int[] a,
            int aOff,
            int aStride,
            int count,
            int[][] rows,
            int r0,
            int depth,
            int lo,
            int hi,
            int[][] acc,
            int acc0,
            boolean accumulate) {
        int vecEnd = lo + (hi - lo) / L * L;
        for (int t = lo; t < vecEnd; t += 2 * L) {
            boolean two = t + 2 * L <= vecEnd;
            int i = 0;
            for (; i + 4 <= count; i += 4) {
                int w = aOff + i * aStride;
                int[] c0 = acc[acc0 + i];
                int[] c1 = acc[acc0 + i + 1];
                int[] c2 = acc[acc0 + i + 2];
                int[] c3 = acc[acc0 + i + 3];
                if (two) {
                    four2(a, w, aStride, rows, r0, depth, t, c0, c1, c2, c3, accumulate);
                } else {
                    four1(a, w, aStride, rows, r0, depth, t, c0, c1, c2, c3, accumulate);
                }
            }
            for (; i < count; i++) {
                one(a, aOff + i * aStride, rows, r0, depth, t, two ? 2 : 1, acc[acc0 + i], accumulate);
            }
        }
        if (vecEnd < hi) {
            for (int i = 0; i < count; i++) {
                IntGemmLoops.multiply(a, aOff + i * aStride, rows, r0, depth, vecEnd, hi, acc[acc0 + i], accumulate);
            }
        }
    }

    @Override
    void taps(int[] w, int wOff, int taps, int[][] phase, int[] tapPhase, int[] tapOffset, int len, int[] acc) {
        if (taps == 9) {
            taps9(w, wOff, phase, tapPhase, tapOffset, len, acc);
            return;
        }
        int vecEnd = len / L * L;
        int t = 0;
        for (; t + 2 * L <= vecEnd; t += 2 * L) {
            IntVector s0 = IntVector.zero(S);
            IntVector s1 = s0;
            for (int k = 0; k < taps; k++) {
                int[] p = phase[tapPhase[k]];
                int i = tapOffset[k] + t;
                int wk = w[wOff + k];
                s0 = IntVector.fromArray(S, p, i).mul(wk).add(s0);
                s1 = IntVector.fromArray(S, p, i + L).mul(wk).add(s1);
            }
            s0.intoArray(acc, t);
            s1.intoArray(acc, t + L);
        }
        for (; t < vecEnd; t += L) {
            IntVector s0 = IntVector.zero(S);
            for (int k = 0; k < taps; k++) {
                s0 = IntVector.fromArray(S, phase[tapPhase[k]], tapOffset[k] + t)
                        .mul(w[wOff + k])
                        .add(s0);
            }
            s0.intoArray(acc, t);
        }
        for (; t < len; t++) {
            int sum = 0;
            for (int k = 0; k < taps; k++) {
                sum += w[wOff + k] * phase[tapPhase[k]][tapOffset[k] + t];
            }
            acc[t] = sum;
        }
    }

    /**
     * {@link #taps} of a 3x3 kernel: the nine weights broadcast and the nine tap arrays looked up
     * once for the row rather than once per vector, the products summed as a tree.
     */
    private static void taps9(int[] w, int wOff, int[][] phase, int[] tapPhase, int[] tapOffset, int len, int[] acc) {
        int[] p0 = phase[tapPhase[0]];
        int[] p1 = phase[tapPhase[1]];
        int[] p2 = phase[tapPhase[2]];
        int[] p3 = phase[tapPhase[3]];
        int[] p4 = phase[tapPhase[4]];
        int[] p5 = phase[tapPhase[5]];
        int[] p6 = phase[tapPhase[6]];
        int[] p7 = phase[tapPhase[7]];
        int[] p8 = phase[tapPhase[8]];
        int o0 = tapOffset[0];
        int o1 = tapOffset[1];
        int o2 = tapOffset[2];
        int o3 = tapOffset[3];
        int o4 = tapOffset[4];
        int o5 = tapOffset[5];
        int o6 = tapOffset[6];
        int o7 = tapOffset[7];
        int o8 = tapOffset[8];
        IntVector w0 = IntVector.broadcast(S, w[wOff]);
        IntVector w1 = IntVector.broadcast(S, w[wOff + 1]);
        IntVector w2 = IntVector.broadcast(S, w[wOff + 2]);
        IntVector w3 = IntVector.broadcast(S, w[wOff + 3]);
        IntVector w4 = IntVector.broadcast(S, w[wOff + 4]);
        IntVector w5 = IntVector.broadcast(S, w[wOff + 5]);
        IntVector w6 = IntVector.broadcast(S, w[wOff + 6]);
        IntVector w7 = IntVector.broadcast(S, w[wOff + 7]);
        IntVector w8 = IntVector.broadcast(S, w[wOff + 8]);
        int vecEnd = len / L * L;
        int t = 0;
        for (; t < vecEnd; t += L) {
            IntVector a = IntVector.fromArray(S, p0, o0 + t)
                    .mul(w0)
                    .add(IntVector.fromArray(S, p1, o1 + t).mul(w1));
            IntVector b = IntVector.fromArray(S, p2, o2 + t)
                    .mul(w2)
                    .add(IntVector.fromArray(S, p3, o3 + t).mul(w3));
            IntVector c = IntVector.fromArray(S, p4, o4 + t)
                    .mul(w4)
                    .add(IntVector.fromArray(S, p5, o5 + t).mul(w5));
            IntVector d = IntVector.fromArray(S, p6, o6 + t)
                    .mul(w6)
                    .add(IntVector.fromArray(S, p7, o7 + t).mul(w7));
            a.add(b)
                    .add(c.add(d))
                    .add(IntVector.fromArray(S, p8, o8 + t).mul(w8))
                    .intoArray(acc, t);
        }
        for (; t < len; t++) {
            int sum = 0;
            for (int k = 0; k < 9; k++) {
                sum += w[wOff + k] * phase[tapPhase[k]][tapOffset[k] + t];
            }
            acc[t] = sum;
        }
    }

    @Override
    long maxAbs(int[] codes) {
        int end = codes.length / L * L;
        IntVector bits = IntVector.zero(S);
        int i = 0;
        for (; i < end; i += L) {
            IntVector v = IntVector.fromArray(S, codes, i);
            bits = bits.or(v.lanewise(VectorOperators.XOR, v.lanewise(VectorOperators.ASHR, 31)));
        }
        int b = bits.reduceLanes(VectorOperators.OR);
        for (; i < codes.length; i++) {
            int v = codes[i];
            b |= v ^ (v >> 31);
        }
        return b + 1L;
    }

    @Override
    boolean tapsInPlace() {
        return true;
    }

    private static void four2(
            int[] a,
            int w,
            int stride,
            int[][] rows,
            int r0,
            int depth,
            int t,
            int[] c0,
            int[] c1,
            int[] c2,
            int[] c3,
            boolean accumulate) {
        IntVector s00;
        IntVector s01;
        IntVector s10;
        IntVector s11;
        IntVector s20;
        IntVector s21;
        IntVector s30;
        IntVector s31;
        if (accumulate) {
            s00 = IntVector.fromArray(S, c0, t);
            s01 = IntVector.fromArray(S, c0, t + L);
            s10 = IntVector.fromArray(S, c1, t);
            s11 = IntVector.fromArray(S, c1, t + L);
            s20 = IntVector.fromArray(S, c2, t);
            s21 = IntVector.fromArray(S, c2, t + L);
            s30 = IntVector.fromArray(S, c3, t);
            s31 = IntVector.fromArray(S, c3, t + L);
        } else {
            s00 = IntVector.zero(S);
            s01 = s00;
            s10 = s00;
            s11 = s00;
            s20 = s00;
            s21 = s00;
            s30 = s00;
            s31 = s00;
        }
        for (int k = 0; k < depth; k++) {
            int[] q = rows[r0 + k];
            IntVector x0 = IntVector.fromArray(S, q, t);
            IntVector x1 = IntVector.fromArray(S, q, t + L);
            int w0 = a[w + k];
            int w1 = a[w + stride + k];
            int w2 = a[w + 2 * stride + k];
            int w3 = a[w + 3 * stride + k];
            s00 = x0.mul(w0).add(s00);
            s01 = x1.mul(w0).add(s01);
            s10 = x0.mul(w1).add(s10);
            s11 = x1.mul(w1).add(s11);
            s20 = x0.mul(w2).add(s20);
            s21 = x1.mul(w2).add(s21);
            s30 = x0.mul(w3).add(s30);
            s31 = x1.mul(w3).add(s31);
        }
        s00.intoArray(c0, t);
        s01.intoArray(c0, t + L);
        s10.intoArray(c1, t);
        s11.intoArray(c1, t + L);
        s20.intoArray(c2, t);
        s21.intoArray(c2, t + L);
        s30.intoArray(c3, t);
        s31.intoArray(c3, t + L);
    }

    private static void four1(
            int[] a,
            int w,
            int stride,
            int[][] rows,
            int r0,
            int depth,
            int t,
            int[] c0,
            int[] c1,
            int[] c2,
            int[] c3,
            boolean accumulate) {
        IntVector s0;
        IntVector s1;
        IntVector s2;
        IntVector s3;
        if (accumulate) {
            s0 = IntVector.fromArray(S, c0, t);
            s1 = IntVector.fromArray(S, c1, t);
            s2 = IntVector.fromArray(S, c2, t);
            s3 = IntVector.fromArray(S, c3, t);
        } else {
            s0 = IntVector.zero(S);
            s1 = s0;
            s2 = s0;
            s3 = s0;
        }
        for (int k = 0; k < depth; k++) {
            IntVector x = IntVector.fromArray(S, rows[r0 + k], t);
            s0 = x.mul(a[w + k]).add(s0);
            s1 = x.mul(a[w + stride + k]).add(s1);
            s2 = x.mul(a[w + 2 * stride + k]).add(s2);
            s3 = x.mul(a[w + 3 * stride + k]).add(s3);
        }
        s0.intoArray(c0, t);
        s1.intoArray(c1, t);
        s2.intoArray(c2, t);
        s3.intoArray(c3, t);
    }

    /** One output row over {@code vectors} (1 or 2) vectors of columns from t. */
    private static void one(
            int[] a, int w, int[][] rows, int r0, int depth, int t, int vectors, int[] c, boolean accumulate) {
        if (vectors == 2) {
            IntVector s0 = accumulate ? IntVector.fromArray(S, c, t) : IntVector.zero(S);
            IntVector s1 = accumulate ? IntVector.fromArray(S, c, t + L) : IntVector.zero(S);
            for (int k = 0; k < depth; k++) {
                int[] q = rows[r0 + k];
                int wk = a[w + k];
                s0 = IntVector.fromArray(S, q, t).mul(wk).add(s0);
                s1 = IntVector.fromArray(S, q, t + L).mul(wk).add(s1);
            }
            s0.intoArray(c, t);
            s1.intoArray(c, t + L);
        } else {
            IntVector s0 = accumulate ? IntVector.fromArray(S, c, t) : IntVector.zero(S);
            for (int k = 0; k < depth; k++) {
                s0 = IntVector.fromArray(S, rows[r0 + k], t).mul(a[w + k]).add(s0);
            }
            s0.intoArray(c, t);
        }
    }
}
