package dev.layerprobe.simulator.compiler;

import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.core.tensor.QTensor;
import dev.layerprobe.core.tensor.QuantParams;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.Layer;
import dev.layerprobe.simulator.LayerExec;
import dev.layerprobe.simulator.graph.Attribute;
import dev.layerprobe.simulator.graph.Graph;
import dev.layerprobe.simulator.graph.Node;
import dev.layerprobe.simulator.graph.Subgraphs;
import dev.layerprobe.simulator.kernels.ControlFlow;
import dev.layerprobe.simulator.kernels.quantized.QuantizedValues;
import dev.layerprobe.simulator.profile.RequantMode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;

/**
 * An If whose branches are compiled into layers of the program (docs/architecture.md#control-flow-if-loop-scan):
 * each branch, its Constant nodes and constant arithmetic folded, is grouped and bound like the
 * top-level graph (Conv+Relu one layer, integer kernels on the NPU in a quantized program), with
 * the values it reads from the graphs around it as outer inputs and the constants it reads there
 * as its own. The branch layers come before the If layer, named by their ONNX outputs. The If layer
 * is decided on the CPU: it reads its condition, runs the layers of the branch it picks in order,
 * reports each one's value to the run (the other branch's layers get none in that run) and returns
 * that branch's outputs, in a quantized program as codes in the If output's quantization (the same
 * codes when the branch output already has it, as the QDQ writer gives it). Each branch layer also
 * keeps its own exec, so that it can run alone.
 *
 * <p>An If keeps no branch layers, and runs its branches with float kernels as one CPU layer, when a
 * value of a branch would take a name already in use (the other branch's, or the program's).
 */
final class IfLayers {
    private static final List<String> BRANCHES = List.of("then_branch", "else_branch");

    /** One compiled branch: its layers with their execs, its outputs and the constants it reads. */
    private record Branch(
            List<Layer> layers, List<LayerExec> execs, List<String> outputs, Map<String, Tensor> constants) {}

    private IfLayers() {}

    /**
     * Adds an If's branch layers and then the If layer, or returns false, adding nothing, when the
     * node is no If with two branches or its branches cannot have layers (see the class comment).
     */
    static boolean add(ProgramLayers p, Graph g, Node node) {
        if (!node.opType().equals("If") || !node.domain().isEmpty()) {
            return false;
        }
        List<Graph> views = new ArrayList<>();
        List<List<List<Node>>> groups = new ArrayList<>();
        List<IdentityHashMap<List<Node>, String>> patterns = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (String attr : BRANCHES) {
            Attribute a = node.attr(attr);
            if (a == null || a.kind() != Attribute.Kind.GRAPH) {
                return false;
            }
            Graph branch = a.g();
            ConstantFolding.run(branch);
            Graph view = view(g, branch);
            IdentityHashMap<List<Node>, String> found = new IdentityHashMap<>();
            List<List<Node>> grouped = NpuCompiler.group(view, p.spec, p.fuse, found);
            for (List<Node> nodes : grouped) {
                if (!names.add(NpuCompiler.layerName(nodes.get(nodes.size() - 1)))) {
                    return false;
                }
            }
            views.add(view);
            groups.add(grouped);
            patterns.add(found);
        }
        if (names.stream().anyMatch(p::inUse)) {
            return false;
        }
        names.forEach(p::claim);
        String ifName = NpuCompiler.layerName(node);
        List<Branch> branches = new ArrayList<>();
        for (int b = 0; b < BRANCHES.size(); b++) {
            Graph view = views.get(b);
            List<Layer> layers = new ArrayList<>();
            List<LayerExec> execs = new ArrayList<>();
            for (List<Node> nodes : groups.get(b)) {
                Layer l =
                        p.add(view, nodes, patterns.get(b).get(nodes), ifName, BRANCHES.get(b) + " of " + node.name());
                layers.add(l);
                execs.add(p.execs.get(l.index()));
            }
            branches.add(new Branch(layers, execs, view.outputs(), view.constants()));
        }
        List<String> inputs = NpuCompiler.runtimeInputs(g, List.of(node));
        QuantParams[] outQ = new QuantParams[node.outputs().size()];
        for (int i = 0; i < outQ.length; i++) {
            outQ[i] = p.quantized() && !p.spec.isFloat32(node.output(i)) ? p.spec.activation(node.output(i)) : null;
        }
        p.addControlFlow(g, node, new Exec(branches.get(0), branches.get(1), inputs, outQ, p.profile.requant()));
        return true;
    }

