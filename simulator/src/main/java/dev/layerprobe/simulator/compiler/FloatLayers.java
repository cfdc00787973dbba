package dev.layerprobe.simulator.compiler;

import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.LayerExec;
import dev.layerprobe.simulator.graph.Graph;
import dev.layerprobe.simulator.graph.Node;
import dev.layerprobe.simulator.graph.Subgraphs;
import dev.layerprobe.simulator.kernels.FloatKernel;
import dev.layerprobe.simulator.kernels.FloatKernels;
import dev.layerprobe.simulator.kernels.Scope;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Binds a layer's nodes to float kernels: the float program, and CPU layers of quantized ones. */
final class FloatLayers {
    private FloatLayers() {}

    /** A float evaluation of the nodes in order; returns the last node's outputs as float values. */
    static LayerExec build(Graph g, List<Node> nodes, List<String> inputs) {
        float[] clamp = fusedClamp(g, nodes);
        if (clamp != null) {
            return clamped(g, nodes.get(0), inputs, clamp[0], clamp[1]);
        }
        if (nodes.size() == 1 && !Subgraphs.has(nodes.get(0))) {
            return single(g, nodes.get(0), inputs);
        }
        FloatKernel[] kernels = new FloatKernel[nodes.size()];
        for (int i = 0; i < kernels.length; i++) {
            kernels[i] = FloatKernels.create(nodes.get(i), g.opset());
        }
        Map<String, Tensor> constants = new HashMap<>();
        for (Node n : nodes) {
            constants.putAll(constantsOf(g, n));
        }
        return args -> {
            Tensor[] out = evaluate(nodes, kernels, constants, inputs, real(args));
            LayerValue[] v = new LayerValue[out.length];
            for (int i = 0; i < v.length; i++) {
                v[i] = LayerValue.of(out[i]);
            }
            return v;
        };
    }

    /**
     * One node without subgraphs (most layers): its inputs are bound once to the layer's arguments
     * or constants, as {@link #evaluate} would look them up by name, instead of through a map of
     * names per run (a few microseconds a layer, a tenth of a small layer's time).
     */
    private static LayerExec single(Graph g, Node n, List<String> inputs) {
        FloatKernel kernel = FloatKernels.create(n, g.opset());
        int count = n.inputs().size();
        int[] argument = new int[count];
        Tensor[] fixed = new Tensor[count];
        for (int i = 0; i < count; i++) {
            // An argument shadows a constant of the same name, as in evaluate's map.
            argument[i] = n.hasInput(i) ? inputs.lastIndexOf(n.input(i)) : -1;
            if (argument[i] < 0 && n.hasInput(i) && g.isConstant(n.input(i))) {
                fixed[i] = g.constant(n.input(i));
            }
        }
        return args -> {
            Tensor[] in = new Tensor[count];
            for (int i = 0; i < count; i++) {
                in[i] = argument[i] >= 0 ? args[argument[i]].real() : fixed[i];
            }
            Tensor[] out = kernel.run(in);
            LayerValue[] v = new LayerValue[out.length];
            for (int i = 0; i < v.length; i++) {
                v[i] = LayerValue.of(out[i]);
            }
            return v;
        };
    }

    /** The constants a node reads: inputs, and values its subgraphs read from the graph. */
    static Map<String, Tensor> constantsOf(Graph g, Node n) {
        Map<String, Tensor> c = new HashMap<>();
        for (String in : n.inputs()) {
            if (g.isConstant(in)) {
                c.put(in, g.constant(in));
            }
        }
        if (Subgraphs.has(n)) {
            for (String in : Subgraphs.outerReads(n)) {
                if (g.isConstant(in)) {
                    c.put(in, g.constant(in));
                }
            }
        }
        return c;
    }

    /**
     * The [min, max] of a Relu/Clip fused after the layer's main op, or null. Bounds are read as
     * the Clip kernel reads them: attributes before opset 11, constant inputs after.
     */
    private static float[] fusedClamp(Graph g, List<Node> nodes) {
        if (nodes.size() != 2 || nodes.get(0).outputs().size() != 1) {
            return null;
        }
        Node a = nodes.get(1);
        if (a.opType().equals("Relu")) {
            return new float[] {0f, Float.POSITIVE_INFINITY};
        }
        if (!a.opType().equals("Clip")) {
            return null;
        }
        if (g.opset() < 11) {
            return new float[] {a.attrFloat("min", Float.NEGATIVE_INFINITY), a.attrFloat("max", Float.POSITIVE_INFINITY)
            };
        }
        float lo = Float.NEGATIVE_INFINITY;
        float hi = Float.POSITIVE_INFINITY;
        if (a.hasInput(1)) {
            Tensor t = g.constant(a.input(1));
            if (t == null || t.size() != 1) {
                return null;
            }
            lo = (float) t.getDouble(0);
        }
        if (a.hasInput(2)) {
            Tensor t = g.constant(a.input(2));
            if (t == null || t.size() != 1) {
                return null;
            }
            hi = (float) t.getDouble(0);
        }
        return new float[] {lo, hi};
    }

