package dev.layerprobe.agent.backend;

import dev.layerprobe.core.LayerProbeException;
import dev.layerprobe.core.LayerProbeException.Code;
import dev.layerprobe.simulator.profile.DeviceProfile;
import dev.layerprobe.simulator.profile.Fault;
import java.util.EnumSet;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Provides {@link OrtBackend} under the name {@value OrtBackend#NAME}. ONNX Runtime computes as it
 * does, so a profile with faults is refused rather than silently ignored. Stateless.
 */
public final class OrtBackendProvider implements BackendProvider {
    @Override
    public String name() {
        return OrtBackend.NAME;
    }

    @Override
    public Set<Capability> capabilities() {
        return EnumSet.of(Capability.RUN, Capability.NATIVE_DUMPS);
    }

    @Override
    public Backend create(DeviceProfile profile) throws LayerProbeException {
        if (!profile.faults().isEmpty()) {
            throw new LayerProbeException(
                    Code.BAD_PROFILE,
                    "the ort backend runs ONNX Runtime as it is and cannot"
                            + " emulate faults (profile '" + profile.name() + "' has "
                            + profile.faults().stream().map(Fault::target).collect(Collectors.joining(", "))
                            + "); use --backend sim to emulate them");
        }
        return new OrtBackend();
    }
}
