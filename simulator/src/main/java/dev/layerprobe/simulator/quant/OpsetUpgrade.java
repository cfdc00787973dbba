package dev.layerprobe.simulator.quant;

import dev.layerprobe.core.LayerProbeException.Code;
import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.SimulatorException;
import dev.layerprobe.simulator.graph.Attribute;
import dev.layerprobe.simulator.graph.Graph;
import dev.layerprobe.simulator.graph.Node;
import dev.layerprobe.simulator.graph.Subgraphs;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Raises a float graph's ONNX opset from 7 to 10 to {@value #QDQ_OPSET}, converting the ops whose
 * form changed on the way as ONNX's version converter does:
 * <ul>
 *   <li>BatchNormalization loses {@code spatial} (8 → 9); {@code spatial=0}, statistics per
 *       element, has no later form and is refused;</li>
 *   <li>Slice: the {@code starts}, {@code ends}, {@code axes} attributes become INT64 constant
 *       inputs (9 → 10);</li>
 *   <li>TopK: the {@code k} attribute becomes the INT64 {@code [1]} input K (9 → 10);</li>
 *   <li>Upsample and Resize become Resize 11 with inputs X, an empty roi and the scales (from
 *       Upsample's attribute before opset 9), keeping their mode and their asymmetric coordinates,
 *       nearest rounding down (8 → 9 → 10 → 11);</li>
 *   <li>Clip: the {@code min}, {@code max} attributes become scalar constant inputs (10 → 11);</li>
 *   <li>Pad: {@code pads} and {@code value} become inputs (10 → 11);</li>
 *   <li>Scatter becomes ScatterElements (10 → 11).</li>
 * </ul>
 * Every other op keeps its form from opset 7 to 11 (later versions only widen types, admit
 * negative axes or add optional attributes). Opset 10 is the first with QuantizeLinear and
 * DequantizeLinear; ONNX Runtime needs 11: its optimizer quantizes a float bias of a QDQ Conv or
 * MatMul (int16 layers, float layers of a hybrid model) with a Round, an opset-11 op, without
 * checking the model's opset, and then refuses the model it made. Opsets below 7 (the
 * {@code broadcast} attribute of elementwise ops) are refused.
 */
final class OpsetUpgrade {
    /** The opset QDQ files are written at, at least. */
    static final int QDQ_OPSET = 11;

    private static final int OLDEST = 7;

    private OpsetUpgrade() {}

    /** The graph itself when its opset is {@value #QDQ_OPSET} or later; otherwise a converted copy. */
    static Graph toQdqOpset(Graph g) throws SimulatorException {
        int from = g.opset();
        if (from >= QDQ_OPSET) {
            return g;
        }
        for (Node n : g.nodes()) {
            if (Subgraphs.has(n)) {
                // Their bodies (and Scan's own form, before opset 9) would need converting too.
                throw new SimulatorException(
                        Code.UNSUPPORTED_QUANTIZATION,
                        "node '" + n.name() + "' (" + n.opType()
                                + ") holds a subgraph, which is not converted from opset "
                                + from + "; convert the model to opset " + QDQ_OPSET
                                + " or later first (onnx.version_converter)");
            }
        }
        if (from < OLDEST) {
            throw new SimulatorException(
                    Code.UNSUPPORTED_QUANTIZATION,
                    "the model's opset " + from
                            + " predates QuantizeLinear/DequantizeLinear and cannot be converted here; convert it to opset "
                            + QDQ_OPSET + " or later first (onnx.version_converter)");
        }
        Map<String, Tensor> constants = new LinkedHashMap<>(g.constants());
        Set<String> names = new HashSet<>(constants.keySet());
        g.inputs().forEach(v -> names.add(v.name()));
        for (Node n : g.nodes()) {
            names.addAll(n.inputs());
            names.addAll(n.outputs());
        }
        List<Node> nodes = new ArrayList<>();
        for (Node n : g.nodes()) {
            nodes.add(n.domain().isEmpty() || n.domain().equals("ai.onnx") ? convert(n, from, constants, names) : n);
        }
        Map<String, Integer> opsets = new LinkedHashMap<>(g.opsets());
        opsets.remove("ai.onnx");
        opsets.put("", QDQ_OPSET);
        return new Graph(g.name(), nodes, constants, g.inputs(), g.outputs(), opsets);
    }

