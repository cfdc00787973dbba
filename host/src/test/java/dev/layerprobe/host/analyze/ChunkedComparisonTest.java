package dev.layerprobe.host.analyze;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.core.tensor.QTensor;
import dev.layerprobe.core.tensor.QuantParams;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.dump.DumpValues;
import dev.layerprobe.dump.DumpWriter;
import dev.layerprobe.host.compare.Metrics;
import dev.layerprobe.simulator.Layer;
import dev.layerprobe.simulator.Placement;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChunkedComparisonTest {
    /** More elements than one step, and a channel boundary inside a step: both edges of the range logic. */
    private static final int[] SHAPE = {1, 3, 301, 300};

    @TempDir
    Path tmp;

    @Test
    void aPerChannelLayerComparedInStepsEqualsTheWholeLayerComparedInTheSameSteps() throws Exception {
        int n = 3 * 301 * 300;
        assertTrue(n > ChunkedComparison.STEP, "the test must cross a step");
        Random rnd = new Random(7);
        float[] golden = new float[n];
        for (int i = 0; i < n; i++) {
            golden[i] = (float) rnd.nextGaussian() * (1 + i / (301 * 300)); // channels of different ranges
        }
        QuantParams q = new QuantParams(DType.INT8, new float[] {0.01f, 0.02f, 0.03f}, new long[] {0, 3, -2}, 1);
        LayerValue sim = LayerValue.of(QTensor.quantize(Tensor.ofFloats(SHAPE, golden), q));
        DumpValues dump = dump("golden", LayerValue.of(Tensor.ofFloats(SHAPE, golden)));
        LayerRanges.Range layer = LayerRanges.of(dump, true).layer("x");

        Metrics got = new Metrics();
        Path copy = tmp.resolve("copy");
        try (DumpWriter w = DumpWriter.create(copy, "m", "golden", true)) {
            w.beginLayer("x", "Conv", SHAPE, DType.FLOAT32, null);
            new ChunkedComparison().addLayer(layer, sim, got, w);
            w.endLayer();
        }

        // The same sums over the same ranges, from the whole dequantized value.
        float[] real = sim.real().floats();
        Metrics want = new Metrics();
        for (int off = 0; off < n; off += ChunkedComparison.STEP) {
            want.add(golden, off, real, off, Math.min(ChunkedComparison.STEP, n - off));
        }
        assertEquals(want.result(), got.result());
        // Golden kept in memory instead of a dump: the same sums.
        Metrics fromMemory = new Metrics();
        new ChunkedComparison()
                .addLayer(
                        LayerRanges.ofTensors(Map.of("x", Tensor.ofFloats(SHAPE, golden)))
                                .layer("x"),
                        sim,
                        fromMemory,
                        null);
        assertEquals(want.result(), fromMemory.result());
        assertTrue(got.result().cos() < 1, "int8 must lose something, or the comparison compared nothing");
        DumpValues copied = DumpValues.open(copy);
        assertArrayEquals(golden, copied.readWhole(copied.layer("x")).floats(), "the copy holds golden as read");
    }

    @Test
    void aRangeComparesCodesOnlyWhenGiven() throws Exception {
        QuantParams q = QuantParams.perTensor(DType.INT8, 0.5f, 0);
        int[] codes = {0, 1, 2, 3, 4, 5};
        DumpValues dump = dump("simulator", LayerValue.of(new QTensor(new int[] {6}, codes, q)));
        LayerRanges.Range layer = LayerRanges.of(dump, false).layer("x");
        assertNull(LayerRanges.of(dump, true).layer("x"), "codes are no float layer for golden");

        float[] device = {1.0f, 1.5f, 2.5f}; // codes 2, 3, 5 against the dump's 2, 3, 4
        int[] deviceCodes = {2, 3, 5};
        ChunkedComparison chunks = new ChunkedComparison();
        Metrics withCodes = new Metrics();
        float[] read = chunks.addRange(layer, 2, device, deviceCodes, 3, withCodes);
        assertArrayEquals(new float[] {1.0f, 1.5f, 2.0f}, java.util.Arrays.copyOf(read, 3));
        assertEquals(2.0 / 3, withCodes.result().bitExact(), 1e-12);
        assertEquals(1L, withCodes.result().maxLsb());

        Metrics floatsOnly = new Metrics();
        chunks.addRange(layer, 2, device, null, 3, floatsOnly);
        assertNull(floatsOnly.result().bitExact());
        assertEquals(withCodes.result().cos(), floatsOnly.result().cos());

        // The simulator's value in memory reads as its dump does, codes included.
        Metrics fromMemory = new Metrics();
        chunks.addRange(
                LayerRanges.of(LayerValue.of(new QTensor(new int[] {6}, codes, q))),
                2,
                device,
                deviceCodes,
                3,
                fromMemory);
        assertEquals(withCodes.result(), fromMemory.result());
    }

    @Test
    void aSizeMismatchNamesTheLayer() throws Exception {
        DumpValues dump = dump("golden", LayerValue.of(Tensor.ofFloats(new int[] {4}, new float[4])));
        Layer layer = new Layer(
                0, "x", "Relu", List.of("in"), List.of("x"), List.of(), List.of(), Map.of(), Placement.NPU, null);
        IllegalStateException e = assertThrows(
                IllegalStateException.class,
                () -> ChunkedComparison.checkSize(
                        layer,
                        LayerRanges.of(dump, true).layer("x"),
                        LayerValue.of(Tensor.ofFloats(new int[] {5}, new float[5]))));
        assertEquals("layer 'x': reference has 4 values, the other side 5", e.getMessage());
    }

    private DumpValues dump(String source, LayerValue v) throws Exception {
        Path dir = tmp.resolve(source);
        try (DumpWriter w = DumpWriter.create(dir, "m", source, true)) {
            w.writeLayer("x", "Conv", v);
        }
        return DumpValues.open(dir);
    }
}
