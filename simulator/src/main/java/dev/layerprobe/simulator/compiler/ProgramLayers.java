package dev.layerprobe.simulator.compiler;

import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.core.tensor.QuantParams;
import dev.layerprobe.simulator.Layer;
import dev.layerprobe.simulator.LayerExec;
import dev.layerprobe.simulator.Placement;
import dev.layerprobe.simulator.graph.Graph;
import dev.layerprobe.simulator.graph.Node;
import dev.layerprobe.simulator.profile.DeviceProfile;
import dev.layerprobe.simulator.profile.Fault;
import dev.layerprobe.simulator.quant.LayerPrecision;
import dev.layerprobe.simulator.quant.QuantSpec;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.IntStream;

/**
 * The layers of one program as the compiler builds them, in execution order with their execs: each
 * group of nodes ({@link NpuCompiler#group}) bound to kernels for its precision, and for an If the
 * layers of its branches before it ({@link IfLayers}), bound the same way. A layer computed in fp16
 * or marked float32 in the QDQ model takes those kernels; otherwise a quantized program binds
 * integer kernels ({@link QuantizedLayers}, with the profile's faults) and a float program float
 * kernels. Used during one compile; not thread-safe.
 */
final class ProgramLayers {
    final List<Layer> layers = new ArrayList<>();
    final List<LayerExec> execs = new ArrayList<>();
    /** Each layer inside an If branch, by name, to the If layer that runs it. */
    final Map<String, String> branchOf = new HashMap<>();
    /** Each quantized layer's binding, kept so that a fault signature can bind it again with a fault. */
    final Map<String, Function<List<Fault>, LayerExec>> rebind = new HashMap<>();

    final QuantSpec spec;
    final DeviceProfile profile;
    final boolean fuse;
    /** Value names in use: the top-level graph's, and those of the branch layers made so far. */
    private final Set<String> names = new HashSet<>();

    ProgramLayers(Graph g, QuantSpec spec, DeviceProfile profile, boolean fuse) {
        this.spec = spec;
        this.profile = profile;
        this.fuse = fuse;
        names.addAll(g.constants().keySet());
        g.inputs().forEach(v -> names.add(v.name()));
        g.nodes().forEach(n -> names.addAll(n.outputs()));
    }

    boolean quantized() {
        return spec.isQuantized();
    }

    /** Whether a value of the program already has this name. */
    boolean inUse(String name) {
        return names.contains(name);
    }

    /** Takes a name for a branch layer. */
    void claim(String name) {
        names.add(name);
    }

    /** Adds the layers of the top-level graph in order; an If gets its branches' layers where it can. */
    void addGraph(Graph g) {
        IdentityHashMap<List<Node>, String> patterns = new IdentityHashMap<>();
        for (List<Node> nodes : NpuCompiler.group(g, spec, fuse, patterns)) {
            if (nodes.size() != 1 || !IfLayers.add(this, g, nodes.get(0))) {
                add(g, nodes, patterns.get(nodes), null, null);
            }
        }
    }