    private static Node convert(Node n, int from, Map<String, Tensor> constants, Set<String> names)
            throws SimulatorException {
        Map<String, Attribute> attrs = new LinkedHashMap<>(n.attributes());
        switch (n.opType()) {
            case "BatchNormalization": {
                if (from >= 9 || attrs.get("spatial") == null) {
                    return n;
                }
                if (attrs.remove("spatial").i() != 1) {
                    throw new SimulatorException(
                            Code.UNSUPPORTED_QUANTIZATION,
                            "BatchNormalization '" + n.name()
                                    + "' has spatial=0, which opset 9 and later cannot express; the QDQ form needs opset "
                                    + QDQ_OPSET);
                }
                return new Node(n.name(), n.opType(), "", n.inputs(), n.outputs(), attrs);
            }
            case "Slice": {
                if (from >= 10) {
                    return n;
                }
                List<String> in = new ArrayList<>(List.of(n.input(0)));
                for (String a : List.of("starts", "ends", "axes")) {
                    Attribute v = attrs.remove(a);
                    if (v != null) {
                        in.add(longs(constants, names, n.name() + "_" + a, v.ints()));
                    }
                }
                return new Node(n.name(), "Slice", "", in, n.outputs(), attrs);
            }
            case "TopK": {
                if (from >= 10) {
                    return n;
                }
                Attribute k = attrs.remove("k");
                String kIn = longs(constants, names, n.name() + "_k", new long[] {k == null ? 0 : k.i()});
                return new Node(n.name(), "TopK", "", List.of(n.input(0), kIn), n.outputs(), attrs);
            }
            case "Upsample":
            case "Resize": {
                String scales = n.input(1);
                if (n.opType().equals("Upsample") && from < 9) {
                    float[] s = n.attrFloats("scales", new float[0]);
                    scales = unique(names, n.name() + "_scales");
                    constants.put(scales, Tensor.ofFloats(new int[] {s.length}, s.clone()));
                }
                Map<String, Attribute> resize = new LinkedHashMap<>();
                String mode = n.attrString("mode", "nearest");
                resize.put("mode", Attribute.ofString(mode));
                resize.put("coordinate_transformation_mode", Attribute.ofString("asymmetric"));
                if (mode.equals("nearest")) {
                    resize.put("nearest_mode", Attribute.ofString("floor"));
                }
                String roi = unique(names, n.name() + "_roi");
                constants.put(roi, Tensor.ofFloats(new int[] {0}, new float[0]));
                return new Node(n.name(), "Resize", "", List.of(n.input(0), roi, scales), n.outputs(), resize);
            }
            case "Clip": {
                Attribute min = attrs.remove("min");
                Attribute max = attrs.remove("max");
                List<String> in = new ArrayList<>(List.of(n.input(0)));
                in.add(min == null ? "" : floats(constants, names, n.name() + "_min", min.f()));
                if (max != null) {
                    in.add(floats(constants, names, n.name() + "_max", max.f()));
                } else if (min == null) {
                    in.remove(1);
                }
                return new Node(n.name(), "Clip", "", in, n.outputs(), attrs);
            }
            case "Pad": {
                Attribute pads = attrs.remove("pads");
                Attribute value = attrs.remove("value");
                List<String> in = new ArrayList<>(List.of(
                        n.input(0),
                        longs(constants, names, n.name() + "_pads", pads == null ? new long[0] : pads.ints())));
                if (value != null) {
                    in.add(floats(constants, names, n.name() + "_value", value.f()));
                }
                return new Node(n.name(), "Pad", "", in, n.outputs(), attrs);
            }
            case "Scatter":
                return new Node(n.name(), "ScatterElements", "", n.inputs(), n.outputs(), attrs);
            default:
                return n;
        }
    }

    private static String longs(Map<String, Tensor> constants, Set<String> names, String base, long[] values) {
        String name = unique(names, base);
        constants.put(name, Tensor.ofLongs(DType.INT64, new int[] {values.length}, values.clone()));
        return name;
    }

    private static String floats(Map<String, Tensor> constants, Set<String> names, String base, float value) {
        String name = unique(names, base);
        constants.put(name, Tensor.scalar(value));
        return name;
    }

    private static String unique(Set<String> names, String base) {
        String name = base;
        for (int i = 1; !names.add(name); i++) {
            name = base + "_" + i;
        }
        return name;
    }
}
