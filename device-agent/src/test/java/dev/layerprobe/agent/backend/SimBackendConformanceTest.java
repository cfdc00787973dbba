package dev.layerprobe.agent.backend;

import dev.layerprobe.simulator.profile.DeviceProfile;

/** The backend conformance suite on the Java NPU simulator. */
class SimBackendConformanceTest extends BackendConformanceTest {
    @Override
    protected Backend newBackend() {
        return new SimBackend(DeviceProfile.DEFAULT);
    }
}
