package dev.layerprobe.agent.backend;

import dev.layerprobe.core.LayerProbeException;
import dev.layerprobe.core.LayerProbeException.Code;
import dev.layerprobe.core.ort.ExecutionProviders;
import dev.layerprobe.simulator.profile.DeviceProfile;
import dev.layerprobe.simulator.profile.Fault;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
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
        return create(profile, null, List.of());
    }

    /** Sessions give their nodes to the named execution providers first (checked: see {@link ExecutionProviders#of}). */
    @Override
    public Backend create(DeviceProfile profile, Path config, List<String> executionProviders)
            throws LayerProbeException {
        if (config != null) {
            throw new LayerProbeException(
                    Code.BAD_PROFILE, "backend '" + name() + "' takes no config file, got " + config);
        }
        if (!profile.faults().isEmpty()) {
            throw new LayerProbeException(
                    Code.BAD_PROFILE,
                    "the ort backend runs ONNX Runtime as it is and cannot"
                            + " emulate faults (profile '" + profile.name() + "' has "
                            + profile.faults().stream().map(Fault::target).collect(Collectors.joining(", "))
                            + "); use --backend sim to emulate them");
        }
        return new OrtBackend(ExecutionProviders.of(executionProviders));
    }
}
