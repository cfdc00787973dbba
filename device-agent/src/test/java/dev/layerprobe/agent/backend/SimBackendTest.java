package dev.layerprobe.agent.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import dev.layerprobe.core.LayerProbeException;
import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.CompileOptions;
import dev.layerprobe.simulator.LayerObserver;
import dev.layerprobe.simulator.NpuProgram;
import dev.layerprobe.simulator.graph.ValueInfo;
import dev.layerprobe.simulator.profile.DeviceProfile;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

class SimBackendTest {
    private static final DeviceProfile PROFILE = parse("""
            name: test-npu
            faults:
              - kind: depth_to_space_mode_swap
                op: DepthToSpace
            """);

    @Test
    void compilesOnceForTheProfileAndCachesByModelId() throws Exception {
        NpuProgram program = mock(NpuProgram.class);
        List<CompileOptions> compiled = new ArrayList<>();
        SimBackend backend = new SimBackend(
                PROFILE,
                (m, name, opts) -> {
                    compiled.add(opts);
                    return program;
                },
                4);

        try (LoadedModel a = backend.load(TinyModels.relu(), "id-1");
                LoadedModel b = backend.load(TinyModels.relu(), "id-1")) {
            assertNotSame(a, b, "each load is its own model");
            assertEquals(1, compiled.size());
            assertSame(PROFILE, compiled.get(0).profile(), "faults reach the compiler through the profile");
        }
    }

    @Test
    void evictsTheLeastRecentlyUsedProgram() throws Exception {
        AtomicInteger compiles = new AtomicInteger();
        SimBackend backend = new SimBackend(
                PROFILE,
                (m, name, opts) -> {
                    compiles.incrementAndGet();
                    return mock(NpuProgram.class);
                },
                2);
        byte[] model = TinyModels.relu();

        backend.load(model, "a").close();
        backend.load(model, "b").close();
        backend.load(model, "a").close();
        backend.load(model, "c").close();
        backend.load(model, "a").close();
        assertEquals(3, compiles.get(), "a stayed cached, b was evicted");
        backend.load(model, "b").close();
        assertEquals(4, compiles.get());
        assertEquals(2, backend.cachedPrograms());
    }

    @Test
    void delegatesRunsToTheProgramAndRefusesUseAfterClose() throws Exception {
        NpuProgram program = mock(NpuProgram.class);
        List<ValueInfo> inputs = List.of(new ValueInfo("x", DType.FLOAT32, new int[] {1, 4}));
        when(program.inputs()).thenReturn(inputs);
        SimBackend backend = new SimBackend(PROFILE, (m, name, opts) -> program, 4);
        Map<String, Tensor> feeds = Map.of("x", Tensor.zeros(new int[] {1, 4}));

        LoadedModel model = backend.load(TinyModels.relu(), "id");
        assertEquals(inputs, model.inputs());
        model.run(feeds, LayerObserver.NONE);
        verify(program).run(eq(feeds), any());
        model.close();

        assertThrows(IllegalStateException.class, model::inputs);
        assertThrows(IllegalStateException.class, () -> model.run(feeds, LayerObserver.NONE));
    }

    @Test
    void bytesThatAreNotOnnxFailWithNotOnnx() {
        SimBackend backend = new SimBackend(PROFILE, (m, name, opts) -> mock(NpuProgram.class), 4);

        LayerProbeException e =
                assertThrows(LayerProbeException.class, () -> backend.load(new byte[] {1, 2, 3, 4, 5}, "id"));

        assertEquals(LayerProbeException.Code.NOT_ONNX, e.code());
    }

    @Test
    void describesTheEmulatedDevice() {
        SimBackend backend = new SimBackend(PROFILE);

        assertEquals("sim", backend.name());
        assertEquals("test-npu", backend.device());
        assertEquals(PROFILE, backend.profile().orElseThrow());
        assertTrue(backend.capabilities().contains(Capability.NATIVE_DUMPS));
        assertTrue(backend.versions().containsKey("simulator"));
    }

    @Test
    void runsATinyModelOnTheRealSimulator() throws Exception {
        SimBackend backend = new SimBackend(DeviceProfile.DEFAULT);
        LoadedModel model;
        try {
            model = backend.load(TinyModels.relu(), "tiny");
        } catch (UnsupportedOperationException e) {
            Assumptions.abort("the simulator's compiler is not written yet: " + e.getMessage());
            return;
        }
        List<LayerValue> seen = new ArrayList<>();

        try (model) {
            model.run(
                    Map.of("x", Tensor.ofFloats(new int[] {1, 4}, new float[] {-1, 2, -3, 4})),
                    (layer, value) -> seen.add(value));
        }

        assertEquals(1, seen.size());
        assertArrayEquals(new float[] {0, 2, 0, 4}, seen.get(0).real().floats());
    }

    @Test
    void anOutputsOnlyDeviceReportsTheModelsOutputAloneAndNoNativeDumps() throws Exception {
        SimBackend backend = new SimBackend(parse("name: closed-npu\ndumps: outputs_only\n"));
        List<String> seen = new ArrayList<>();
        List<LayerValue> values = new ArrayList<>();

        try (LoadedModel model = backend.load(TinyModels.chain(3, 1, 2), "chain")) {
            model.run(Map.of("x", Tensor.zeros(new int[] {1, 1, 2, 2})), (layer, value) -> {
                seen.add(layer.name());
                values.add(value);
            });
        }

        assertEquals(List.of("y"), seen, "three layers ran, only the graph output is reported");
        assertEquals(4, values.get(0).real().size());
        assertFalse(backend.capabilities().contains(Capability.NATIVE_DUMPS));
        assertTrue(backend.capabilities().contains(Capability.RUN_LAYER), "single layers still run");
    }

    @Test
    void aProfileWithAnUnknownDumpsSettingIsRefused() {
        LayerProbeException e =
                assertThrows(LayerProbeException.class, () -> DeviceProfile.parse("dumps: some\n", "p.yaml"));

        assertEquals(LayerProbeException.Code.BAD_PROFILE, e.code());
        assertEquals("profile p.yaml: dumps 'some' is not one of [layers, outputs_only]", e.getMessage());
    }

    private static DeviceProfile parse(String yaml) {
        try {
            return DeviceProfile.parse(yaml, "test");
        } catch (LayerProbeException e) {
            throw new AssertionError(e);
        }
    }
}
