package dev.layerprobe.host.cli;

import dev.layerprobe.core.LayerProbeException;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.host.input.InputException;
import dev.layerprobe.host.input.InputShapes;
import dev.layerprobe.simulator.CompileOptions;
import dev.layerprobe.simulator.Layer;
import dev.layerprobe.simulator.LayerObserver;
import dev.layerprobe.simulator.NpuProgram;
import dev.layerprobe.simulator.Placement;
import dev.layerprobe.simulator.Simulator;
import dev.layerprobe.simulator.SimulatorException;
import dev.layerprobe.simulator.graph.ValueInfo;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code layerprobe plan}: the NPU program the simulator compiles from a model: its layers in
 * execution order, the op (with fused activations), the ONNX nodes each layer covers, output
 * shapes, and where each layer runs (npu or cpu) once quantized.
 */
@Command(
        name = "plan",
        mixinStandardHelpOptions = true,
        description = "Print the compiled NPU program: layers, op, fused ONNX nodes, shapes, placement (npu/cpu).")
final class PlanCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "MODEL.onnx", description = "an ONNX model (float or QDQ)")
    Path model;

    @Option(
            names = "--input-shape",
            paramLabel = "NAME=DIMS",
            description = "concrete shape of a dynamic input, e.g. input=1x3x640x640; repeatable")
    List<String> inputShape;

    @Option(names = "--size", paramLabel = "WxH", description = "height and width of a dynamic image input")
    String size;

    @Option(names = "--verbose", description = "print stack traces on errors")
    boolean verbose;

    @Override
    public Integer call() throws UsageException, InputException, LayerProbeException {
        PrintWriter out = spec.commandLine().getOut();
        NpuProgram probe = Simulator.compile(model, CompileOptions.DEFAULT);
        Map<String, int[]> given = InputShapes.parse(inputShape);
        int[] hw = size == null ? null : InputShapes.parseSize(size);
        Map<String, int[]> shapes = new LinkedHashMap<>();
        for (ValueInfo in : probe.inputs()) {
            int[] s = InputShapes.resolve(in, given.get(in.name()), hw);
            if (!InputShapes.isStatic(s)) {
                throw new UsageException("input '" + in.name() + "' has dynamic shape " + InputShapes.describe(s)
                        + "; give --input-shape " + in.name() + "=DIMS or --size WxH");
            }
            shapes.put(in.name(), s);
        }
        NpuProgram p = Simulator.compile(model, CompileOptions.DEFAULT.withInputShapes(shapes));
        Map<String, int[]> outShapes = shapesByDryRun(p, shapes);
        long npu =
                p.layers().stream().filter(l -> l.placement() == Placement.NPU).count();
        out.printf(
                "%s: %d layers (%d npu, %d cpu), %s, inputs %s%n",
                model.getFileName(),
                p.layers().size(),
                npu,
                p.layers().size() - npu,
                p.isQuantized() ? "quantized (QDQ)" : "float",
                describeInputs(shapes));
        out.printf("%4s  %-44s %-22s %-16s %-5s %s%n", "#", "layer", "op", "shape", "place", "covers ONNX nodes");
        for (Layer l : p.layers()) {
            int[] s = outShapes.get(l.name());
            // A layer of an If branch says which; it has a shape only when the dry run takes its branch.
            String branch = l.attributes().get("in_branch");
            out.printf(
                    "%4d  %-44s %-22s %-16s %-5s %s%s%n",
                    l.index(),
                    ellipsize(l.name(), 44),
                    ellipsize(l.opLabel(), 22),
                    s == null ? "" : InputShapes.describe(s),
                    l.placement().label(),
                    String.join(", ", l.fusedNodes()),
                    branch == null ? "" : " (in the " + branch + ")");
            // A layer of several outputs (a recurrent layer's Y_h and Y_c, Split's parts) is one row,
            // named by its first output; the others follow under their ONNX names.
            for (String also : l.outputs().subList(1, l.outputs().size())) {
                out.printf("%4s  %-44s %s%n", "", "+ " + ellipsize(also, 42), "(output of #" + l.index() + ")");
            }
        }
        out.flush();
        return 0;
    }

    /** Output shapes by running the program once on zeros: exact for the given input shapes. */
    static Map<String, int[]> shapesByDryRun(NpuProgram p, Map<String, int[]> shapes) throws SimulatorException {
        Map<String, Tensor> feeds = new HashMap<>();
        for (ValueInfo in : p.inputs()) {
            int[] s = shapes.get(in.name());
            feeds.put(in.name(), Tensor.zeros(s));
        }
        Map<String, int[]> out = new HashMap<>();
        LayerObserver record = (layer, value) -> out.put(layer.name(), value.shape());
        p.run(feeds, record);
        return out;
    }

    private static String describeInputs(Map<String, int[]> shapes) {
        StringBuilder b = new StringBuilder();
        shapes.forEach((k, v) ->
                b.append(b.length() > 0 ? ", " : "").append(k).append(' ').append(InputShapes.describe(v)));
        return b.toString();
    }

    static String ellipsize(String s, int width) {
        if (s.length() <= width) {
            return s;
        }
        int keep = width - 3;
        return s.substring(0, keep / 2) + "..." + s.substring(s.length() - (keep - keep / 2));
    }
}
