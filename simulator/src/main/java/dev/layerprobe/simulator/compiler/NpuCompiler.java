package dev.layerprobe.simulator.compiler;

import dev.layerprobe.core.LayerProbeException.Code;
import dev.layerprobe.core.tensor.QuantParams;
import dev.layerprobe.onnx.Onnx.ModelProto;
import dev.layerprobe.simulator.CompileOptions;
import dev.layerprobe.simulator.Layer;
import dev.layerprobe.simulator.NpuProgram;
import dev.layerprobe.simulator.SimulatorException;
import dev.layerprobe.simulator.graph.Attribute;
import dev.layerprobe.simulator.graph.Graph;
import dev.layerprobe.simulator.graph.Node;
import dev.layerprobe.simulator.graph.Subgraphs;
import dev.layerprobe.simulator.graph.ValueInfo;
import dev.layerprobe.simulator.kernels.FloatKernels;
import dev.layerprobe.simulator.onnx.OnnxGraphs;
import dev.layerprobe.simulator.ops.OpTraits;
import dev.layerprobe.simulator.profile.DeviceProfile;
import dev.layerprobe.simulator.profile.Fault;
import dev.layerprobe.simulator.quant.QdqImport;
import dev.layerprobe.simulator.quant.QuantSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Compiles an ONNX graph into an {@link NpuProgram}, in the steps an NPU compiler takes:
 * <ol>
 *   <li>read the quantization out of QDQ nodes ({@link QdqImport}), if any;</li>
 *   <li>fold constants, Identity and Dropout ({@link ConstantFolding});</li>
 *   <li>when every input shape is static, fold Shape/Size and the shape arithmetic after them
 *       ({@link ShapeFolding});</li>
 *   <li>fold BatchNormalization into the Conv before it ({@link BatchNormFolding}), and, in float
 *       graphs, per-channel Mul/Add/Sub constants into that Conv and BatchNormalization into a Gemm
 *       ({@link AffineFolding});</li>
 *   <li>make each spelt-out LayerNormalization ({@link LayerNormFusion}) and each recognised
 *       activation pattern (HardSwish, Gelu, SiLU, ... spelt as elementwise nodes) one layer
 *       ({@link UnaryPatternFusion});</li>
 *   <li>group each Relu/Clip with the Conv/Gemm/Add/MatMul before it into one layer, and in a
 *       quantized program a MatMul by a constant with the Add of its bias when the product is not
 *       quantized for itself;</li>
 *   <li>bind every layer to float kernels, or to integer kernels in a quantized program
 *       ({@link QuantizedLayers}), with the profile's faults applied ({@link ProgramLayers}); the
 *       branches of an If are grouped and bound the same way, as layers before it
 *       ({@link IfLayers}).</li>
 * </ol>
 */
public final class NpuCompiler {
    private NpuCompiler() {}

    public static NpuProgram compile(ModelProto model, Path baseDir, String name, CompileOptions options)
            throws SimulatorException {
        QdqImport.checkModel(model); // before conversion: types such as float8 are not even readable
        Graph g = OnnxGraphs.toGraph(model, baseDir);
        QuantSpec spec = QdqImport.extract(g);
        applyInputShapes(g, options.inputShapes());
        ConstantFolding.run(g);
        ShapeFolding.run(g);
        BatchNormFolding.run(g);
        if (!spec.isQuantized()) {
            AffineFolding.run(g);
        }
        checkSupported(g);
        DeviceProfile profile = options.profile();
        ProgramLayers p = new ProgramLayers(g, spec, profile, options.fuse());
        p.addGraph(g);
        checkFaults(profile, p.layers);
        Map<String, QuantParams> tensorQuant = new HashMap<>(spec.activations());
        return new NpuProgram(
                name,
                g,
                p.layers,
                p.execs,
                g.inputs(),
                g.outputs(),
                tensorQuant,
                profile,
                spec.isQuantized(),
                p.branchOf,
                p.rebind);
    }

