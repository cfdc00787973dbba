package dev.layerprobe.agent.backend;

import dev.layerprobe.core.LayerProbeException;
import dev.layerprobe.simulator.profile.DeviceProfile;
import java.nio.file.Path;

/** Provides {@link ExecBackend} under the name {@value ExecBackend#NAME}; it needs the agent's config file. */
public final class ExecBackendProvider implements BackendProvider {
    @Override
    public String name() {
        return ExecBackend.NAME;
    }

    @Override
    public Backend create(DeviceProfile profile) throws LayerProbeException {
        return create(profile, null);
    }

    @Override
    public Backend create(DeviceProfile profile, Path config) throws LayerProbeException {
        if (config == null) {
            throw new LayerProbeException(
                    LayerProbeException.Code.BAD_PROFILE,
                    "the exec backend runs the vendor runtime"
                            + " named in the agent's config file: pass --backend-config FILE");
        }
        return new ExecBackend(ExecConfig.load(config), profile);
    }
}
