package dev.layerprobe.host.ortcheck;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.layerprobe.onnx.Onnx.AttributeProto;
import dev.layerprobe.onnx.Onnx.GraphProto;
import dev.layerprobe.onnx.Onnx.ModelProto;
import dev.layerprobe.onnx.Onnx.NodeProto;
import dev.layerprobe.onnx.Onnx.OperatorSetIdProto;
import dev.layerprobe.onnx.Onnx.TensorProto;
import dev.layerprobe.onnx.Onnx.ValueInfoProto;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The rules of ONNX's checker ({@code onnx.checker.check_model}) and of ONNX Runtime's graph
 * resolution that a QDQ file can break, checked on the ModelProto in Java (the tests have no
 * Python): a list of problems, each naming the node or tensor, empty for a valid model.
 * <ul>
 *   <li>names: non-empty node names unique (ONNX Runtime refuses "two nodes with same node
 *       name"); initializer names unique; every tensor assigned once: a node output is no graph
 *       input, initializer or other node output (static single assignment);</li>
 *   <li>order: every node input is a graph input, an initializer or an output of an earlier node;
 *       every graph output exists;</li>
 *   <li>domains: each node's domain is a known one ({@code ""}, {@code ai.onnx},
 *       {@code com.microsoft}, {@code ai.onnx.ml}) and imported, each domain imported once; the IR
 *       version is one that admits the ONNX opset;</li>
 *   <li>ops at the imported opset, for the ops LayerProbe writes or converts:
 *       QuantizeLinear/DequantizeLinear exist from 10, take {@code axis} from 13 and int16 from 21;
 *       Resize exists from 10 (with a roi input at 11 and 12), Upsample is gone from 10 and Scatter
 *       from 11; Slice's starts/ends/axes and TopK's k are inputs from 10, Clip's min/max and Pad's
 *       pads/value from 11; BatchNormalization has no {@code spatial} from 9;
 *       {@code com.microsoft} QuantizeLinear/DequantizeLinear take int8, uint8, int16, uint16
 *       (and int32 to dequantize);</li>
 *   <li>Q/DQ parameters: constant scale of type FLOAT, zero point of the quantized type and the
 *       scale's shape, int32 zero points 0; a 1-D scale of more than one element has as many
 *       elements as the input has along {@code axis}.</li>
 * </ul>
 */
final class OnnxChecker {
    private static final Set<String> KNOWN_DOMAINS = Set.of("", "ai.onnx", "com.microsoft", "ai.onnx.ml");
    /** Lowest IR version for an ONNX opset (onnx/helper.py VERSION_TABLE), from opset 9 up. */
    private static final int[][] IR_FOR_OPSET = {{9, 4}, {10, 5}, {11, 6}, {12, 7}, {15, 8}, {19, 9}, {21, 10}, {23, 11}
    };

    private OnnxChecker() {}

    /** Fails with every problem listed. */
    static void assertValid(ModelProto m, String what) {
        List<String> p = problems(m);
        assertEquals(List.of(), p, what + " is not a valid ONNX model");
    }

