package dev.layerprobe.agent.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.core.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What is particular to {@link OrtBackend}; the contract it shares is {@link OrtBackendConformanceTest}. */
class OrtBackendTest {
    private static final Map<String, Tensor> FEED =
            Map.of("x", Tensor.ofFloats(new int[] {1, 4}, new float[] {-1, 0.5f, 2, 3}));

    private static int layers(LoadedModel m) throws Exception {
        List<String> names = new ArrayList<>();
        m.run(FEED, (layer, value) -> names.add(layer.name()));
        return names.size();
    }

    @Test
    void aSessionEvictedFromTheCacheStaysUsableThroughItsOpenHandle() throws Exception {
        try (OrtBackend backend = new OrtBackend(1)) {
            LoadedModel chain = backend.load(TinyModels.chain(), "chain");
            backend.load(TinyModels.relu(), "relu").close();

            assertEquals(1, backend.cachedSessions(), "chain was evicted");
            assertEquals(3, layers(chain), "its handle still holds the session");
            chain.close();
            try (LoadedModel again = backend.load(TinyModels.chain(), "chain")) {
                assertEquals(3, layers(again), "loading it again makes a new session");
            }
        }
    }

    @Test
    void describesTheBoardsCpuAndOnnxRuntimesVersionWithoutAProfile() throws Exception {
        try (OrtBackend backend = new OrtBackend()) {
            assertTrue(backend.device().startsWith("cpu ("), backend.device());
            assertTrue(
                    backend.versions().get("onnxruntime").matches("\\d+\\.\\d+\\.\\d+.*"),
                    backend.versions().toString());
            assertFalse(backend.profile().isPresent(), "ONNX Runtime emulates no device");
            assertFalse(backend.capabilities().contains(Capability.RUN_LAYER));
            try (LoadedModel m = backend.load(TinyModels.chain(), "chain")) {
                assertFalse(m instanceof LayerIsolation, "the service answers RunLayer with UNIMPLEMENTED");
            }
        }
    }
}