    /**
     * The main op with its activation applied in place to the op's fresh output, as an NPU's output
     * stage does: one pass less over memory and one allocation less than running the Clip kernel.
     */
    private static LayerExec clamped(Graph g, Node main, List<String> inputs, float lo, float hi) {
        FloatKernel fused = FloatKernels.createClamped(main, g.opset(), lo, hi);
        FloatKernel kernel = fused != null ? fused : FloatKernels.create(main, g.opset());
        Map<String, Tensor> constants = new HashMap<>();
        for (String in : main.inputs()) {
            if (g.isConstant(in)) {
                constants.put(in, g.constant(in));
            }
        }
        List<Node> single = List.of(main);
        FloatKernel[] kernels = {kernel};
        return args -> {
            Tensor[] in = real(args);
            Tensor y = evaluate(single, kernels, constants, inputs, in)[0];
            if (!y.isFloating()) {
                throw new IllegalStateException("fused activation on a non-float output of " + main);
            }
            for (Tensor t : in) {
                if (t.isFloating() && t.floats() == y.floats()) {
                    y = Tensor.ofFloats(y.dtype(), y.shape(), y.floats().clone()); // never write into an input
                }
            }
            if (fused == null) {
                float[] v = y.floats();
                for (int i = 0; i < v.length; i++) {
                    v[i] = Math.min(Math.max(v[i], lo), hi);
                }
            }
            return new LayerValue[] {LayerValue.of(y)};
        };
    }

    static Tensor[] real(LayerValue[] args) {
        Tensor[] t = new Tensor[args.length];
        for (int i = 0; i < t.length; i++) {
            t[i] = args[i].real();
        }
        return t;
    }

    /**
     * Runs the nodes in order; the layer's values are the outer scope of control-flow nodes.
     * Without control flow, a value made inside the layer and read by no later node lends its data
     * to the node that reads it last ({@link FloatKernel#runReusing}): a fused activation's chain
     * of elementwise nodes then writes one array instead of one per node (each a fresh array the
     * size of the layer, written through memory). Arguments and constants are never written.
     */
    static Tensor[] evaluate(
            List<Node> nodes,
            FloatKernel[] kernels,
            Map<String, Tensor> constants,
            List<String> inputs,
            Tensor[] args) {
        Map<String, Tensor> env = new HashMap<>(constants);
        Scope scope = env::get;
        for (int i = 0; i < args.length; i++) {
            env.put(inputs.get(i), args[i]);
        }
        Map<String, Integer> lastRead = new HashMap<>();
        for (int k = 0; k < nodes.size(); k++) {
            for (String in : nodes.get(k).inputs()) {
                lastRead.put(in, k);
            }
        }
        Set<String> produced = new HashSet<>();
        // Subgraphs read values by name outside the node inputs counted above: no reuse with them.
        boolean reuse = nodes.size() > 1 && nodes.stream().noneMatch(Subgraphs::has);
        Tensor[] out = null;
        for (int k = 0; k < nodes.size(); k++) {
            Node n = nodes.get(k);
            Tensor[] in = new Tensor[n.inputs().size()];
            for (int i = 0; i < in.length; i++) {
                in[i] = n.hasInput(i) ? env.get(n.input(i)) : null;
            }
            int reusable = reuse ? reusable(n, k, in, produced, lastRead, env) : -1;
            out = reusable >= 0 ? kernels[k].runReusing(in, reusable) : kernels[k].run(in, scope);
            for (int i = 0; i < out.length && i < n.outputs().size(); i++) {
                env.put(n.output(i), out[i]);
                produced.add(n.output(i));
            }
        }
        return out;
    }

    /**
     * The input of node k whose data its kernel may write its output into, or -1: a floating value
     * an earlier node of this layer made (never an argument or a constant, which others may hold),
     * read by no later node, and sharing its data with no other value still here (Reshape and
     * Identity share their input's).
     */
    private static int reusable(
            Node n, int k, Tensor[] in, Set<String> produced, Map<String, Integer> lastRead, Map<String, Tensor> env) {
        for (int i = 0; i < in.length; i++) {
            String name = n.hasInput(i) ? n.input(i) : "";
            if (in[i] == null
                    || !in[i].isFloating()
                    || !produced.contains(name)
                    || lastRead.get(name) != k
                    || n.inputs().indexOf(name) != i) {
                continue;
            }
            float[] data = in[i].floats();
            boolean shared = false;
            for (Map.Entry<String, Tensor> e : env.entrySet()) {
                Tensor t = e.getValue();
                shared |= !e.getKey().equals(name) && t != null && t.isFloating() && t.floats() == data;
            }
            if (!shared) {
                return i;
            }
        }
        return -1;
    }
}
