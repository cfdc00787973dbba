package dev.layerprobe.simulator.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.NpuProgram;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Save, load, staleness and corruption of the calibration cache; ranges re-derived from it. */
class CalibrationCacheTest {
    static final int N = 1 << 14;
    static final String KEY = "model sha256=abc\npreprocessing=nchw\nfile a.npy size=1 sha256=00\n";

    static NpuProgram program;
    static List<Map<String, Tensor>> data;
    static Calibration kl;

    @TempDir
    Path dir;

    @BeforeAll
    static void collect() throws Exception {
        program = CalibrationTestData.reluProgram(N);
        data = CalibrationTestData.gaussianWithOutliers(3, N, 7, 40f, -25f);
        kl = Calibration.collect(program, data, CalibrationOptions.of(CalibrationAlgorithm.KL), n -> {});
    }

    @Test
    void roundTripKeepsEveryRangeOfEveryAlgorithm() throws Exception {
        Path f = dir.resolve("calib.json");
        kl.save(f, KEY);
        CalibrationCache.Lookup l = CalibrationCache.lookup(f, KEY, CalibrationAlgorithm.MSE);
        assertTrue(l.isHit(), l.reason());
        Calibration back = l.calibration();
        assertEquals(kl.samples(), back.samples());
        assertEquals(kl.options(), back.options());
        assertEquals(List.copyOf(kl.tensors()), List.copyOf(back.tensors()));
        for (String t : kl.tensors()) {
            assertArrayEquals(kl.minMax(t), back.minMax(t), t);
            assertArrayEquals(kl.histogram(t).counts(), back.histogram(t).counts(), t);
            for (CalibrationAlgorithm a : CalibrationAlgorithm.values()) {
                CalibrationOptions o = kl.options().withAlgorithm(a);
                assertArrayEquals(kl.range(t, o), back.range(t, o), t + " " + a);
            }
        }
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(f), files.toList(), "no temporary file is left behind");
        }
    }

    @Test
    void rangesDerivedFromACacheEqualThoseCollectedDirectly() throws Exception {
        Path f = dir.resolve("calib.json");
        kl.save(f, KEY);
        Calibration cached = Calibration.load(f, KEY).orElseThrow();
        for (CalibrationAlgorithm a :
                List.of(CalibrationAlgorithm.PERCENTILE, CalibrationAlgorithm.MSE, CalibrationAlgorithm.MINMAX)) {
            Calibration direct = Calibration.collect(program, data, CalibrationOptions.of(a), n -> {});
            Calibration derived = cached.withOptions(CalibrationOptions.of(a));
            for (String t : direct.tensors()) {
                assertArrayEquals(direct.range(t), derived.range(t), t + " " + a);
            }
            assertEquals(direct.ranges().keySet(), derived.ranges().keySet());
        }
    }

    @Test
    void anotherKeyIsAMissThatSaysWhatChanged() throws Exception {
        Path f = dir.resolve("calib.json");
        kl.save(f, KEY);
        CalibrationCache.Lookup l = CalibrationCache.lookup(f, KEY.replace("nchw", "nhwc"));
        assertFalse(l.isHit());
        assertTrue(l.found().isEmpty());
        assertTrue(
                l.reason().contains("stale")
                        && l.reason().contains("preprocessing changed")
                        && !l.reason().contains("model"),
                l.reason());
        assertTrue(Calibration.load(f, "something else").isEmpty());
    }

    @Test
    void corruptTruncatedOrMissingFilesAreMisses() throws Exception {
        Path f = dir.resolve("calib.json");
        assertTrue(CalibrationCache.lookup(f, KEY).reason().startsWith("no calibration cache"));

        Files.writeString(f, "{\"format\": \"layerprobe-calibration\", \"vers", StandardCharsets.UTF_8);
        CalibrationCache.Lookup truncated = CalibrationCache.lookup(f, KEY);
        assertFalse(truncated.isHit());
        assertTrue(truncated.reason().contains("unreadable"), truncated.reason());

        Files.write(f, new byte[] {0, (byte) 0xff, 17, 3});
        assertFalse(CalibrationCache.lookup(f, KEY).isHit());

        kl.save(f, KEY);
        String good = Files.readString(f);
        Files.writeString(f, good.replaceFirst("\"counts\":\\[\\d+", "\"counts\":[-5"));
        CalibrationCache.Lookup negative = CalibrationCache.lookup(f, KEY);
        assertTrue(negative.reason().contains("corrupt"), negative.reason());

        Files.writeString(f, good.replaceFirst("\"counts\":\\[\\d+,", "\"counts\":["));
        assertTrue(CalibrationCache.lookup(f, KEY).reason().contains("counts, expected 2048"));

        Files.writeString(f, good.replace("\"algorithm\":\"kl\"", "\"algorithm\":\"median\""));
        assertTrue(CalibrationCache.lookup(f, KEY).reason().contains("median"));

        Files.writeString(f, good.replace("\"version\":1", "\"version\":99"));
        assertTrue(CalibrationCache.lookup(f, KEY).reason().contains("version 99"));
    }

    @Test
    void aMinmaxCacheServesMinmaxButNotHistogramAlgorithms() throws Exception {
        Path f = dir.resolve("minmax.json");
        Calibration mm = Calibration.collect(program, data, n -> {});
        mm.save(f, KEY);
        assertTrue(CalibrationCache.lookup(f, KEY).isHit());
        CalibrationCache.Lookup l = CalibrationCache.lookup(f, KEY, CalibrationAlgorithm.KL);
        assertFalse(l.isHit());
        assertTrue(l.reason().contains("min/max only"), l.reason());
        assertArrayEquals(
                mm.range("x"), CalibrationCache.lookup(f, KEY).calibration().range("x"));
    }

    @Test
    void saveReplacesAnOlderCache() throws Exception {
        Path f = dir.resolve("sub/calib.json");
        Calibration.collect(program, data.subList(0, 1), n -> {}).save(f, "old");
        kl.save(f, KEY);
        assertFalse(CalibrationCache.lookup(f, "old").isHit());
        assertEquals(3, Calibration.load(f, KEY).orElseThrow().samples());
    }

    @Test
    void keyNamesModelCalibrationFilesAndPreprocessing() throws Exception {
        Path model = Files.writeString(dir.resolve("m.onnx"), "model-bytes");
        Path a = Files.writeString(dir.resolve("a.npy"), "aaa");
        Path b = Files.writeString(dir.resolve("b.npy"), "bbbb");
        String k = CalibrationCache.key(model, List.of(b, a), "nchw mean=0");
        assertEquals(k, CalibrationCache.key(model, List.of(a, b), "nchw mean=0"), "file order does not matter");
        assertEquals(k, CalibrationCache.key(Files.readAllBytes(model), List.of(a, b), "nchw mean=0"));
        assertTrue(k.contains("file a.npy size=3 sha256=") && k.indexOf("a.npy") < k.indexOf("b.npy"), k);

        assertNotEquals(k, CalibrationCache.key(model, List.of(a, b), "nchw mean=127"));
        assertNotEquals(k, CalibrationCache.key(model, List.of(a), "nchw mean=0"));
        Files.writeString(b, "bbbB");
        String edited = CalibrationCache.key(model, List.of(a, b), "nchw mean=0");
        assertNotEquals(k, edited, "same size, other content");
        assertEquals(
                "the calibration set changed (2 files cached, 2 given)", CalibrationCache.describeMismatch(k, edited));
        Files.writeString(model, "other-model");
        assertTrue(CalibrationCache.describeMismatch(edited, CalibrationCache.key(model, List.of(a, b), "nchw mean=0"))
                .equals("the model changed"));
    }

    @Test
    void nonFiniteRangesRoundTrip() throws Exception {
        Calibration c = new Calibration();
        c.observe("inf", Tensor.ofFloats(new int[] {2}, new float[] {Float.NEGATIVE_INFINITY, 1f}));
        c.observe("nan", Tensor.ofFloats(new int[] {1}, new float[] {Float.NaN}));
        Path f = dir.resolve("c.json");
        c.save(f, KEY);
        Calibration back = Calibration.load(f, KEY).orElseThrow();
        assertArrayEquals(new float[] {Float.NEGATIVE_INFINITY, 1f}, back.range("inf"));
        assertArrayEquals(c.range("nan"), back.range("nan"));
    }
}
