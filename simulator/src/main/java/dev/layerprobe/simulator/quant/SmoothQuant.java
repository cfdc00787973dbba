package dev.layerprobe.simulator.quant;

import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.onnx.Onnx.ModelProto;
import dev.layerprobe.onnx.Onnx.NodeProto;
import dev.layerprobe.simulator.CompileOptions;
import dev.layerprobe.simulator.NpuProgram;
import dev.layerprobe.simulator.Simulator;
import dev.layerprobe.simulator.SimulatorException;
import dev.layerprobe.simulator.graph.Graph;
import dev.layerprobe.simulator.graph.Node;
import dev.layerprobe.simulator.onnx.OnnxGraphs;
import dev.layerprobe.simulator.onnx.TensorProtos;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntConsumer;

/**
 * SmoothQuant (Xiao et al., 2023): moves the per-channel outliers of an activation into the weights
 * of the MatMul/Gemm layers that read it, before calibration, so that one per-tensor activation scale
 * no longer spends its codes on a few channels. For each input channel {@code j} of the shared
 * activation {@code X}: {@code s_j = max|X_j|^alpha / max|W_j|^(1 - alpha)} ({@code max|W_j|} over
 * row {@code j} of every reader's weight), then {@code X' = X / s} and {@code W'_j = s_j W_j}: the
 * product is unchanged in exact arithmetic.
 *
 * <p>{@code X / s} has to cost nothing, so it is folded into the per-channel affine op that produces
 * {@code X}: a {@code LayerNormalization} over the last axis with constant scale (and bias), or a
 * {@code Mul} by a constant followed by an {@code Add} of a constant (a spelt-out LayerNorm's tail).
 * Between it and the readers only ops that keep the last axis in place may stand (a Transpose whose
 * permutation leaves the last axis last, a Reshape whose output ends in the same dimension, Identity),
 * and every reader must be a MatMul or Gemm with a constant 2-D weight; otherwise the activation is
 * left as it is. Channels are the last axis, {@code max|X_j|} is over the calibration samples.
 */
public final class SmoothQuant {
    /** The lower and upper bound of a smoothing factor, so no channel is scaled to nothing. */
    private static final double MIN_FACTOR = 1e-4;

    private static final double MAX_FACTOR = 1e4;

    /** A reader of the smoothed activation: its node and weight, and whether weight rows are the channels. */
    record Reader(Node node, String weight, boolean rowsAreChannels) {}

    /**
     * One activation to smooth: its per-channel scale and bias constants and the nodes that read them
     * (bias may be null), the chain of last-axis-preserving tensors down to the readers.
     */
    record Site(
            String top,
            Node scaleNode,
            String scale,
            Node biasNode,
            String bias,
            List<String> chain,
            List<Reader> readers) {}

    /**
     * What {@link #apply} did: the smoothed float program and model, how many activations and weights
     * it changed, the largest factor (or its inverse), and for every tensor whose values it divided the
     * per-channel factors (along the last axis), so a float reference can be brought into the same space.
     */
    public record Result(
            NpuProgram program,
            ModelProto model,
            int activations,
            int weights,
            double largestFactor,
            Map<String, float[]> divisors) {
        public boolean changed() {
            return activations > 0;
        }
    }

    private SmoothQuant() {}