    static List<String> problems(ModelProto m) {
        List<String> problems = new ArrayList<>();
        GraphProto g = m.getGraph();
        Map<String, Integer> opsets = new HashMap<>();
        for (OperatorSetIdProto o : m.getOpsetImportList()) {
            String d = o.getDomain().equals("ai.onnx") ? "" : o.getDomain();
            if (opsets.put(d, (int) o.getVersion()) != null) {
                problems.add("domain '" + d + "' is imported twice");
            }
        }
        int opset = opsets.getOrDefault("", 0);
        if (opset == 0) {
            problems.add("no ONNX opset is imported");
        }
        for (int[] e : IR_FOR_OPSET) {
            if (opset >= e[0] && m.getIrVersion() < e[1]) {
                problems.add(
                        "IR version " + m.getIrVersion() + " is below " + e[1] + ", which opset " + opset + " needs");
                break;
            }
        }

        Map<String, TensorProto> init = new HashMap<>();
        Set<String> defined = new HashSet<>();
        for (TensorProto t : g.getInitializerList()) {
            if (init.put(t.getName(), t) != null) {
                problems.add("initializer '" + t.getName() + "' is defined twice");
            }
            defined.add(t.getName());
        }
        Set<String> inputs = new HashSet<>();
        for (ValueInfoProto v : g.getInputList()) {
            if (!inputs.add(v.getName())) {
                problems.add("graph input '" + v.getName() + "' is declared twice");
            }
            defined.add(v.getName());
        }
        Set<String> nodeNames = new HashSet<>();
        for (NodeProto n : g.getNodeList()) {
            String what = n.getOpType() + " '" + n.getName() + "'";
            if (!n.getName().isEmpty() && !nodeNames.add(n.getName())) {
                problems.add("two nodes are named '" + n.getName() + "'");
            }
            for (String in : n.getInputList()) {
                if (!in.isEmpty() && !defined.contains(in)) {
                    problems.add(what + " reads '" + in + "', which is no graph input, initializer or output of an"
                            + " earlier node");
                }
            }
            for (String out : n.getOutputList()) {
                if (!out.isEmpty() && !defined.add(out)) {
                    problems.add(what + " writes '" + out + "', which is already assigned");
                }
            }
            String domain = n.getDomain().equals("ai.onnx") ? "" : n.getDomain();
            if (!KNOWN_DOMAINS.contains(domain)) {
                problems.add(what + " is in the unknown domain '" + domain + "'");
            } else if (!opsets.containsKey(domain)) {
                problems.add(what + " is in domain '" + domain + "', which the model does not import");
            } else {
                checkOp(n, what, domain, opsets.get(domain), init, problems);
            }
        }
        for (ValueInfoProto v : g.getOutputList()) {
            if (!defined.contains(v.getName())) {
                problems.add("graph output '" + v.getName() + "' is never produced");
            }
        }
        return problems;
    }

    private static void checkOp(
            NodeProto n,
            String what,
            String domain,
            int version,
            Map<String, TensorProto> init,
            List<String> problems) {
        String op = n.getOpType();
        boolean q = op.equals("QuantizeLinear");
        boolean dq = op.equals("DequantizeLinear");
        if (domain.equals("com.microsoft")) {
            if (q || dq) {
                checkQdq(n, what, init, q ? Set.of(2, 3, 4, 5) : Set.of(2, 3, 4, 5, 6), problems);
            }
            return;
        }
        if (!domain.isEmpty()) {
            return;
        }
        if (q || dq) {
            if (version < 10) {
                problems.add(what + " does not exist at opset " + version + " (ONNX has it from 10)");
                return;
            }
            if (hasAttr(n, "axis") && version < 13) {
                problems.add(
                        what + " has attribute axis, which ONNX's takes from opset 13; the model is opset " + version);
            }
            Set<Integer> types = new HashSet<>(Set.of(2, 3)); // UINT8, INT8
            if (dq) {
                types.add(6); // INT32
            }
            if (version >= 21) {
                types.addAll(Set.of(4, 5)); // UINT16, INT16
            }
            checkQdq(n, what, init, types, problems);
            return;
        }
        switch (op) {
            case "Resize" -> {
                requireSince(what, version, 10, problems);
                if (version >= 11 && version < 13 && n.getInputCount() < 3) {
                    problems.add(what + " needs inputs X, roi and scales or sizes at opset " + version);
                }
            }
            case "Scatter" -> {
                if (version >= 11) {
                    problems.add(what + " is deprecated from opset 11 (ScatterElements replaces it)");
                }
            }
            case "Pad" -> attrsUntil(n, what, version, 11, List.of("pads", "value"), problems);
            case "Upsample" -> {
                if (version >= 10) {
                    problems.add(
                            what + " is deprecated from opset 10 (Resize replaces it); the model is opset " + version);
                }
            }
            case "Slice" -> attrsUntil(n, what, version, 10, List.of("starts", "ends", "axes"), problems);
            case "TopK" -> attrsUntil(n, what, version, 10, List.of("k"), problems);
            case "Clip" -> attrsUntil(n, what, version, 11, List.of("min", "max"), problems);
            case "BatchNormalization" -> attrsUntil(n, what, version, 9, List.of("spatial"), problems);
            default -> {}
        }
    }

