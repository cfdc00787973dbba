package dev.layerprobe.simulator.quant;

import dev.layerprobe.simulator.SimulatorException;
import dev.layerprobe.simulator.SimulatorException.Code;
import dev.layerprobe.simulator.graph.Attribute;
import dev.layerprobe.simulator.graph.Graph;
import dev.layerprobe.simulator.graph.Node;
import dev.layerprobe.simulator.tensor.DType;
import dev.layerprobe.simulator.tensor.Tensor;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Raises a float graph's ONNX opset from 7, 8 or 9 to {@value #QDQ_OPSET}, the first with
 * QuantizeLinear/DequantizeLinear, converting the ops whose form changed on the way as ONNX's
 * version converter does:
 * <ul>
 *   <li>Slice: the {@code starts}, {@code ends}, {@code axes} attributes become INT64 constant
 *       inputs (Slice 9 → 10);</li>
 *   <li>TopK: the {@code k} attribute becomes the INT64 {@code [1]} input K (TopK 9 → 10);</li>
 *   <li>Upsample becomes Resize with the same mode, which at opset 10 has Upsample's asymmetric
 *       coordinates and floor rounding; scales from the attribute before opset 9 become a constant
 *       input (Upsample 8 → 9, Upsample 9 → 10);</li>
 *   <li>BatchNormalization loses {@code spatial} (BatchNormalization 8 → 9); {@code spatial=0},
 *       statistics per element, has no later form and is refused.</li>
 * </ul>
 * Every other op keeps its form from opset 7 to 10 (later versions only widen types or add
 * optional attributes). Even with every Q/DQ in {@code com.microsoft}, ONNX Runtime needs opset
 * 10: it fuses a QDQ Conv into the ONNX-domain QLinearConv, which opset 9 lacks, and then refuses
 * the model. Opsets below 7 (the {@code broadcast} attribute of elementwise ops) are refused.
 */
final class OpsetUpgrade {
    /** The first ONNX opset with QuantizeLinear/DequantizeLinear. */
    static final int QDQ_OPSET = 10;
    private static final int OLDEST = 7;

    private OpsetUpgrade() {
    }

    /** The graph itself when its opset has Q/DQ; otherwise a copy at opset {@value #QDQ_OPSET}. */
    static Graph toQdqOpset(Graph g) throws SimulatorException {
        int from = g.opset();
        if (from >= QDQ_OPSET) {
            return g;
        }
        if (from < OLDEST) {
            throw new SimulatorException(Code.UNSUPPORTED_QUANTIZATION, "the model's opset " + from
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
        switch (n.opType()) {
            case "Slice": {
                Map<String, Attribute> attrs = new LinkedHashMap<>(n.attributes());
                List<String> in = new ArrayList<>(List.of(n.input(0)));
                for (String a : List.of("starts", "ends", "axes")) {
                    Attribute v = attrs.remove(a);
                    if (v != null) {
                        in.add(constant(constants, names, n.name() + "_" + a, v.ints()));
                    }
                }
                return new Node(n.name(), "Slice", "", in, n.outputs(), attrs);
            }
            case "TopK": {
                Map<String, Attribute> attrs = new LinkedHashMap<>(n.attributes());
                Attribute k = attrs.remove("k");
                String kIn = constant(constants, names, n.name() + "_k", new long[] {k == null ? 0 : k.i()});
                return new Node(n.name(), "TopK", "", List.of(n.input(0), kIn), n.outputs(), attrs);
            }
            case "Upsample": {
                Map<String, Attribute> attrs = new LinkedHashMap<>();
                attrs.put("mode", Attribute.ofString(n.attrString("mode", "nearest")));
                String scales = n.input(1);
                if (from < 9) {
                    float[] s = n.attrFloats("scales", new float[0]);
                    scales = unique(names, n.name() + "_scales");
                    constants.put(scales, Tensor.ofFloats(new int[] {s.length}, s.clone()));
                }
                return new Node(n.name(), "Resize", "", List.of(n.input(0), scales), n.outputs(), attrs);
            }
            case "BatchNormalization": {
                if (from >= 9 || n.attr("spatial") == null) {
                    return n;
                }
                if (n.attrInt("spatial", 1) != 1) {
                    throw new SimulatorException(Code.UNSUPPORTED_QUANTIZATION, "BatchNormalization '" + n.name()
                            + "' has spatial=0, which opset 9 and later cannot express; the QDQ form needs opset "
                            + QDQ_OPSET);
                }
                Map<String, Attribute> attrs = new LinkedHashMap<>(n.attributes());
                attrs.remove("spatial");
                return new Node(n.name(), n.opType(), n.domain(), n.inputs(), n.outputs(), attrs);
            }
            default:
                return n;
        }
    }

    private static String constant(Map<String, Tensor> constants, Set<String> names, String base, long[] values) {
        String name = unique(names, base);
        constants.put(name, Tensor.ofLongs(DType.INT64, new int[] {values.length}, values.clone()));
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