    /**
     * Smooths every eligible activation of a float program with factor {@code alpha} in [0, 1],
     * measuring the activations over the samples (iterated once).
     */
    public static Result apply(
            NpuProgram floatProgram,
            String modelName,
            Iterable<Map<String, Tensor>> samples,
            double alpha,
            IntConsumer progress)
            throws SimulatorException {
        if (!(alpha >= 0 && alpha <= 1)) {
            throw new IllegalArgumentException("SmoothQuant alpha must be in [0, 1], got " + alpha);
        }
        Graph g = floatProgram.graph();
        List<Site> sites = sites(g);
        ModelProto base = OnnxGraphs.toModel(g, "layerprobe", Map.of());
        if (sites.isEmpty()) {
            return new Result(floatProgram, base, 0, 0, 1, Map.of());
        }
        Map<String, float[]> absMax = new HashMap<>();
        Map<String, Integer> lastDims = new HashMap<>();
        Map<String, Site> byTop = new HashMap<>();
        for (Site s : sites) {
            byTop.put(s.top(), s);
        }
        int done = 0;
        for (Map<String, Tensor> feeds : samples) {
            floatProgram.run(feeds, (layer, value) -> observe(layer.name(), value, byTop, absMax, lastDims));
            progress.accept(++done);
        }
        ModelProto.Builder m = base.toBuilder();
        Map<String, Integer> initIndex = new HashMap<>();
        for (int i = 0; i < m.getGraph().getInitializerCount(); i++) {
            initIndex.put(m.getGraph().getInitializer(i).getName(), i);
        }
        int activations = 0;
        int weights = 0;
        Map<String, float[]> divisors = new LinkedHashMap<>();
        double largest = 1;
        for (Site s : sites) {
            float[] xMax = absMax.get(s.top());
            Tensor gamma = g.constant(s.scale());
            int k = gamma.size();
            if (xMax == null || xMax.length != k || !chainKeepsChannels(s, lastDims, k)) {
                continue;
            }
            double[] wMax = new double[k];
            for (Reader r : s.readers()) {
                Tensor w = g.constant(r.weight());
                int cols = r.rowsAreChannels() ? w.dim(1) : w.dim(0);
                if ((r.rowsAreChannels() ? w.dim(0) : w.dim(1)) != k) {
                    wMax = null;
                    break;
                }
                float[] wf = w.floats();
                for (int i = 0; i < wf.length; i++) {
                    int j = r.rowsAreChannels() ? i / cols : i % k;
                    wMax[j] = Math.max(wMax[j], Math.abs(wf[i]));
                }
            }
            if (wMax == null) {
                continue;
            }
            double[] factor = new double[k];
            for (int j = 0; j < k; j++) {
                factor[j] =
                        xMax[j] > 0 && wMax[j] > 0 ? clamp(Math.pow(xMax[j], alpha) / Math.pow(wMax[j], 1 - alpha)) : 1;
                largest = Math.max(largest, Math.max(factor[j], 1 / factor[j]));
            }
            String suffix = "_smoothed";
            replace(m, initIndex, s.scale(), scaled(gamma, factor, true), s.scaleNode(), suffix, g);
            if (s.bias() != null) {
                replace(m, initIndex, s.bias(), scaled(g.constant(s.bias()), factor, true), s.biasNode(), suffix, g);
            }
            for (Reader r : s.readers()) {
                replace(m, initIndex, r.weight(), scaledWeight(g.constant(r.weight()), factor, r), r.node(), suffix, g);
                weights++;
            }
            float[] f = new float[k];
            for (int j = 0; j < k; j++) {
                f[j] = (float) factor[j];
            }
            divisors.put(s.top(), f);
            for (String t : s.chain()) {
                divisors.put(t, f);
            }
            activations++;
        }
        if (activations == 0) {
            return new Result(floatProgram, base, 0, 0, 1, Map.of());
        }
        ModelProto smoothed = m.build();
        NpuProgram program = Simulator.compile(smoothed, modelName, CompileOptions.DEFAULT);
        return new Result(
                program, smoothed, activations, weights, largest, java.util.Collections.unmodifiableMap(divisors));
    }

    private static double clamp(double f) {
        return Math.max(MIN_FACTOR, Math.min(MAX_FACTOR, f));
    }