    /**
     * The branch as the compiler binds it: its nodes and outputs, with the constants it reads from
     * the enclosing graph (the exporter keeps a module's weights there) beside its own.
     */
    private static Graph view(Graph outer, Graph branch) {
        Map<String, Tensor> constants = new LinkedHashMap<>();
        for (String r : Subgraphs.outerReads(branch)) {
            if (outer.isConstant(r)) {
                constants.put(r, outer.constant(r));
            }
        }
        constants.putAll(branch.constants());
        Graph view =
                new Graph(branch.name(), branch.nodes(), constants, branch.inputs(), branch.outputs(), branch.opsets());
        view.outputInfos().putAll(branch.outputInfos());
        return view;
    }

    /** The If layer's exec; immutable and thread-safe, each run has its own values. */
    private static final class Exec implements LayerExec {
        private final Branch then;
        private final Branch otherwise;
        private final List<String> inputs;
        private final QuantParams[] outQ;
        private final RequantMode mode;

        Exec(Branch then, Branch otherwise, List<String> inputs, QuantParams[] outQ, RequantMode mode) {
            this.then = then;
            this.otherwise = otherwise;
            this.inputs = inputs;
            this.outQ = outQ;
            this.mode = mode;
        }

        @Override
        public LayerValue[] run(LayerValue[] args) {
            return run(args, null);
        }

        @Override
        public LayerValue[] run(LayerValue[] args, BiConsumer<String, LayerValue> inner) {
            Branch b = ControlFlow.truth(args[0].real(), "cond") ? then : otherwise;
            Map<String, LayerValue> env = new HashMap<>();
            for (int i = 0; i < args.length; i++) {
                env.put(inputs.get(i), args[i]);
            }
            for (int k = 0; k < b.layers().size(); k++) {
                Layer l = b.layers().get(k);
                LayerValue[] in = new LayerValue[l.inputs().size()];
                for (int i = 0; i < in.length; i++) {
                    in[i] = value(env, b, l.inputs().get(i));
                }
                LayerValue[] out = b.execs().get(k).run(in);
                for (int i = 0; i < out.length; i++) {
                    env.put(l.outputs().get(i), out[i]);
                }
                if (inner != null) {
                    inner.accept(l.name(), out[0]);
                }
            }
            LayerValue[] result = new LayerValue[outQ.length];
            for (int i = 0; i < result.length; i++) {
                result[i] = convert(value(env, b, b.outputs().get(i)), outQ[i]);
            }
            return result;
        }

        private static LayerValue value(Map<String, LayerValue> env, Branch b, String name) {
            LayerValue v = env.get(name);
            if (v == null && b.constants().containsKey(name)) {
                v = LayerValue.of(b.constants().get(name));
            }
            if (v == null) {
                throw new IllegalStateException(
                        "the branch reads '" + name + "', which it neither computes nor receives");
            }
            return v;
        }

        /** A branch output in the If output's quantization (as it is when that has none). */
        private LayerValue convert(LayerValue v, QuantParams q) {
            if (q == null) {
                return v.isQuantized() ? LayerValue.of(v.real()) : v;
            }
            if (!v.isQuantized() && !v.real().isFloating()) {
                return v;
            }
            if (v.isQuantized() && v.codes().params().isPerTensor()) {
                QTensor c = v.codes();
                return c.params().sameMapping(q)
                        ? v
                        : LayerValue.of(new QTensor(
                                c.shape(),
                                QuantizedValues.rescale(c.codes(), c.params(), q, mode, q.qmin(), q.qmax()),
                                q));
            }
            return LayerValue.of(QTensor.quantize(v.real().toFloat(), q));
        }
    }
}
