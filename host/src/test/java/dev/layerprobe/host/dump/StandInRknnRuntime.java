package dev.layerprobe.host.dump;

import dev.layerprobe.dump.npy.Npy;
import dev.layerprobe.simulator.CompileOptions;
import dev.layerprobe.simulator.NpuProgram;
import dev.layerprobe.simulator.Simulator;
import dev.layerprobe.simulator.profile.DeviceProfile;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A stand-in for a vendor runtime on a board, for the exec backend's end-to-end test: runs a model
 * on the simulator with a device profile (whose faults make it wrong as a buggy NPU would be) and
 * leaves RKNN runtime style dumps ({@code NNN_<op>_<tensor>_shape_..._float.npy}) in a folder.
 *
 * <p>Usage: {@code StandInRknnRuntime MODEL.onnx INPUT.npy DUMP_DIR PROFILE.yaml}
 */
public final class StandInRknnRuntime {
    private StandInRknnRuntime() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 4) {
            System.err.println("usage: StandInRknnRuntime MODEL.onnx INPUT.npy DUMP_DIR PROFILE.yaml");
            System.exit(2);
        }
        DeviceProfile profile = DeviceProfile.load(Path.of(args[3]));
        NpuProgram program = Simulator.compile(Path.of(args[0]), CompileOptions.of(profile));
        List<VendorDumpWriters.Named> layers = new ArrayList<>();
        program.run(
                Map.of(program.inputs().get(0).name(), Npy.read(Path.of(args[1]))),
                (layer, v) -> layers.add(new VendorDumpWriters.Named(layer.name(), layer.opLabel(), v)));
        VendorDumpWriters.rknnRuntime(Path.of(args[2]), layers);
        System.out.println("stand-in runtime: " + layers.size() + " layers dumped to " + args[2]);
    }
}