    private static void observe(
            String tensor,
            LayerValue value,
            Map<String, Site> byTop,
            Map<String, float[]> absMax,
            Map<String, Integer> lastDims) {
        int[] shape = value.shape();
        if (shape.length > 0) {
            lastDims.put(tensor, shape[shape.length - 1]);
        }
        if (!byTop.containsKey(tensor) || shape.length == 0) {
            return;
        }
        int k = shape[shape.length - 1];
        float[] v = value.real().toFloat().floats();
        float[] max = absMax.computeIfAbsent(tensor, t -> new float[k]);
        if (max.length != k) {
            return;
        }
        for (int i = 0; i < v.length; i++) {
            int j = i % k;
            max[j] = Math.max(max[j], Math.abs(v[i]));
        }
    }

    /** Every tensor of the chain that the run saw ends in k channels (Reshapes are only trusted so). */
    private static boolean chainKeepsChannels(Site s, Map<String, Integer> lastDims, int k) {
        Integer top = lastDims.get(s.top());
        if (top == null || top != k) {
            return false;
        }
        for (String t : s.chain()) {
            Integer d = lastDims.get(t);
            if (d != null && d != k) {
                return false;
            }
        }
        return true;
    }

    /** The activations that can be smoothed, in graph order. */
    static List<Site> sites(Graph g) {
        List<Site> out = new ArrayList<>();
        for (Node n : g.nodes()) {
            Site s = site(g, n);
            if (s != null) {
                out.add(s);
            }
        }
        return out;
    }

    private static Site site(Graph g, Node n) {
        String scale;
        String bias = null;
        if (n.opType().equals("LayerNormalization") && n.domain().isEmpty()) {
            long axis = n.attrInt("axis", -1);
            if (axis != -1 || !n.hasInput(1) || !isVector(g, n.input(1))) {
                return null;
            }
            scale = n.input(1);
            if (n.hasInput(2)) {
                if (!isVector(g, n.input(2))) {
                    return null;
                }
                bias = n.input(2);
            }
        } else if (n.opType().equals("Add") && n.domain().isEmpty()) {
            Node mul = g.producer(n.input(0));
            if (mul == null
                    || !mul.opType().equals("Mul")
                    || !isVector(g, n.input(1))
                    || !isVector(g, mul.input(1))
                    || g.consumers(n.input(0)).size() != 1) {
                return null;
            }
            // The Mul's constant takes the division as the scale, the Add's as the bias.
            return withReaders(g, n.output(0), mul, mul.input(1), n, n.input(1));
        } else {
            return null;
        }
        if (n.outputs().size() != 1) {
            return null;
        }
        return withReaders(g, n.output(0), n, scale, bias == null ? null : n, bias);
    }

    private static Site withReaders(Graph g, String top, Node scaleNode, String scale, Node biasNode, String bias) {
        if (g.outputs().contains(top)) {
            return null;
        }
        List<String> chain = new ArrayList<>();
        List<Reader> readers = new ArrayList<>();
        List<String> pending = new ArrayList<>(List.of(top));
        while (!pending.isEmpty()) {
            String t = pending.remove(pending.size() - 1);
            List<Node> consumers = g.consumers(t);
            if (consumers.isEmpty() || g.outputs().contains(t)) {
                return null;
            }
            for (Node c : consumers) {
                if (keepsLastAxis(c) && c.input(0).equals(t)) {
                    chain.add(c.output(0));
                    pending.add(c.output(0));
                    continue;
                }
                Reader r = reader(g, c, t);
                if (r == null) {
                    return null;
                }
                readers.add(r);
            }
        }
        return readers.isEmpty() ? null : new Site(top, scaleNode, scale, biasNode, bias, chain, readers);
    }

    private static boolean keepsLastAxis(Node c) {
        if (!c.domain().isEmpty() || c.outputs().size() != 1) {
            return false;
        }
        switch (c.opType()) {
            case "Identity", "Reshape" -> {
                return true;
            }
            case "Transpose" -> {
                long[] perm = c.attrInts("perm", null);
                return perm != null && perm.length > 0 && perm[perm.length - 1] == perm.length - 1;
            }
            default -> {
                return false;
            }
        }
    }

