package dev.layerprobe.simulator.kernels.quantized;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.QTensor;
import dev.layerprobe.core.tensor.QuantParams;
import dev.layerprobe.simulator.graph.Attribute;
import dev.layerprobe.simulator.graph.Node;
import dev.layerprobe.simulator.profile.RequantMode;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Every path of {@link QConv}'s int32 kernel (1x1 reading planes as they are, gathered KxK, strided,
 * dilated, padded, grouped and depthwise, by rows in tiles or transposed on small planes) gives the
 * codes of the tap-by-tap 64-bit path ({@link QConv#runReference}), on random codes with random
 * zero points, per-channel weights with their own zero points, random biases and multipliers, both
 * requantization modes, fused clamps and the accumulator_int16_wrap fault; int16 codes take the
 * same paths with 64-bit sums.
 */
class QConvPathsTest {

    /**
     * Shape: N, C, H, W, output channels, kernel h, w, group, strides, dilations, pads (t, l, b, r),
     * auto_pad.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource(
            delimiter = ';',
            value = {
                "1x1 planes by rows;                 1; 8; 20; 20; 24; 1; 1; 1; 1; 1; 0 0 0 0; NOTSET",
                "1x1 transposed on 7x7;              1; 16; 7; 7; 64; 1; 1; 1; 1; 1; 0 0 0 0; NOTSET",
                "1x1 stride 2;                       1; 8; 15; 13; 12; 1; 1; 1; 2; 1; 0 0 0 0; NOTSET",
                "1x1 padded;                         1; 4; 9; 11; 6; 1; 1; 1; 1; 1; 1 2 0 1; NOTSET",
                "3x3 depth 27 (not a multiple of 4); 1; 3; 33; 31; 8; 3; 3; 1; 2; 1; 1 1 1 1; NOTSET",
                "3x3 several tiles;                  1; 16; 40; 40; 8; 3; 3; 1; 1; 1; 1 1 1 1; NOTSET",
                "3x3 dilated;                        1; 6; 17; 19; 5; 3; 3; 1; 1; 2; 2 2 2 2; NOTSET",
                "5x3 asymmetric pads, stride 3;      1; 5; 23; 21; 7; 5; 3; 1; 3; 1; 0 2 3 1; NOTSET",
                "same_upper;                         1; 4; 14; 15; 6; 3; 3; 1; 2; 1; 0 0 0 0; SAME_UPPER",
                "same_lower;                         1; 4; 14; 15; 6; 4; 4; 1; 2; 1; 0 0 0 0; SAME_LOWER",
                "depthwise 3x3;                      1; 24; 30; 29; 24; 3; 3; 24; 1; 1; 1 1 1 1; NOTSET",
                "depthwise 3x3 stride 2;             1; 24; 31; 30; 24; 3; 3; 24; 2; 1; 1 1 1 1; NOTSET",
                "depthwise 5x5 dilated;              1; 8; 20; 22; 8; 5; 5; 8; 1; 2; 4 4 4 4; NOTSET",
                "depthwise multiplier 2;             1; 6; 12; 12; 12; 3; 3; 6; 1; 1; 1 1 1 1; NOTSET",
                "depthwise on 4x4, many tasks;       2; 96; 4; 4; 96; 3; 3; 96; 1; 1; 1 1 1 1; NOTSET",
                "grouped 3x3;                        1; 8; 16; 16; 12; 3; 3; 4; 1; 1; 1 1 1 1; NOTSET",
                "grouped 1x1 transposed;             1; 32; 5; 5; 64; 1; 1; 2; 1; 1; 0 0 0 0; NOTSET",
                "1x1 transposed, batch 2, 2 groups;  2; 32; 6; 7; 96; 1; 1; 2; 1; 1; 0 0 0 0; NOTSET",
                "batch of 3, 3x3 stride 2;           3; 5; 12; 10; 7; 3; 3; 1; 2; 1; 1 0 1 0; NOTSET",
                "kernel larger than the input;       1; 3; 2; 3; 4; 5; 5; 1; 1; 1; 2 2 2 2; NOTSET",
                "1x1 on a 1x1 plane;                 2; 64; 1; 1; 100; 1; 1; 1; 1; 1; 0 0 0 0; NOTSET",
                "3x3 deep: input channels in chunks; 1; 260; 14; 14; 40; 3; 3; 1; 1; 1; 1 1 1 1; NOTSET",
                "1x1 transposed, chunks and blocks;  1; 300; 7; 7; 600; 1; 1; 1; 1; 1; 0 0 0 0; NOTSET",
                "3x3 transposed in chunks;           1; 64; 7; 7; 200; 3; 3; 1; 1; 1; 1 1 1 1; NOTSET",
            })
    void everyPathGivesTheReferenceCodes(
            String name,
            int n,
            int ic,
            int ih,
            int iw,
            int oc,
            int kh,
            int kw,
            int group,
            int stride,
            int dilation,
            String pads,
            String autoPad) {
        long seed = name.hashCode();
        for (RequantMode mode : RequantMode.values()) {
            for (boolean wrap : new boolean[] {false, true}) {
                for (DType type : new DType[] {DType.INT8, DType.UINT8, DType.INT16}) {
                    Case c = new Case(
                            new SplittableRandom(seed++),
                            n,
                            ic,
                            ih,
                            iw,
                            oc,
                            kh,
                            kw,
                            group,
                            stride,
                            dilation,
                            pads,
                            autoPad);
                    QConv conv = c.conv(mode, wrap, type);
                    QTensor x = c.input(type);
                    QTensor fast = conv.run(x);
                    QTensor reference = conv.runReference(x);
                    assertArrayEquals(reference.shape(), fast.shape(), name);
                    assertArrayEquals(
                            reference.codes(), fast.codes(), name + " " + mode + (wrap ? " wrap " : " ") + type);
                }
            }
        }
    }

    @Test
    void aClampNarrowedByAFusedActivationHolds() {
        Case c = new Case(new SplittableRandom(5), 1, 8, 20, 20, 24, 3, 3, 1, 1, 1, "1 1 1 1", "NOTSET");
        QConv conv = c.conv(RequantMode.FIXED, false, DType.INT8, -20, 30);
        QTensor y = conv.run(c.input(DType.INT8));
        assertArrayEquals(conv.runReference(c.input(DType.INT8)).codes(), y.codes());
        int atBounds = 0;
        for (int v : y.codes()) {
            assertTrue(v >= -20 && v <= 30, "code " + v);
            atBounds += v == -20 || v == 30 ? 1 : 0;
        }
        assertTrue(atBounds > 0, "the clamp is exercised");
    }

    /**
     * int16 codes whose sums leave int32 take the 64-bit path: the codes match a plain 64-bit sum
     * computed here, not a wrapped int32 one.
     */
    @Test
    void sumsBeyondInt32TakeThe64BitPath() {
        int ic = 64;
        Node node = node(1, 1, 1, "0 0 0 0", "NOTSET");
        int[] w = new int[ic];
        int[] x = new int[ic * 4];
        java.util.Arrays.fill(w, 30_000);
        java.util.Arrays.fill(x, 30_000); // 64 * 9e8 = 5.76e10, far beyond int32
        QuantParams xq = QuantParams.perTensor(DType.INT16, 1f, 0);
        QuantParams wq = QuantParams.perTensor(DType.INT16, 1f, 0);
        QuantParams yq = QuantParams.perTensor(DType.INT32, 1f, 0);
        Requantizer one = new Requantizer(1.0 / 1024, RequantMode.FIXED);
        QConv conv = new QConv(
                node,
                new QTensor(new int[] {1, ic, 1, 1}, w, wq),
                new long[1],
                new Requantizer[] {one},
                xq,
                yq,
                Integer.MIN_VALUE,
                Integer.MAX_VALUE);
        QTensor y = conv.run(new QTensor(new int[] {1, ic, 2, 2}, x, xq));
        long sum = 64L * 30_000 * 30_000;
        assertEquals(one.apply(sum, 0, Integer.MIN_VALUE, Integer.MAX_VALUE), y.codes()[0]);
        assertEquals(sum / 1024, y.codes()[3]);
    }

    static Node node(int group, int stride, int dilation, String pads, String autoPad) {
        Map<String, Attribute> a = new HashMap<>();
        a.put("group", Attribute.ofInt(group));
        a.put("strides", Attribute.ofInts(stride, stride));
        a.put("dilations", Attribute.ofInts(dilation, dilation));
        a.put(
                "pads",
                Attribute.ofInts(java.util.regex.Pattern.compile(" ")
                        .splitAsStream(pads.trim())
                        .mapToLong(Long::parseLong)
                        .toArray()));
        a.put("auto_pad", Attribute.ofString(autoPad.trim()));
        return new Node("conv", "Conv", "", List.of("x", "w"), List.of("y"), a);
    }

    /** A random Conv of one geometry: weights, zero points, biases and multipliers from the seed. */
    private static final class Case {
        private final SplittableRandom r;
        private final int n;
        private final int ic;
        private final int ih;
        private final int iw;
        private final int oc;
        private final int kh;
        private final int kw;
        private final int group;
        private final Node node;
        private final long inputSeed;

        Case(
                SplittableRandom r,
                int n,
                int ic,
                int ih,
                int iw,
                int oc,
                int kh,
                int kw,
                int group,
                int stride,
                int dilation,
                String pads,
                String autoPad) {
            this.r = r;
            this.n = n;
            this.ic = ic;
            this.ih = ih;
            this.iw = iw;
            this.oc = oc;
            this.kh = kh;
            this.kw = kw;
            this.group = group;
            this.node = node(group, stride, dilation, pads, autoPad);
            this.inputSeed = r.nextLong();
        }

        QConv conv(RequantMode mode, boolean wrap, DType type) {
            QuantParams yq = yq(type);
            return conv(mode, wrap, type, yq.qmin(), yq.qmax());
        }

        /** int16: symmetric codes over the whole range, so that sums leave int32 (the 64-bit path). */
        QConv conv(RequantMode mode, boolean wrap, DType type, long lo, long hi) {
            boolean int16 = type == DType.INT16;
            int per = ic / group * kh * kw;
            int[] w = new int[oc * per];
            float[] ws = new float[oc];
            long[] wz = new long[oc];
            long[] bias = new long[oc];
            Requantizer[] rq = new Requantizer[oc];
            for (int o = 0; o < oc; o++) {
                ws[o] = (float) (0.001 + r.nextDouble() * 0.05);
                wz[o] = int16 ? 0 : r.nextInt(-20, 21);
                for (int k = 0; k < per; k++) {
                    // Some channels with a few zero weights (taps skipped by the 64-bit path).
                    w[o * per + k] = o % 5 == 0 && k % 3 == 0
                            ? (int) wz[o]
                            : int16 ? r.nextInt(-32767, 32768) : r.nextInt(-128, 128);
                }
                // Mostly int32-sized biases; a few beyond 2^31, where the requantizer's row loop
                // falls back to the scalar path.
                bias[o] = o % 7 == 3
                        ? (r.nextBoolean() ? 1 : -1) * ((1L << 31) + r.nextInt(1000))
                        : r.nextInt(-(1 << 20), 1 << 20);
                double m = o % 11 == 5 ? 0.5 + r.nextDouble() : Math.exp(-3 - r.nextDouble() * 9);
                rq[o] = new Requantizer(m, mode, (float) m);
            }
            QuantParams wq = new QuantParams(int16 ? DType.INT16 : DType.INT8, ws, wz, 0);
            return new QConv(
                    node,
                    new QTensor(new int[] {oc, ic / group, kh, kw}, w, wq),
                    bias,
                    rq,
                    xq(type),
                    yq(type),
                    lo,
                    hi,
                    wrap);
        }

        private static QuantParams xq(DType type) {
            long zp = type == DType.UINT8 ? 37 : type == DType.INT8 ? -11 : 0;
            return QuantParams.perTensor(type, 0.02f, zp);
        }

        private static QuantParams yq(DType type) {
            long zp = type == DType.UINT8 ? 100 : type == DType.INT8 ? -3 : 0;
            return QuantParams.perTensor(type, 0.05f, zp);
        }

        QTensor input(DType type) {
            SplittableRandom ri = new SplittableRandom(inputSeed);
            QuantParams q = xq(type);
            int[] x = new int[n * ic * ih * iw];
            for (int i = 0; i < x.length; i++) {
                x[i] = (int) ri.nextLong(q.qmin(), q.qmax() + 1);
            }
            return new QTensor(new int[] {n, ic, ih, iw}, x, q);
        }
    }
}
