package dev.layerprobe.agent.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

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
    void anUnknownNameListsTheAvailableBackends() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> BackendProvider.named("rknn"));

        assertEquals("unknown backend 'rknn', expected one of [sim, exec]", e.getMessage());
    }
}
