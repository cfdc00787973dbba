package dev.layerprobe.agent.backend;

import dev.layerprobe.simulator.profile.DeviceProfile;

/** Provides {@link SimBackend} under the name {@value SimBackend#NAME}. Stateless. */
public final class SimBackendProvider implements BackendProvider {
    @Override
    public String name() {
        return SimBackend.NAME;
    }

    @Override
    public Backend create(DeviceProfile profile) {
        return new SimBackend(profile);
    }
}