    private static void requireSince(String what, int version, int since, List<String> problems) {
        if (version < since) {
            problems.add(what + " does not exist at opset " + version + " (ONNX has it from " + since + ")");
        }
    }

    /** Attributes that the op has up to (not including) opset {@code until}. */
    private static void attrsUntil(
            NodeProto n, String what, int version, int until, List<String> attrs, List<String> problems) {
        if (version < until) {
            return;
        }
        for (String a : attrs) {
            if (hasAttr(n, a)) {
                problems.add(what + " has attribute " + a + ", which opset " + version + " no longer has");
            }
        }
    }

    private static boolean hasAttr(NodeProto n, String name) {
        for (AttributeProto a : n.getAttributeList()) {
            if (a.getName().equals(name)) {
                return true;
            }
        }
        return false;
    }

    private static void checkQdq(
            NodeProto n, String what, Map<String, TensorProto> init, Set<Integer> types, List<String> problems) {
        if (n.getInputCount() < 2) {
            problems.add(what + " has no scale");
            return;
        }
        TensorProto scale = init.get(n.getInput(1));
        TensorProto zp = n.getInputCount() > 2 && !n.getInput(2).isEmpty() ? init.get(n.getInput(2)) : null;
        TensorProto x = init.get(n.getInput(0));
        if (scale == null) {
            return; // a computed scale: nothing to check statically
        }
        if (scale.getDataType() != TensorProto.DataType.FLOAT_VALUE) {
            problems.add(what + ": scale '" + scale.getName() + "' is not FLOAT");
        }
        int type = zp != null
                ? zp.getDataType()
                : x != null && n.getOpType().equals("DequantizeLinear") ? x.getDataType() : -1;
        if (type >= 0 && !types.contains(type)) {
            problems.add(what + ": quantized type " + TensorProto.DataType.forNumber(type) + " is not allowed here");
        }
        if (zp != null && !zp.getDimsList().equals(scale.getDimsList())) {
            problems.add(what + ": zero point shape " + zp.getDimsList() + " differs from scale shape "
                    + scale.getDimsList());
        }
        if (x != null && zp != null && x.getDataType() != zp.getDataType()) {
            problems.add(what + ": input and zero point types differ");
        }
        if (zp != null && zp.getDataType() == TensorProto.DataType.INT32_VALUE && !allZero(zp)) {
            problems.add(what + ": an INT32 zero point must be 0");
        }
        long elements = scale.getDimsList().stream().reduce(1L, (a, b) -> a * b);
        if (scale.getDimsCount() > 1) {
            problems.add(what + ": scale must be a scalar or 1-D, has shape " + scale.getDimsList());
        } else if (elements > 1 && x != null) {
            long axis = 1;
            for (AttributeProto a : n.getAttributeList()) {
                if (a.getName().equals("axis")) {
                    axis = a.getI();
                }
            }
            int rank = x.getDimsCount();
            long ax = axis < 0 ? axis + rank : axis;
            if (ax < 0 || ax >= rank || x.getDims((int) ax) != elements) {
                problems.add(what + ": " + elements + " scales along axis " + axis + " of an input of shape "
                        + x.getDimsList());
            }
        }
    }

    private static boolean allZero(TensorProto t) {
        if (!t.getRawData().isEmpty()) {
            for (byte b : t.getRawData().toByteArray()) {
                if (b != 0) {
                    return false;
                }
            }
            return true;
        }
        return t.getInt32DataList().stream().allMatch(v -> v == 0);
    }
}
