package dev.layerprobe.dump;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.core.tensor.QTensor;
import dev.layerprobe.core.tensor.QuantParams;
import dev.layerprobe.core.tensor.Tensor;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Ranges read back from a dump equal the same range of the value that was written, codes and reals. */
class DumpValuesTest {
    @TempDir
    Path dir;

    @Test
    void anyRangeOfAnyLayerReadsBackAsTheSimulatorDequantizesIt() throws Exception {
        SplittableRandom r = new SplittableRandom(3);
        int[] shape = {1, 3, 5, 7};
        int n = 105;
        int[] codes = new int[n];
        float[] floats = new float[n];
        for (int i = 0; i < n; i++) {
            codes[i] = r.nextInt(-128, 128);
            floats[i] = (float) r.nextGaussian();
        }
        QTensor perChannel = new QTensor(
                shape, codes, new QuantParams(DType.INT8, new float[] {0.5f, 0.25f, 0.125f}, new long[] {-3, 0, 7}, 1));
        QTensor perTensor =
                new QTensor(shape, codes.clone(), new QuantParams(DType.INT8, new float[] {0.037f}, new long[] {5}, 0));
        int[] u16 = Arrays.stream(codes).map(c -> c + 128).toArray();
        QTensor int16 = new QTensor(shape, u16, new QuantParams(DType.INT16, new float[] {0.001f}, new long[] {0}, 0));
        try (DumpWriter w = DumpWriter.create(dir, "m", "simulator", false)) {
            w.writeLayer("pc", "Conv", LayerValue.of(perChannel));
            w.writeLayer("pt", "Conv", LayerValue.of(perTensor));
            w.writeLayer("i16", "Add", LayerValue.of(int16));
            w.writeLayer("f", "Softmax", LayerValue.of(Tensor.ofFloats(shape, floats)));
        }
        DumpValues values = DumpValues.open(dir);
        for (var q : new Object[][] {{"pc", perChannel}, {"pt", perTensor}, {"i16", int16}}) {
            QTensor t = (QTensor) q[1];
            float[] want = t.dequantize().floats();
            for (int first : new int[] {0, 1, 34, 35, 104}) {
                int len = Math.min(23, n - first);
                float[] real = new float[len];
                int[] got = new int[len];
                values.read(values.layer((String) q[0]), first, len, real, got);
                assertArrayEquals(Arrays.copyOfRange(want, first, first + len), real, 0f, q[0] + " from " + first);
                assertArrayEquals(
                        Arrays.copyOfRange(t.codes(), first, first + len), got, q[0] + " codes from " + first);
            }
        }
        float[] real = new float[10];
        values.read(values.layer("f"), 95, 10, real, null);
        assertArrayEquals(Arrays.copyOfRange(floats, 95, 105), real, 0f);
        assertArrayEquals(
                perChannel.dequantize().floats(),
                values.readWhole(values.layer("pc")).floats(),
                0f);
        assertEquals(4, values.layer("f").index() + 1);
    }
}
