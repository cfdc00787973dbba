package dev.layerprobe.agent.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OrtProvider;
import dev.layerprobe.core.LayerProbeException;
import dev.layerprobe.core.ort.ExecutionProviders;
import dev.layerprobe.simulator.profile.DeviceProfile;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;

class BackendProviderTest {
    @Test
    void findsTheSimulatorBackendThroughTheServiceLoader() throws Exception {
        BackendProvider provider = BackendProvider.named("sim");

        assertInstanceOf(SimBackendProvider.class, provider);
        try (Backend backend = provider.create(DeviceProfile.DEFAULT)) {
            assertInstanceOf(SimBackend.class, backend);
            assertEquals(DeviceProfile.DEFAULT.name(), backend.device());
        }
    }

    @Test
    void findsOnnxRuntimeThroughTheServiceLoaderAndRefusesFaultsItCannotEmulate() throws Exception {
        BackendProvider provider = BackendProvider.named("ort");

        try (Backend backend = provider.create(DeviceProfile.DEFAULT)) {
            assertInstanceOf(OrtBackend.class, backend);
        }
        DeviceProfile faulty = DeviceProfile.parse("""
                name: buggy-npu
                faults:
                  - kind: drop_bias
                    op: Conv
                """, "test");
        LayerProbeException e = assertThrows(LayerProbeException.class, () -> provider.create(faulty));
        assertEquals(LayerProbeException.Code.BAD_PROFILE, e.code());
        assertTrue(e.getMessage().contains("--backend sim"), e.getMessage());
    }

    /**
     * {@code --ep}: what this machine's ONNX Runtime carries is accepted and shown in the backend's
     * device string; anything else is refused naming what is available.
     */
    @Test
    void onnxRuntimeTakesTheExecutionProvidersItsBuildCarriesAndRefusesTheOthers() throws Exception {
        BackendProvider provider = BackendProvider.named("ort");
        EnumSet<OrtProvider> available = ExecutionProviders.available();
        String names = ExecutionProviders.names(available);

        try (Backend backend = provider.create(DeviceProfile.DEFAULT, null, List.of("CPUExecutionProvider"))) {
            assertFalse(backend.device().contains("execution providers"), backend.device());
            assertEquals("cpu", backend.versions().get("execution_providers"));
        }
        for (String name : List.of("xnnpack", "XnnpackExecutionProvider")) {
            if (available.contains(OrtProvider.XNNPACK)) {
                try (Backend backend = provider.create(DeviceProfile.DEFAULT, null, List.of(name))) {
                    assertTrue(backend.device().endsWith(", execution providers xnnpack, cpu"), backend.device());
                }
            } else {
                LayerProbeException e = assertThrows(
                        LayerProbeException.class, () -> provider.create(DeviceProfile.DEFAULT, null, List.of(name)));
                assertEquals(LayerProbeException.Code.BAD_PROFILE, e.code());
                assertEquals(
                        "execution provider '" + name + "' is not in this machine's ONNX Runtime build; available: "
                                + names,
                        e.getMessage());
            }
        }
        LayerProbeException unknown = assertThrows(
                LayerProbeException.class, () -> provider.create(DeviceProfile.DEFAULT, null, List.of("npu9000")));
        assertEquals("unknown ONNX Runtime execution provider 'npu9000'; available: " + names, unknown.getMessage());
        assertTrue(names.startsWith("cpu"), names);
    }

    @Test
    void backendsWithoutOnnxRuntimeRefuseExecutionProviders() {
        LayerProbeException e = assertThrows(
                LayerProbeException.class,
                () -> BackendProvider.named("sim").create(DeviceProfile.DEFAULT, null, List.of("xnnpack")));
        assertEquals(
                "--ep chooses ONNX Runtime execution providers for --backend ort; backend 'sim' runs no ONNX Runtime",
                e.getMessage());
    }

    @Test
    void anUnknownNameListsTheAvailableBackends() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BackendProvider.named("rknn"));

        assertEquals("unknown backend 'rknn', expected one of [sim, ort, exec]", e.getMessage());
    }
}
