package dev.layerprobe.simulator.compiler;

import dev.layerprobe.onnx.Onnx.ModelProto;
import dev.layerprobe.simulator.CompileOptions;
import dev.layerprobe.simulator.NpuProgram;
import dev.layerprobe.simulator.SimulatorException;
import java.nio.file.Path;
import java.util.Set;

/** Compiles ONNX graphs into NPU programs. */
public final class NpuCompiler {
    private NpuCompiler() {
    }

    public static NpuProgram compile(ModelProto model, Path baseDir, String name, CompileOptions options)
            throws SimulatorException {
        throw new UnsupportedOperationException("compiler not written yet");
    }

    public static Set<String> supportedOps() {
        return Set.of();
    }
}
