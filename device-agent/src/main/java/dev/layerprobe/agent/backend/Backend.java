package dev.layerprobe.agent.backend;

import dev.layerprobe.core.LayerProbeException;
import dev.layerprobe.simulator.profile.DeviceProfile;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Something that executes models for the agent: the Java NPU simulator, ONNX Runtime, or a vendor
 * runtime. Found through a {@link BackendProvider} and chosen by name.
 *
 * <p>Implementations are thread-safe: the agent loads and runs models from several worker threads
 * at once. Errors are {@link LayerProbeException}s whatever the backend, so that one place (the
 * service's status mapper) turns them into protocol errors.
 */
public interface Backend extends AutoCloseable {

    /** The name this backend is chosen by, e.g. {@code sim}. */
    String name();

    /** The device this backend runs on, as shown to users (a board name, or the profile's name). */
    String device();

    /** What this backend can do. */
    Set<Capability> capabilities();

    /** Versions of the components behind this backend (library or runtime name to version). */
    Map<String, String> versions();

    /** The emulated device's profile, for backends that emulate one; its faults are active. */
    default Optional<DeviceProfile> profile() {
        return Optional.empty();
    }

    /**
     * Checks, cheaply and before the agent stores an upload, that {@code model} is a file this
     * backend can take at all (for ONNX backends: it parses and imports a sane opset). Whether it
     * can run every operator is left to {@link #load}. The default accepts any bytes, for backends
     * whose models are opaque vendor files.
     *
     * @throws LayerProbeException with code NOT_ONNX or INVALID_MODEL naming what is wrong
     */
    default void check(byte[] model) throws LayerProbeException {}

    /**
     * Prepares a model for running. Backends may cache by {@code modelId} (the sha256 of the bytes),
     * so loading the same model again is cheap; the returned handle must still be closed.
     *
     * @param model   the model file's bytes
     * @param modelId the content address of {@code model}; equal ids mean equal bytes
     */
    LoadedModel load(byte[] model, String modelId) throws LayerProbeException;

    /** Releases cached models; loaded handles still open stay usable until closed. */
    @Override
    default void close() {}
}