    /**
     * A layer's name: its node's first output that is present. An op whose first output is optional
     * (a recurrent node used for its Y_h alone) is named by the first one the model names.
     */
    static String layerName(Node last) {
        return last.outputs().stream().filter(o -> !o.isEmpty()).findFirst().orElse(last.output(0));
    }

    /** Op types the simulator can run. */
    public static Set<String> supportedOps() {
        Set<String> s = new TreeSet<>(FloatKernels.supportedOps());
        s.add("QuantizeLinear");
        s.add("DequantizeLinear");
        return s;
    }

    private static void applyInputShapes(Graph g, Map<String, int[]> shapes) throws SimulatorException {
        for (String name : shapes.keySet()) {
            if (g.inputs().stream().noneMatch(v -> v.name().equals(name))) {
                throw new SimulatorException(
                        Code.BAD_INPUT,
                        "unknown input '" + name + "' in input shapes, expected one of "
                                + g.inputs().stream().map(ValueInfo::name).toList());
            }
        }
        g.inputs()
                .replaceAll(v ->
                        shapes.containsKey(v.name()) ? new ValueInfo(v.name(), v.dtype(), shapes.get(v.name())) : v);
    }

    private static void checkSupported(Graph g) throws SimulatorException {
        KernelValidation.check(g);
    }

    /**
     * The nodes of a graph in groups that become one layer each, in execution order: spelt-out
     * LayerNormalizations and activation patterns (named in {@code patterns}), a MatMul with its
     * bias Add in a quantized program, an op with the Relu/Clip it absorbs, any other node alone.
     */
    static List<List<Node>> group(Graph g, QuantSpec spec, boolean fuse, IdentityHashMap<List<Node>, String> patterns) {
        List<List<Node>> groups = new ArrayList<>();
        Set<Node> taken = new HashSet<>();
        Map<Node, UnaryPatternFusion.Pattern> byLast = new HashMap<>();
        if (fuse) {
            for (LayerNormFusion.Match m : LayerNormFusion.find(g, spec)) {
                byLast.put(
                        m.nodes().get(m.nodes().size() - 1),
                        new UnaryPatternFusion.Pattern(LayerNormFusion.NAME, m.nodes(), m.input()));
                taken.addAll(m.nodes());
            }
            for (UnaryPatternFusion.Pattern p : UnaryPatternFusion.find(g, spec)) {
                if (p.nodes().stream().noneMatch(taken::contains)) {
                    byLast.put(p.nodes().get(p.nodes().size() - 1), p);
                    taken.addAll(p.nodes());
                }
            }
        }
        for (Node n : g.nodes()) {
            UnaryPatternFusion.Pattern p = byLast.get(n);
            if (p != null) {
                // Emitted where its last node was: every node it reads from precedes that point.
                groups.add(p.nodes());
                patterns.put(p.nodes(), p.name());
                continue;
            }
            if (taken.contains(n)) {
                continue;
            }
            List<Node> group = new ArrayList<>();
            group.add(n);
            taken.add(n);
            Node bias = fuse && spec.isQuantized() ? biasAdd(g, spec, n, taken) : null;
            if (bias != null) {
                group.add(bias);
                taken.add(bias);
            }
            Node tail = group.get(group.size() - 1);
            if (fuse
                    && OpTraits.of(n.opType()).absorbsActivation()
                    && tail.outputs().size() == 1) {
                String out = tail.output(0);
                List<Node> users = g.consumers(out);
                if (users.size() == 1
                        && !g.outputs().contains(out)
                        && spec.activation(out) == null
                        && !taken.contains(users.get(0))
                        && isFusableActivation(g, users.get(0))
                        && users.get(0).input(0).equals(out)) {
                    group.add(users.get(0));
                    taken.add(users.get(0));
                }
            }
            groups.add(group);
        }
        return groups;
    }

