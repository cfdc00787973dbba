package dev.layerprobe.simulator;

import dev.layerprobe.onnx.Onnx.ModelProto;
import dev.layerprobe.simulator.compiler.NpuCompiler;
import dev.layerprobe.simulator.kernels.FloatKernels;
import dev.layerprobe.simulator.onnx.OnnxGraphs;
import java.nio.file.Path;
import java.util.Set;

/**
 * Entry point of the NPU simulator: ONNX model in, {@link NpuProgram} out.
 *
 * <p>A float ONNX model compiles to a float program (the simulator's float reference). A QDQ
 * model (QuantizeLinear/DequantizeLinear pairs, docs/architecture.md#the-quantized-model-is-a-qdq-file) compiles to a quantized program whose
 * numerics come from the {@link dev.layerprobe.simulator.profile.DeviceProfile}.
 */
public final class Simulator {
    private Simulator() {}

    /** Reads and compiles an ONNX file; external data is resolved next to it. */
    public static NpuProgram compile(Path modelFile, CompileOptions options) throws SimulatorException {
        ModelProto m = OnnxGraphs.readModel(modelFile);
        Path dir = modelFile.toAbsolutePath().getParent();
        return NpuCompiler.compile(m, dir, modelFile.getFileName().toString(), options);
    }

    /** Compiles a parsed model; {@code name} is used in messages and reports. */
    public static NpuProgram compile(ModelProto model, String name, CompileOptions options) throws SimulatorException {
        return NpuCompiler.compile(model, null, name, options);
    }

    /** Op types the simulator can run. */
    public static Set<String> supportedOps() {
        return NpuCompiler.supportedOps();
    }

    static Set<String> floatOps() {
        return FloatKernels.supportedOps();
    }
}
