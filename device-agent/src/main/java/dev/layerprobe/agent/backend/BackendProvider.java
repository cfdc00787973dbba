package dev.layerprobe.agent.backend;

import dev.layerprobe.core.LayerProbeException;
import dev.layerprobe.simulator.profile.DeviceProfile;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.ServiceLoader;
import java.util.Set;

/**
 * Creates {@link Backend}s of one kind. Implementations are listed in
 * {@code META-INF/services/dev.layerprobe.agent.backend.BackendProvider} and found with
 * {@link ServiceLoader}, so a backend that needs native libraries (ONNX Runtime, a vendor runtime)
 * lives in its own jar and is present only where it can run.
 */
public interface BackendProvider {

    /** The name the backend is chosen by, e.g. {@code sim}. */
    String name();

    /**
     * What the backends this provider creates can do, known without creating one (which may load
     * native libraries), so that {@code GetInfo} can list every backend on the agent's class path.
     * The default is what every backend offers.
     */
    default Set<Capability> capabilities() {
        return EnumSet.of(Capability.RUN);
    }

    /**
     * Creates a backend for a device profile. Emulating backends apply the profile's numerics and
     * faults; backends on real hardware may only report its name.
     */
    Backend create(DeviceProfile profile) throws LayerProbeException;

    /**
     * Creates a backend configured by the agent's config file (see the backend's documentation for
     * its section). Backends that take no configuration refuse a file rather than ignore it.
     *
     * @param config the agent's config file, or null
     */
    default Backend create(DeviceProfile profile, Path config) throws LayerProbeException {
        if (config != null) {
            throw new LayerProbeException(
                    LayerProbeException.Code.BAD_PROFILE,
                    "backend '" + name() + "' takes no config file, got " + config);
        }
        return create(profile);
    }

    /**
     * Creates a backend configured by the agent's config file whose ONNX Runtime sessions use the
     * named execution providers ({@code --ep}); backends that run no ONNX Runtime refuse names rather
     * than ignore them.
     *
     * @param config the agent's config file, or null
     * @param executionProviders provider names in order of preference; empty for the default
     */
    default Backend create(DeviceProfile profile, Path config, List<String> executionProviders)
            throws LayerProbeException {
        if (!executionProviders.isEmpty()) {
            throw new LayerProbeException(
                    LayerProbeException.Code.BAD_PROFILE,
                    "--ep chooses ONNX Runtime execution providers for --backend ort; backend '" + name()
                            + "' runs no ONNX Runtime");
        }
        return create(profile, config);
    }

    /**
     * The provider with this name.
     *
     * @throws IllegalArgumentException naming the available backends when none has this name
     */
    static BackendProvider named(String name) {
        List<BackendProvider> all = available();
        return all.stream()
                .filter(p -> p.name().equals(name))
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException("unknown backend '" + name + "', expected one of "
                        + all.stream().map(BackendProvider::name).toList()));
    }

    /** Every provider on the class path, in service-file order. */
    static List<BackendProvider> available() {
        return ServiceLoader.load(BackendProvider.class, BackendProvider.class.getClassLoader()).stream()
                .map(ServiceLoader.Provider::get)
                .toList();
    }
}