    private static Reader reader(Graph g, Node c, String t) {
        if (!c.domain().isEmpty()
                || !c.hasInput(1)
                || !c.input(0).equals(t)
                || c.input(1).equals(t)) {
            return null;
        }
        String w = c.input(1);
        if (!g.isConstant(w) || g.constant(w).rank() != 2 || !g.constant(w).isFloating()) {
            return null;
        }
        if (c.opType().equals("MatMul")) {
            return new Reader(c, w, true);
        }
        if (c.opType().equals("Gemm") && c.attrInt("transA", 0) == 0) {
            return new Reader(c, w, c.attrInt("transB", 0) == 0);
        }
        return null;
    }

    private static boolean isVector(Graph g, String tensor) {
        if (!g.isConstant(tensor) || !g.constant(tensor).isFloating()) {
            return false;
        }
        int[] shape = g.constant(tensor).shape();
        for (int i = 0; i < shape.length - 1; i++) {
            if (shape[i] != 1) {
                return false;
            }
        }
        return shape.length > 0 && shape[shape.length - 1] > 1;
    }

    private static Tensor scaled(Tensor t, double[] factor, boolean divide) {
        float[] v = t.toFloat().floats().clone();
        for (int i = 0; i < v.length; i++) {
            int j = i % factor.length;
            v[i] = (float) (divide ? v[i] / factor[j] : v[i] * factor[j]);
        }
        return Tensor.ofFloats(t.shape(), v);
    }

    private static Tensor scaledWeight(Tensor w, double[] factor, Reader r) {
        float[] v = w.toFloat().floats().clone();
        int cols = w.dim(1);
        for (int i = 0; i < v.length; i++) {
            int j = r.rowsAreChannels() ? i / cols : i % cols;
            v[i] = (float) (v[i] * factor[j]);
        }
        return Tensor.ofFloats(w.shape(), v);
    }

    /**
     * Puts the new value of a constant into the model: in place when the node is its only reader,
     * else as a new initializer that only this node reads (shared weights stay as the others use them).
     */
    private static void replace(
            ModelProto.Builder m,
            Map<String, Integer> initIndex,
            String name,
            Tensor value,
            Node reader,
            String suffix,
            Graph g) {
        Integer at = initIndex.get(name);
        if (at == null) {
            throw new IllegalStateException("constant '" + name + "' is not an initializer of the compiled graph");
        }
        if (g.consumers(name).size() == 1) {
            m.getGraphBuilder().setInitializer(at, TensorProtos.fromTensor(name, value));
            return;
        }
        String copy = uniqueName(initIndex, name + suffix);
        m.getGraphBuilder().addInitializer(TensorProtos.fromTensor(copy, value));
        initIndex.put(copy, m.getGraph().getInitializerCount() - 1);
        for (NodeProto.Builder nb : m.getGraphBuilder().getNodeBuilderList()) {
            if (nb.getName().equals(reader.name())) {
                for (int i = 0; i < nb.getInputCount(); i++) {
                    if (nb.getInput(i).equals(name)) {
                        nb.setInput(i, copy);
                    }
                }
            }
        }
    }

    private static String uniqueName(Map<String, Integer> taken, String base) {
        String n = base;
        for (int i = 1; taken.containsKey(n); i++) {
            n = base + "_" + i;
        }
        return n;
    }

    /** The activations SmoothQuant can smooth in a float graph, with their channel counts (the last axis). */
    public static Map<String, Integer> eligible(Graph g) {
        Map<String, Integer> out = new LinkedHashMap<>();
        for (Site s : sites(g)) {
            out.put(s.top(), g.constant(s.scale()).size());
        }
        return out;
    }

    /** For tests and messages: the readers' weights of each eligible activation. */
    static Map<String, List<String>> readers(Graph g) {
        Map<String, List<String>> out = new LinkedHashMap<>();
        for (Site s : sites(g)) {
            out.put(s.top(), s.readers().stream().map(Reader::weight).toList());
        }
        return out;
    }
}
