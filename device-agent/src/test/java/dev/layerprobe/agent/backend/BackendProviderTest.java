package dev.layerprobe.agent.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.core.LayerProbeException;
import dev.layerprobe.simulator.profile.DeviceProfile;
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

    @Test
    void anUnknownNameListsTheAvailableBackends() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BackendProvider.named("rknn"));

        assertEquals("unknown backend 'rknn', expected one of [sim, ort, exec]", e.getMessage());
    }
}