    /**
     * In a quantized program, the Add of a constant after a MatMul by a constant weight, when the
     * product is not quantized for itself: the bias the integer MatMul adds in its accumulator.
     */
    private static Node biasAdd(Graph g, QuantSpec spec, Node n, Set<Node> taken) {
        if (!n.opType().equals("MatMul")
                || !g.isConstant(n.input(1))
                || n.outputs().size() != 1) {
            return null;
        }
        String out = n.output(0);
        List<Node> users = g.consumers(out);
        if (users.size() != 1 || g.outputs().contains(out) || spec.activation(out) != null) {
            return null;
        }
        Node add = users.get(0);
        if (taken.contains(add) || !add.opType().equals("Add") || add.inputs().size() != 2) {
            return null;
        }
        String other = add.input(0).equals(out) ? add.input(1) : add.input(0);
        return g.isConstant(other) ? add : null;
    }

    static boolean isFusableActivation(Graph g, Node a) {
        if (a.opType().equals("Relu")) {
            return true;
        }
        if (!a.opType().equals("Clip")) {
            return false;
        }
        return (!a.hasInput(1) || g.isConstant(a.input(1))) && (!a.hasInput(2) || g.isConstant(a.input(2)));
    }

    /** The values a group reads that are not constants of g nor its own, in order of first read. */
    static List<String> runtimeInputs(Graph g, List<Node> nodes) {
        Set<String> internal = new HashSet<>();
        Set<String> in = new LinkedHashSet<>();
        for (Node n : nodes) {
            List<String> reads = new ArrayList<>(n.inputs());
            reads.addAll(Subgraphs.outerReads(n)); // a control-flow node's bodies read them too
            for (String i : reads) {
                if (!i.isEmpty() && !g.isConstant(i) && !internal.contains(i)) {
                    in.add(i);
                }
            }
            internal.addAll(n.outputs());
        }
        return new ArrayList<>(in);
    }

    /** Copies of the nodes with attribute-level faults applied (DepthToSpace mode swap). */
    static List<Node> withFaults(List<Node> nodes, List<Fault> faults) {
        if (faults.isEmpty()) {
            return nodes;
        }
        List<Node> out = new ArrayList<>();
        for (Node n : nodes) {
            Node copy = n;
            for (Fault f : faults) {
                if (f.kind() == dev.layerprobe.simulator.profile.FaultKind.DEPTH_TO_SPACE_MODE_SWAP
                        && n.opType().equals("DepthToSpace")) {
                    copy = new Node(n.name(), n.opType(), n.domain(), n.inputs(), n.outputs(), n.attributes());
                    String mode = n.attrString("mode", "DCR");
                    copy.attributes().put("mode", Attribute.ofString(mode.equals("DCR") ? "CRD" : "DCR"));
                }
            }
            out.add(copy);
        }
        return out;
    }

    private static void checkFaults(DeviceProfile profile, List<Layer> layers) throws SimulatorException {
        Map<String, String> layerOps = new LinkedHashMap<>();
        for (Layer l : layers) {
            layerOps.put(l.name(), l.op());
        }
        for (Fault f : profile.faults()) {
            if (f.layer() != null) {
                String op = layerOps.get(f.layer());
                if (op == null) {
                    throw new SimulatorException(
                            Code.BAD_PROFILE,
                            "fault " + f.kind().yamlName() + ": no layer named '" + f.layer() + "'; closest: "
                                    + NameSuggestions.closest(f.layer(), layerOps.keySet(), 5));
                }
                if (!OpTraits.faultApplies(f.kind(), op)) {
                    throw new SimulatorException(
                            Code.BAD_PROFILE,
                            "fault " + f.kind().yamlName() + " applies to " + OpTraits.faultTargets(f.kind())
                                    + ", but layer '" + f.layer() + "' is " + op);
                }
            } else {
                if (!OpTraits.faultApplies(f.kind(), f.op())) {
                    throw new SimulatorException(
                            Code.BAD_PROFILE,
                            "fault " + f.kind().yamlName() + " applies to " + OpTraits.faultTargets(f.kind())
                                    + ", not to op " + f.op());
                }
                if (!layerOps.containsValue(f.op())) {
                    throw new SimulatorException(
                            Code.BAD_PROFILE,
                            "fault " + f.kind().yamlName() + ": the model has no " + f.op() + " layer");
                }
            }
        }
    }
}
