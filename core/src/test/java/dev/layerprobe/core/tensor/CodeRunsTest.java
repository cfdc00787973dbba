package dev.layerprobe.core.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Both forms of {@link CodeRuns} against {@link QuantParams}' per-element arithmetic, bit for bit:
 * ties, NaN, infinities, -0.0, subnormals and values far outside the code range, every integer
 * type, per-tensor and per-channel parameters, and ranges of every length and offset around the
 * vector width.
 */
class CodeRunsTest {
    private static final List<DType> TYPES = List.of(DType.INT8, DType.UINT8, DType.INT16, DType.UINT16, DType.INT32);

    @Test
    void theVectorFormLoadsAndIsTheOneUsed() {
        CodeRuns vector = CodeRuns.vector()
                .orElseThrow(() -> new AssertionError(
                        "VectorCodeRuns did not load: is src/main/vector compiled and the module added?"));
        assertNotSame(CodeRuns.scalar(), vector);
        assertNotSame(CodeRuns.scalar(), CodeRuns.best());
    }

    @Test
    void quantizeMatchesQuantParamsPerElement() {
        Random r = new Random(7);
        for (CodeRuns runs : forms()) {
            for (DType type : TYPES) {
                for (int trial = 0; trial < 40; trial++) {
                    QuantParams q = params(r, type, 1, 0);
                    int n = r.nextInt(70);
                    int off = r.nextInt(5);
                    float[] x = values(r, n + off, q.scale(0));
                    int[] out = new int[n + 3];
                    runs.quantize(q, new int[] {n + off}, 0, x, off, n, out, 3);
                    for (int i = 0; i < n; i++) {
                        assertEquals(
                                (int) q.quantize(x[off + i], 0),
                                out[3 + i],
                                type + " scale " + q.scale(0) + " zp " + q.zeroPoint(0) + " x " + x[off + i]);
                    }
                }
            }
        }
    }

    @Test
    void dequantizeMatchesQuantParamsPerElement() {
        Random r = new Random(8);
        for (CodeRuns runs : forms()) {
            for (DType type : TYPES) {
                for (int trial = 0; trial < 40; trial++) {
                    QuantParams q = params(r, type, 1, 0);
                    int n = r.nextInt(70);
                    int[] codes = codes(r, n + 2, type);
                    float[] out = new float[n + 1];
                    runs.dequantize(q, new int[] {n + 2}, 0, codes, 2, n, out, 1);
                    for (int i = 0; i < n; i++) {
                        assertEquals(
                                Float.floatToRawIntBits(q.dequantize(codes[2 + i], 0)),
                                Float.floatToRawIntBits(out[1 + i]),
                                type + " code " + codes[2 + i]);
                    }
                }
            }
        }
    }

    @Test
    void perChannelRangesTakeEachElementsChannel() {
        Random r = new Random(9);
        int[] shape = {2, 3, 5, 7};
        int size = 2 * 3 * 5 * 7;
        for (CodeRuns runs : forms()) {
            for (int axis = 0; axis < shape.length; axis++) {
                QuantParams q = params(r, DType.INT8, shape[axis], axis);
                float[] x = values(r, size, 0.05f);
                int[] codes = codes(r, size, DType.INT8);
                for (int trial = 0; trial < 20; trial++) {
                    int first = r.nextInt(size);
                    int n = r.nextInt(size - first + 1);
                    int[] got = new int[n];
                    float[] real = new float[n];
                    runs.quantize(q, shape, first, x, first, n, got, 0);
                    runs.dequantize(q, shape, first, codes, first, n, real, 0);
                    for (int i = 0; i < n; i++) {
                        int e = first + i;
                        int ch = channel(shape, axis, e);
                        assertEquals((int) q.quantize(x[e], ch), got[i], "axis " + axis + " element " + e);
                        assertEquals(
                                Float.floatToRawIntBits(q.dequantize(codes[e], ch)),
                                Float.floatToRawIntBits(real[i]),
                                "axis " + axis + " element " + e);
                    }
                }
            }
        }
    }

    @Test
    void codesOutsideSixteenBitsStillDequantizeExactly() {
        QuantParams q = QuantParams.perTensor(DType.INT32, 1.1e-7f, 3);
        int[] codes = new int[64];
        for (int i = 0; i < codes.length; i++) {
            codes[i] = i == 37 ? Integer.MIN_VALUE : (i * 2_654_435) ^ (i << 20);
        }
        float[] want = new float[codes.length];
        float[] got = new float[codes.length];
        CodeRuns.scalar().dequantize(q, new int[] {64}, 0, codes, 0, 64, want, 0);
        CodeRuns.best().dequantize(q, new int[] {64}, 0, codes, 0, 64, got, 0);
        assertArrayEquals(want, got);
    }

    @Test
    void wholeTensorsRoundTripThroughQTensor() {
        Random r = new Random(10);
        QuantParams q = params(r, DType.UINT8, 1, 0);
        float[] x = values(r, 1000, q.scale(0));
        QTensor t = QTensor.quantize(Tensor.ofFloats(new int[] {10, 100}, x), q);
        float[] back = t.dequantize().floats();
        for (int i = 0; i < x.length; i++) {
            int c = (int) q.quantize(x[i], 0);
            assertEquals(c, t.codes()[i]);
            assertEquals(Float.floatToRawIntBits(q.dequantize(c, 0)), Float.floatToRawIntBits(back[i]));
        }
        assertTrue(back.length == 1000);
    }

    private static List<CodeRuns> forms() {
        return List.of(CodeRuns.scalar(), CodeRuns.vector().orElseThrow());
    }

    private static int channel(int[] shape, int axis, int element) {
        int inner = 1;
        for (int d = axis + 1; d < shape.length; d++) {
            inner *= shape[d];
        }
        return (element / inner) % shape[axis];
    }

    private static QuantParams params(Random r, DType type, int channels, int axis) {
        float[] scale = new float[channels];
        long[] zp = new long[channels];
        for (int c = 0; c < channels; c++) {
            scale[c] = r.nextInt(4) == 0
                    ? Float.MIN_NORMAL * (1 + r.nextInt(100))
                    : (float) Math.pow(2, r.nextInt(30) - 20) * (1 + r.nextFloat());
            long span = type.max() - type.min();
            zp[c] = r.nextInt(3) == 0 ? 0 : type.min() + (long) (r.nextDouble() * span);
        }
        return new QuantParams(type, scale, zp, axis);
    }

    /** Values around the code grid (many exact ties), and the special values. */
    private static float[] values(Random r, int n, float scale) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = switch (r.nextInt(12)) {
                case 0 -> Float.NaN;
                case 1 -> r.nextBoolean() ? Float.POSITIVE_INFINITY : Float.NEGATIVE_INFINITY;
                case 2 -> r.nextBoolean() ? -0.0f : 0.0f;
                case 3 -> Float.MIN_VALUE * r.nextInt(1000) * (r.nextBoolean() ? 1 : -1);
                case 4 -> (r.nextBoolean() ? 1 : -1) * Float.MAX_VALUE / (1 + r.nextInt(1000));
                case 5 -> Float.intBitsToFloat(r.nextInt());
                case 6, 7 -> (r.nextInt(1 << 18) - (1 << 17) + 0.5f) * scale; // ties
                default -> (float) (r.nextGaussian() * 300 * scale);
            };
        }
        return x;
    }

    private static int[] codes(Random r, int n, DType type) {
        int[] c = new int[n];
        for (int i = 0; i < n; i++) {
            c[i] = (int) (type.min() + (long) (r.nextDouble() * (type.max() - type.min() + 1.0)));
        }
        return c;
    }
}
