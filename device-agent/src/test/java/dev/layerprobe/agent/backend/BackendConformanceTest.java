package dev.layerprobe.agent.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.core.LayerProbeException;
import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.core.tensor.QTensor;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.Layer;
import dev.layerprobe.simulator.graph.ValueInfo;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The contract every {@link Backend} keeps, run against each one (a subclass per backend): how it
 * describes itself, that runs report layers in execution order with the right values, that
 * quantized layers come as integer codes with the model's scale and zero point, that equal inputs
 * give byte-identical dumps, which error codes bad models and bad inputs get, and what closing a
 * handle or the backend does.
 */
abstract class BackendConformanceTest {
    private static final float[] X = {-1.5f, 0.25f, 2f, 3.3f};

    protected Backend backend;

    /** A fresh backend with the default profile. */
    protected abstract Backend newBackend() throws Exception;

    @BeforeEach
    void open() throws Exception {
        backend = newBackend();
    }

    @AfterEach
    void closeBackend() {
        backend.close();
    }

    private static Map<String, Tensor> feed(float... x) {
        return Map.of("x", Tensor.ofFloats(new int[] {1, 4}, x));
    }

    /** Every layer a run reports, in the order reported. */
    private static Map<String, LayerValue> run(LoadedModel model, Map<String, Tensor> feeds, List<Layer> layers)
            throws LayerProbeException {
        Map<String, LayerValue> values = new LinkedHashMap<>();
        model.run(feeds, (layer, value) -> {
            layers.add(layer);
            values.put(layer.name(), value);
        });
        return values;
    }

    @Test
    void describesItselfAsItsProviderDoes() {
        BackendProvider provider = BackendProvider.named(backend.name());

        assertEquals(
                provider.capabilities(),
                backend.capabilities(),
                "GetInfo lists inactive backends with their provider's capabilities");
        assertTrue(backend.capabilities().contains(Capability.RUN));
        assertFalse(backend.device().isBlank());
        assertFalse(backend.versions().isEmpty());
        backend.versions().forEach((k, v) -> assertFalse(v.isBlank(), k));
    }

    @Test
    void reportsEveryLayerOfAFloatModelInExecutionOrder() throws Exception {
        List<Layer> layers = new ArrayList<>();
        Map<String, LayerValue> values;
        try (LoadedModel model = backend.load(TinyModels.chain(), "chain")) {
            assertEquals(
                    List.of("x"), model.inputs().stream().map(ValueInfo::name).toList());
            assertArrayEquals(new int[] {1, 4}, model.inputs().get(0).shape());
            values = run(model, feed(X), layers);
        }

        assertEquals(List.of("a", "b", "y"), layers.stream().map(Layer::name).toList());
        for (int i = 0; i < layers.size(); i++) {
            assertEquals(i, layers.get(i).index(), "indices count layers in execution order");
        }
        assertEquals(
                List.of("Relu", "Sigmoid", "Neg"),
                layers.stream().map(Layer::op).toList());
        float[] y = values.get("y").real().floats();
        for (int i = 0; i < X.length; i++) {
            double expected = -1 / (1 + Math.exp(-Math.max(0, X[i])));
            assertEquals(expected, y[i], 1e-6, "y[" + i + "]");
            assertFalse(values.get("a").isQuantized());
        }
    }

    @Test
    void reportsQuantizedLayersAsCodesWithTheModelsScaleAndZeroPoint() throws Exception {
        List<Layer> layers = new ArrayList<>();
        Map<String, LayerValue> values;
        try (LoadedModel model = backend.load(TinyModels.qdqRelu(), "qdq")) {
            values = run(model, feed(X), layers);
        }

        LayerValue y = values.get("y");
        assertTrue(y != null && y.isQuantized(), "the Relu layer is reported as codes under the output's name");
        QTensor q = y.codes();
        assertEquals(DType.INT8, q.params().type());
        assertArrayEquals(new float[] {TinyModels.QDQ_SCALE}, q.params().scale());
        assertArrayEquals(new long[] {TinyModels.QDQ_ZERO_POINT}, q.params().zeroPoint());
        int[] expected = new int[X.length];
        for (int i = 0; i < X.length; i++) {
            int code = (int) Math.max(
                    -128, Math.min(127, Math.rint(X[i] / TinyModels.QDQ_SCALE) + TinyModels.QDQ_ZERO_POINT));
            expected[i] = Math.max(code, TinyModels.QDQ_ZERO_POINT);
        }
        assertArrayEquals(expected, q.codes(), "Relu on int8 codes is exact on every backend");
        assertEquals("y", layers.get(layers.size() - 1).name(), "the output layer comes last");
        assertSame(
                q.params().type(), layers.get(layers.size() - 1).outputQuant().type());
    }