    /**
     * Binds one group of nodes of {@code g} and appends its layer.
     *
     * @param pattern  the fused pattern the nodes compute, or null
     * @param owner    the If layer whose branch holds the nodes, or null at the top level
     * @param inBranch which branch, as shown with the layer's attributes ("then_branch of /If")
     */
    Layer add(Graph g, List<Node> nodes, String pattern, String owner, String inBranch) {
        Node main = nodes.get(0);
        Node last = nodes.get(nodes.size() - 1);
        String name = NpuCompiler.layerName(last);
        String op = pattern != null ? pattern : main.opType();
        List<String> inputs = NpuCompiler.runtimeInputs(g, nodes);
        List<Fault> faults =
                profile.faults().stream().filter(f -> f.matches(name, op)).toList();
        LayerExec exec;
        Placement placement;
        QuantParams outQ = null;
        LayerPrecision precision = LayerPrecision.FLOAT32;
        if (spec.isFp16(name)) {
            exec = Fp16Layers.build(g, NpuCompiler.withFaults(nodes, faults), inputs);
            placement = Placement.NPU;
            precision = LayerPrecision.FP16;
        } else if (spec.isFloat32(name)) {
            // A hybrid model's float32 layer: float values out, consumers quantize on entry. It runs
            // on the CPU, where device faults do not reach.
            exec = FloatLayers.build(g, nodes, inputs);
            placement = Placement.CPU;
        } else if (quantized()) {
            List<String> all = List.copyOf(last.outputs());
            rebind.put(name, f -> {
                LayerExec e = QuantizedLayers.build(g, nodes, inputs, spec, profile, f, pattern)
                        .exec();
                return all.contains("") ? presentOutputs(e, all) : e;
            });
            QuantizedLayers.Built b = QuantizedLayers.build(g, nodes, inputs, spec, profile, faults, pattern);
            exec = b.exec();
            placement = b.placement();
            outQ = spec.activation(name);
            if (outQ != null) {
                precision = LayerPrecision.of(outQ.type());
            }
        } else {
            exec = FloatLayers.build(g, NpuCompiler.withFaults(nodes, faults), inputs);
            placement = Placements.placement(op);
        }
        List<String> covers = new ArrayList<>();
        nodes.forEach(n -> covers.addAll(n.covers()));
        List<String> fusedOps = pattern != null
                ? List.of()
                : nodes.subList(1, nodes.size()).stream().map(Node::opType).toList();
        Map<String, String> attrs = new LinkedHashMap<>();
        if (pattern == null) {
            main.attributes().forEach((k, v) -> attrs.put(k, v.display()));
        }
        if (inBranch != null) {
            attrs.put("in_branch", inBranch);
        }
        List<String> outputs = new ArrayList<>(last.outputs());
        if (outputs.contains("")) {
            exec = presentOutputs(exec, outputs);
            outputs.removeIf(String::isEmpty);
        }
        Layer layer = new Layer(
                layers.size(),
                name,
                op,
                List.copyOf(inputs),
                List.copyOf(outputs),
                List.copyOf(covers),
                fusedOps,
                attrs,
                placement,
                outQ,
                precision);
        layers.add(layer);
        execs.add(exec);
        if (owner != null) {
            branchOf.put(name, owner);
        }
        return layer;
    }

    /** Appends a control-flow layer of one node with the exec its compiler made, decided on the CPU. */
    void addControlFlow(Graph g, Node node, LayerExec exec) {
        String name = NpuCompiler.layerName(node);
        Map<String, String> attrs = new LinkedHashMap<>();
        node.attributes().forEach((k, v) -> attrs.put(k, v.display()));
        QuantParams outQ = quantized() ? spec.activation(name) : null;
        LayerPrecision precision = spec.isFp16(name)
                ? LayerPrecision.FP16
                : outQ == null ? LayerPrecision.FLOAT32 : LayerPrecision.of(outQ.type());
        layers.add(new Layer(
                layers.size(),
                name,
                node.opType(),
                List.copyOf(NpuCompiler.runtimeInputs(g, List.of(node))),
                List.copyOf(node.outputs()),
                List.copyOf(node.covers()),
                List.of(),
                attrs,
                Placement.CPU,
                outQ,
                precision));
        execs.add(exec);
    }

    /** The exec with the values of omitted outputs (empty names) left out, in output order. */
    private static LayerExec presentOutputs(LayerExec exec, List<String> outputs) {
        int[] keep = IntStream.range(0, outputs.size())
                .filter(i -> !outputs.get(i).isEmpty())
                .toArray();
        return args -> {
            LayerValue[] all = exec.run(args);
            LayerValue[] v = new LayerValue[keep.length];
            for (int i = 0; i < keep.length; i++) {
                v[i] = all[keep[i]];
            }
            return v;
        };
    }
}
