package dev.layerprobe.simulator.quant;

import dev.layerprobe.core.LayerProbeException.Code;
import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.QuantParams;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.onnx.Onnx.ModelProto;
import dev.layerprobe.simulator.Layer;
import dev.layerprobe.simulator.NpuProgram;
import dev.layerprobe.simulator.SimulatorException;
import dev.layerprobe.simulator.graph.Attribute;
import dev.layerprobe.simulator.graph.Graph;
import dev.layerprobe.simulator.graph.Node;
import dev.layerprobe.simulator.graph.Subgraphs;
import dev.layerprobe.simulator.graph.ValueInfo;
import dev.layerprobe.simulator.onnx.OnnxGraphs;
import dev.layerprobe.simulator.ops.OpTraits;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes the quantized model as QDQ ONNX (docs/architecture.md#the-quantized-model-is-a-qdq-file): the compiled float graph with each layer in
 * its precision ({@link QuantConfig#precisionOf}), read back by {@link QdqImport}. Graph outputs keep
 * their names, as in ONNX Runtime's quantizer ({@code T_QuantizeLinear_Input -> Q -> DQ -> T}).
 *
 * <p>How each precision is written, stated here once:
 * <ul>
 *   <li><b>integer layers</b> (INT8, UINT8, INT16): a QuantizeLinear/DequantizeLinear pair on the
 *       output, weights as integer initializers behind DequantizeLinear. INT8/UINT8 activations are
 *       asymmetric per tensor over the calibrated range widened to include 0,
 *       {@code scale = (max - min) / (qmax - qmin)}, {@code zp = round(qmin - min / scale)}; INT16
 *       activations are symmetric, {@code scale = max(|min|, |max|) / 32767}, {@code zp = 0}.
 *       Data-movement layers (DepthToSpace, Reshape, Flatten, Transpose, MaxPool, ...) reuse their
 *       input's scale and zero point when it has their type, so they stay exact, unless their row in
 *       {@link OpTraits} says why their output needs its own ({@link OpTraits.Op#keepsInputQuant()});</li>
 *   <li>weights (Conv W, Gemm B) of integer layers: symmetric, {@code scale = max|w| / qmax} with
 *       codes in [-qmax, qmax], INT8 (INT16 for INT16 layers), per output channel (axis 0 of W;
 *       axis 0 of B when transB, else 1) unless per-tensor is asked;</li>
 *   <li>biases of integer layers: INT32 at scale {@code s_x * s_w[c]} (one scale with per-tensor
 *       weights), zero point 0, when every code fits in int32. Otherwise (small int16 scales make
 *       {@code s_x * s_w} tiny) the compiler quantizes the bias to the 64-bit accumulator itself,
 *       and the file holds it exactly: for INT16 layers as INT32 codes at a power-of-two scale per
 *       channel (the float32 significand), because ONNX Runtime's optimizer quantizes a float bias
 *       itself with ops an opset below 13 lacks (Round, DequantizeLinear with an axis); for INT8
 *       layers, which ONNX Runtime fuses reading bias codes as {@code s_x * s_w}, as float;</li>
 *   <li><b>opset and domains</b>: the model keeps its opset, except that opsets 7 to 10 are raised
 *       to 11 when any layer is an integer one ({@link OpsetUpgrade}: QuantizeLinear and
 *       DequantizeLinear exist from 10, and ONNX Runtime's optimizer needs 11).
 *       QuantizeLinear/DequantizeLinear are written in the ONNX domain where the opset has that
 *       form of them, otherwise in {@code com.microsoft} (ONNX Runtime's contrib ops, which take
 *       int8, uint8, int16 and int32 and {@code axis} at any opset), with that domain imported at
 *       version 1: INT16 tensors always (the ONNX ops take int16 only from opset 21) and per-axis
 *       DequantizeLinear below opset 13 (ONNX's has {@code axis} from 13). So weights are per
 *       channel at every opset;</li>
 *   <li><b>constants read by several layers</b> (a module applied at several places, initializers
 *       an exporter deduplicated): each integer Conv/Gemm gets its weight and bias quantized for
 *       itself; consumers whose parameters are equal read one DequantizeLinear, those whose
 *       parameters differ (a bias shared by Convs with different input scales) their own codes.
 *       Identity on initializers is gone already: the compiler folds it;</li>
 *   <li><b>names</b> derive from the tensor they belong to ({@code t_QuantizeLinear},
 *       {@code w_quantized}, ...) and get a {@code _1}, {@code _2}, ... suffix where that name is
 *       taken, so every node name and every tensor name of the file is unique, as ONNX requires;</li>
 *   <li><b>FP16 layers</b>: weights (Conv/ConvTranspose/Gemm/MatMul constants, and any other
 *       constant of more than one element) as FLOAT16 initializers followed by
 *       {@code Cast(to=FLOAT)}; scalar operands stay float32; the output followed by
 *       {@code Cast(to=FLOAT16) -> Cast(to=FLOAT)} (the pair marks the tensor fp16); each input
 *       that is not fp16 passes through the same pair so the layer sees fp16 values. How an fp16
 *       layer computes is stated once, by the compiler's fp16 layers ({@code Fp16Layers});</li>
 *   <li><b>FLOAT32 layers</b>: float weights; placed on the CPU by the compiler;</li>
 *   <li><b>edges</b>: each consumer reads a tensor in its producer's precision, converted only
 *       where it cannot: integer consumers read the Q/DQ output (when the producer is fp16 or
 *       float32, a Q/DQ of the consumers' type, INT16 if any consumer is INT16, is written after
 *       the producer's output), fp16 consumers read through a Cast pair, float32 consumers read the
 *       producer's values as they are. So an int8 layer after an int16 one reads int16 codes. A
 *       float32 layer whose output gets a Q/DQ or Cast pair has {@code Cast(to=FLOAT)} right after
 *       it, the mark that keeps it float32 (and keeps ONNX Runtime from fusing it into an integer
 *       kernel). Graph inputs get a Q/DQ when an integer layer reads them.</li>
 *   <li><b>If branches</b>, whose nodes the compiler made layers of the program: written inside the
 *       branch as the main graph is (their Q/DQ pairs, Cast marks and weight codes belong to the
 *       branch, which reads the values of the graphs around it under the names its readers'
 *       precision needs); each branch output's parameters are its If output's, whose calibrated
 *       range covers both branches, so that picking a branch moves codes. A branch no calibration
 *       sample took has no ranges and keeps float outputs. Loop and Scan bodies are written as
 *       they are, in float32.</li>
 * </ul>
 * The graph being written, with its names and the Q/DQ and Cast nodes, is a {@link QdqOutput};
 * weights and biases are written by {@link QdqWeights}. Stateless; each write has its own output.
 */
public final class QdqWriter {
    /** The names under which consumers of each precision read one activation tensor. */
    private static final class Versions {
        String main;
        String dq;
        String half;

        String forReader(LayerPrecision p) {
            if (p.isInteger() && dq != null) {
                return dq;
            }
            if (p == LayerPrecision.FP16 && half != null) {
                return half;
            }
            return main;
        }
    }

    private QdqWriter() {}

    public static ModelProto write(NpuProgram floatProgram, Calibration calibration, QuantConfig config)
            throws SimulatorException {
        if (floatProgram.isQuantized()) {
            throw new IllegalArgumentException("the program is already quantized");
        }
        boolean integers = config.defaultPrecision().isInteger()
                || config.overrides().values().stream().anyMatch(LayerPrecision::isInteger);
        Graph g = integers ? OpsetUpgrade.toQdqOpset(floatProgram.graph()) : floatProgram.graph();

        Map<String, LayerPrecision> precision = new HashMap<>();
        Map<String, LayerPrecision> nodePrecision = new HashMap<>();
        Map<String, List<LayerPrecision>> readers = new HashMap<>();
        for (Layer l : floatProgram.layers()) {
            LayerPrecision p = config.precisionOf(l.name());
            precision.put(l.name(), p);
            for (String n : l.fusedNodes()) {
                nodePrecision.putIfAbsent(n, p);
            }
            for (String in : l.inputs()) {
                readers.computeIfAbsent(in, k -> new ArrayList<>()).add(p);
            }
        }

        Map<String, QuantParams> act = new HashMap<>();
        for (ValueInfo in : g.inputs()) {
            DType t = integerReaderType(readers.get(in.name()));
            if (t != null) {
                act.put(in.name(), activationParams(in.name(), calibration, t));
            }
        }
        for (Layer l : floatProgram.layers()) {
            String name = l.name();
            if (calibration.range(name) == null) {
                continue; // not a float tensor (shapes, indices): stays as it is
            }
            LayerPrecision p = precision.get(name);
            DType type = p.isInteger() ? p.activationType() : integerReaderType(readers.get(name));
            if (type == null) {
                continue;
            }
            QuantParams inherited = p.isInteger()
                            && OpTraits.of(l.op()).keepsInputQuant()
                            && l.fusedOps().isEmpty()
                            && !l.inputs().isEmpty()
                    ? act.get(l.inputs().get(0))
                    : null;
            act.put(
                    name,
                    inherited != null && inherited.type() == type
                            ? inherited
                            : activationParams(name, calibration, type));
        }

        // A branch output takes its If's output parameters: picking a branch then moves codes.
        Set<String> owners = new HashSet<>();
        floatProgram.layers().forEach(l -> floatProgram.branchOwner(l.name()).ifPresent(owners::add));
        for (Node n : g.nodes()) {
            if (isIfWithLayers(n, owners)) {
                for (Graph b : Subgraphs.of(n)) {
                    for (int i = 0; i < b.outputs().size() && i < n.outputs().size(); i++) {
                        QuantParams q = act.get(n.output(i));
                        QuantParams own = act.get(b.outputs().get(i));
                        if (q != null && own != null && own.type() == q.type()) {
                            act.put(b.outputs().get(i), q);
                        }
                    }
                }
            }
        }

        QdqOutput out = new QdqOutput(g);
        Write w = new Write(config, calibration, precision, nodePrecision, readers, act, owners);
        for (ValueInfo in : g.inputs()) {
            Versions v = new Versions();
            v.main = in.name();
            QuantParams q = act.get(in.name());
            if (q != null) {
                v.main = out.tensor(in.name() + "_DequantizeLinear_Output");
                v.dq = v.main;
                out.addQdq(in.name(), in.name(), v.dq, q);
            }
            if (hasReader(readers.get(in.name()), LayerPrecision.FP16)) {
                v.half = out.addCastPair(v.main, out.tensor(v.main + "_Cast16"));
            }
            w.versions.put(in.name(), v);
        }
        for (Node n : g.nodes()) {
            w.node(n, g, out);
        }
        Map<String, Integer> opsets = new HashMap<>(g.opsets());
        if (out.msDomain()) {
            opsets.putIfAbsent(QdqOutput.MS_DOMAIN, 1);
        }
        Graph result = new Graph(g.name(), out.nodes, out.constants, g.inputs(), g.outputs(), opsets);
        result.pruneConstants();
        return OnnxGraphs.toModel(result, "layerprobe", Map.of());
    }

    /** An If whose branches hold layers of the program (the compiler made them layers). */
    private static boolean isIfWithLayers(Node n, Set<String> owners) {
        return n.opType().equals("If") && n.outputs().stream().anyMatch(owners::contains);
    }

    /** One write's decisions, and the names under which each precision reads each tensor written so far. */
    private static final class Write {
        final QuantConfig config;
        final Calibration calibration;
        final Map<String, LayerPrecision> precision;
        final Map<String, LayerPrecision> nodePrecision;
        final Map<String, List<LayerPrecision>> readers;
        final Map<String, QuantParams> act;
        final Set<String> owners;
        final Map<String, Versions> versions = new HashMap<>();

        Write(
                QuantConfig config,
                Calibration calibration,
                Map<String, LayerPrecision> precision,
                Map<String, LayerPrecision> nodePrecision,
                Map<String, List<LayerPrecision>> readers,
                Map<String, QuantParams> act,
                Set<String> owners) {
            this.config = config;
            this.calibration = calibration;
            this.precision = precision;
            this.nodePrecision = nodePrecision;
            this.readers = readers;
            this.act = act;
            this.owners = owners;
        }

        /**
         * Writes node n of graph g (whose constants include those it reads from enclosing graphs)
         * with its inputs in its precision, its weights quantized, the marks after its outputs, and,
         * for an If with branch layers, its branches written the same way.
         */
        void node(Node n, Graph g, QdqOutput out) {
            LayerPrecision p = nodePrecision.getOrDefault(n.name(), config.defaultPrecision());
            List<String> inputs = new ArrayList<>();
            for (String i : n.inputs()) {
                Versions v = versions.get(i);
                inputs.add(v != null ? v.forReader(p) : i);
            }
            if (p.isInteger() && (n.opType().equals("Conv") || n.opType().equals("Gemm")) && g.isConstant(n.input(1))) {
                QdqWeights.quantize(n, inputs, out, act.get(n.input(0)), config.weightType(p), config.perChannel());
            }
            if (p == LayerPrecision.FP16) {
                for (int i = 0; i < inputs.size(); i++) {
                    Tensor c = out.constant(inputs.get(i));
                    if (c != null && c.isFloating() && g.isConstant(n.input(i)) && isFp16Weight(n, c)) {
                        inputs.set(i, out.fp16Constant(n.input(i), c));
                    }
                }
            }
            Map<String, Attribute> attrs = new LinkedHashMap<>(n.attributes());
            if (isIfWithLayers(n, owners)) {
                for (Map.Entry<String, Attribute> a : n.attributes().entrySet()) {
                    if (a.getValue().kind() == Attribute.Kind.GRAPH) {
                        attrs.put(
                                a.getKey(),
                                Attribute.ofGraph(branch(a.getValue().g(), g, out)));
                    }
                }
            }
            Node copy = new Node(out.sourceNode(n.name()), n.opType(), n.domain(), inputs, n.outputs(), attrs);
            out.nodes.add(copy);
            for (int i = 0; i < n.outputs().size(); i++) {
                String t = n.output(i);
                LayerPrecision tp = precision.get(t);
                if (tp == null || calibration.range(t) == null) {
                    continue;
                }
                int index = i;
                Versions v = new Versions();
                versions.put(t, v);
                writeOutput(
                        out,
                        g,
                        t,
                        tp,
                        act.get(t),
                        readers.get(t),
                        v,
                        raw -> copy.outputs().set(index, raw));
            }
        }

        /**
         * An If branch written like the top-level graph, into a graph of its own: its Q/DQ pairs and
         * quantized weights inside it, the values of the graphs around it read in the precision of
         * each reader.
         */
        private Graph branch(Graph branch, Graph outer, QdqOutput parent) {
            QdqOutput out = parent.branch(branch);
            Map<String, Tensor> visible = new HashMap<>();
            for (String r : Subgraphs.outerReads(branch)) {
                if (outer.isConstant(r)) {
                    visible.put(r, outer.constant(r));
                }
            }
            visible.putAll(branch.constants());
            Graph view = new Graph(
                    branch.name(), branch.nodes(), visible, branch.inputs(), branch.outputs(), branch.opsets());
            for (Node n : branch.nodes()) {
                node(n, view, out);
            }
            Graph written = new Graph(
                    branch.name(), out.nodes, out.constants, branch.inputs(), branch.outputs(), branch.opsets());
            written.outputInfos().putAll(branch.outputInfos());
            written.pruneConstants();
            return written;
        }
    }

    /**
     * Writes the marks after a layer output t (see the class comment) and fills in the names its
     * readers use; {@code rename} receives the name the producing node writes when it is not t.
     */
    private static void writeOutput(
            QdqOutput out,
            Graph g,
            String t,
            LayerPrecision p,
            QuantParams q,
            List<LayerPrecision> readers,
            Versions v,
            java.util.function.Consumer<String> rename) {
        boolean graphOutput = g.outputs().contains(t);
        boolean halfReaders = hasReader(readers, LayerPrecision.FP16);
        if (p.isInteger()) {
            String raw = graphOutput ? out.tensor(t + "_QuantizeLinear_Input") : t;
            v.main = graphOutput ? t : out.tensor(t + "_DequantizeLinear_Output");
            v.dq = v.main;
            rename.accept(raw);
            out.addQdq(t, raw, v.dq, q);
            if (halfReaders) {
                v.half = out.addCastPair(v.main, out.tensor(v.main + "_Cast16"));
            }
            return;
        }
        if (p == LayerPrecision.FP16) {
            String raw = graphOutput ? out.tensor(t + "_Cast16_Input") : t;
            rename.accept(raw);
            v.main = out.addCastPair(raw, graphOutput ? t : out.tensor(t + "_Cast16"));
            v.half = v.main;
        } else {
            v.main = t;
            if (q == null && !halfReaders) {
                return; // only float32 readers: nothing to mark
            }
            String raw = graphOutput ? out.tensor(t + "_Float32_Input") : t;
            rename.accept(raw);
            v.main = graphOutput ? t : out.tensor(t + "_Float32");
            out.nodes.add(QdqOutput.cast(out.node(raw + "_Float32"), raw, v.main, QdqOutput.ONNX_FLOAT));
            if (halfReaders) {
                v.half = out.addCastPair(v.main, out.tensor(v.main + "_Cast16"));
            }
        }
        if (q != null) {
            v.dq = out.tensor(v.main + "_DequantizeLinear_Output");
            out.addQdq(v.main, v.main, v.dq, q);
        }
    }

    /**
     * Whether an fp16 layer stores this float constant as FLOAT16: the weights and biases of
     * Conv/ConvTranspose/Gemm/MatMul, and every other constant of more than one element. Scalar
     * operands of elementwise ops (the 3 and 6 of a HardSwish) stay float32, as an immediate of the
     * op, so that the compiler still recognises the activation patterns they spell.
     */
    private static boolean isFp16Weight(Node n, Tensor c) {
        return switch (n.opType()) {
            case "Conv", "ConvTranspose", "Gemm", "MatMul" -> true;
            default -> c.size() > 1;
        };
    }

    /** INT16 when an integer reader is INT16, else the first integer reader's type, else null. */
    private static DType integerReaderType(List<LayerPrecision> readers) {
        DType t = null;
        for (LayerPrecision p : readers == null ? List.<LayerPrecision>of() : readers) {
            if (p == LayerPrecision.INT16) {
                return DType.INT16;
            }
            if (p.isInteger() && t == null) {
                t = p.activationType();
            }
        }
        return t;
    }

    private static boolean hasReader(List<LayerPrecision> readers, LayerPrecision p) {
        return readers != null && readers.contains(p);
    }

    /**
     * Per-tensor parameters from a calibrated range (see the class comment): asymmetric for INT8 and
     * UINT8, symmetric for INT16.
     */
    public static QuantParams activationParams(String tensor, Calibration c, DType type) throws SimulatorException {
        float[] r = c.range(tensor);
        if (r == null) {
            throw new SimulatorException(Code.INVALID_MODEL, "no calibration range for tensor '" + tensor + "'");
        }
        float min = Math.min(0f, r[0]);
        float max = Math.max(0f, r[1]);
        long qmin = type.min();
        long qmax = type.max();
        if (type == DType.INT16) {
            float scale = Math.max(-min, max) / (float) qmax;
            return QuantParams.perTensor(type, scale > 0 && !Float.isInfinite(scale) ? scale : 1f, 0);
        }
        float scale = (max - min) / (float) (qmax - qmin);
        if (!(scale > 0) || Float.isInfinite(scale)) {
            scale = 1f;
        }
        long zp = Math.round(Math.rint(qmin - min / scale));
        zp = Math.max(qmin, Math.min(qmax, zp));
        return QuantParams.perTensor(type, scale, zp);
    }
}
