package dev.layerprobe.simulator;

import dev.layerprobe.simulator.profile.DeviceProfile;
import java.util.Map;

/**
 * How to compile a model into an NPU program.
 *
 * @param profile     the device: numerics and faults (faults only make sense on an emulated device)
 * @param inputShapes concrete shapes for graph inputs with dynamic dimensions, by input name
 * @param fuse        whether to fuse activations into the op before them, as NPU compilers do
 */
public record CompileOptions(DeviceProfile profile, Map<String, int[]> inputShapes, boolean fuse) {
    public static final CompileOptions DEFAULT = new CompileOptions(DeviceProfile.DEFAULT, Map.of(), true);

    public CompileOptions {
        inputShapes = Map.copyOf(inputShapes);
    }

    public static CompileOptions of(DeviceProfile profile) {
        return new CompileOptions(profile, Map.of(), true);
    }

    public CompileOptions withInputShapes(Map<String, int[]> shapes) {
        return new CompileOptions(profile, shapes, fuse);
    }
}