    @Test
    void equalInputsGiveByteIdenticalDumps() throws Exception {
        try (LoadedModel model = backend.load(TinyModels.qdqRelu(), "qdq")) {
            List<String> first = checksums(run(model, feed(X), new ArrayList<>()));
            List<String> second = checksums(run(model, feed(X), new ArrayList<>()));
            List<String> other = checksums(run(model, feed(1, 1, 1, 1), new ArrayList<>()));

            assertEquals(first, second);
            assertNotEquals(first.get(first.size() - 1), other.get(other.size() - 1));
        }
    }

    private static List<String> checksums(Map<String, LayerValue> values) throws Exception {
        List<String> sums = new ArrayList<>();
        for (LayerValue v : values.values()) {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            if (v.isQuantized()) {
                ByteBuffer b = ByteBuffer.allocate(v.codes().size() * 4);
                b.asIntBuffer().put(v.codes().codes());
                d.update(b);
            } else {
                ByteBuffer b = ByteBuffer.allocate(v.real().size() * 4);
                b.asFloatBuffer().put(v.real().floats());
                d.update(b);
            }
            sums.add(HexFormat.of().formatHex(d.digest()));
        }
        return sums;
    }

    @Test
    void bytesThatAreNotOnnxAreRefusedAsNotOnnx() {
        LayerProbeException e =
                assertThrows(LayerProbeException.class, () -> backend.load(new byte[] {1, 2, 3, 4, 5}, "junk"));

        assertEquals(LayerProbeException.Code.NOT_ONNX, e.code());
    }

    @Test
    void aGraphReadingATensorNobodyProducesIsAnInvalidModel() {
        LayerProbeException e = assertThrows(
                LayerProbeException.class,
                () -> backend.load(TinyModels.danglingInput(), "dangling").close());

        assertEquals(LayerProbeException.Code.INVALID_MODEL, e.code());
        assertTrue(e.getMessage().contains("ghost"), e.getMessage());
    }

    @Test
    void anUnknownOperatorIsNamed() {
        LayerProbeException e = assertThrows(
                LayerProbeException.class,
                () -> backend.load(TinyModels.unknownOp(), "unknown").close());

        assertEquals(LayerProbeException.Code.UNSUPPORTED_OP, e.code(), e.getMessage());
        assertTrue(e.getMessage().contains("NoSuchOp"), e.getMessage());
    }

    @Test
    void anInputOfTheWrongShapeIsBadInput() throws Exception {
        try (LoadedModel model = backend.load(TinyModels.chain(), "chain")) {
            LayerProbeException e = assertThrows(
                    LayerProbeException.class,
                    () -> model.run(Map.of("x", Tensor.ofFloats(new int[] {1, 5}, new float[5])), (l, v) -> {}));

            assertEquals(LayerProbeException.Code.BAD_INPUT, e.code());
            assertTrue(e.getMessage().contains("'x'"), e.getMessage());
        }
    }

    @Test
    void anObserverThatThrowsAbortsTheRunWithItsOwnException() throws Exception {
        RuntimeException stop = new IllegalStateException("client went away");
        List<String> seen = new ArrayList<>();
        try (LoadedModel model = backend.load(TinyModels.chain(), "chain")) {
            RuntimeException thrown = assertThrows(
                    RuntimeException.class,
                    () -> model.run(feed(X), (l, v) -> {
                        seen.add(l.name());
                        throw stop;
                    }));

            assertSame(stop, thrown);
            assertEquals(List.of("a"), seen, "no layer after the observer failed");
            assertEquals(3, run(model, feed(X), new ArrayList<>()).size(), "the model still runs afterwards");
        }
    }

    @Test
    void aClosedHandleRefusesUseWhileOtherHandlesOfTheModelKeepWorking() throws Exception {
        LoadedModel first = backend.load(TinyModels.chain(), "chain");
        LoadedModel second = backend.load(TinyModels.chain(), "chain");

        first.close();
        assertDoesNotThrow(first::close, "closing twice is harmless");
        assertThrows(IllegalStateException.class, first::inputs);
        assertThrows(IllegalStateException.class, () -> first.run(feed(X), (l, v) -> {}));
        assertEquals(3, run(second, feed(X), new ArrayList<>()).size());
        second.close();
    }

    @Test
    void closingTheBackendLeavesOpenHandlesUsableUntilTheyClose() throws Exception {
        LoadedModel model = backend.load(TinyModels.chain(), "chain");

        backend.close();

        assertEquals(3, run(model, feed(X), new ArrayList<>()).size());
        model.close();
        assertThrows(IllegalStateException.class, model::inputs);
    }

    @Test
    void runsOneModelFromSeveralThreadsAtOnce() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try (LoadedModel model = backend.load(TinyModels.chain(), "chain")) {
            List<Future<Float>> results = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                float v = i / 4f;
                Callable<Float> job = () -> run(model, feed(v, v, v, v), new ArrayList<>())
                        .get("y")
                        .real()
                        .floats()[0];
                results.add(pool.submit(job));
            }
            for (int i = 0; i < results.size(); i++) {
                assertEquals(-1 / (1 + Math.exp(-i / 4.0)), results.get(i).get(), 1e-6, "run " + i);
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
