package dev.layerprobe.host.cli;

import dev.layerprobe.host.input.InputException;
import dev.layerprobe.host.input.InputLoader;
import dev.layerprobe.host.input.InputShapes;
import dev.layerprobe.host.quantize.Quantizer;
import dev.layerprobe.onnx.Onnx.ModelProto;
import dev.layerprobe.simulator.CompileOptions;
import dev.layerprobe.simulator.NpuProgram;
import dev.layerprobe.simulator.Simulator;
import dev.layerprobe.simulator.SimulatorException;
import dev.layerprobe.simulator.graph.ValueInfo;
import dev.layerprobe.simulator.onnx.OnnxGraphs;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A single-input float model compiled at the size its calibration inputs will have: the commands
 * that calibrate ({@code quantize}, {@code propose-hybrid}) start here. Dynamic dimensions are
 * fixed by {@code --input-shape}/{@code --size}, else by the first calibration file.
 *
 * @param floatModel   the model as read
 * @param floatProgram compiled at {@code shape}
 * @param input        the model's input
 * @param shape        the concrete input shape
 * @param files        the calibration files, sorted
 */
record FloatModelAtSize(
        ModelProto floatModel, NpuProgram floatProgram, ValueInfo input, int[] shape, List<Path> files) {

    static FloatModelAtSize load(Path model, Path calibDir, InputOptions input, String command)
            throws UsageException, InputException, SimulatorException {
        ModelProto floatModel = OnnxGraphs.readModel(model);
        NpuProgram floatProgram = Simulator.compile(model, CompileOptions.DEFAULT);
        if (floatProgram.inputs().size() != 1) {
            throw new UsageException("the model has " + floatProgram.inputs().size() + " inputs; " + command
                    + " supports single-input models");
        }
        ValueInfo in = floatProgram.inputs().get(0);
        List<Path> files = Quantizer.listInputs(calibDir);
        int[] shape = InputShapes.resolve(in, input.shapes().get(in.name()), input.heightWidth());
        if (!InputShapes.isStatic(shape)) {
            shape = InputLoader.load(files.get(0), shape, input.spec()).shape();
        }
        if (!InputShapes.isStatic(in.shape())) {
            floatProgram = Simulator.compile(model, CompileOptions.DEFAULT.withInputShapes(Map.of(in.name(), shape)));
        }
        return new FloatModelAtSize(floatModel, floatProgram, in, shape, files);
    }
}
