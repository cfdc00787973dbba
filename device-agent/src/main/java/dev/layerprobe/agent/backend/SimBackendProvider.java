package dev.layerprobe.agent.backend;

import dev.layerprobe.simulator.profile.DeviceProfile;
import java.util.EnumSet;
import java.util.Set;

/** Provides {@link SimBackend} under the name {@value SimBackend#NAME}. Stateless. */
public final class SimBackendProvider implements BackendProvider {
    @Override
    public String name() {
        return SimBackend.NAME;
    }

    @Override
    public Set<Capability> capabilities() {
        return EnumSet.of(Capability.RUN, Capability.NATIVE_DUMPS, Capability.RUN_LAYER);
    }

    @Override
    public Backend create(DeviceProfile profile) {
        return new SimBackend(profile);
    }
}
