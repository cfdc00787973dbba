package dev.layerprobe.simulator.onnx;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.layerprobe.core.LayerProbeException.Code;
import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.onnx.Onnx.AttributeProto;
import dev.layerprobe.onnx.Onnx.GraphProto;
import dev.layerprobe.onnx.Onnx.ModelProto;
import dev.layerprobe.onnx.Onnx.NodeProto;
import dev.layerprobe.onnx.Onnx.OperatorSetIdProto;
import dev.layerprobe.onnx.Onnx.TensorProto;
import dev.layerprobe.onnx.Onnx.TensorShapeProto;
import dev.layerprobe.onnx.Onnx.TypeProto;
import dev.layerprobe.onnx.Onnx.ValueInfoProto;
import dev.layerprobe.simulator.SimulatorException;
import dev.layerprobe.simulator.graph.Attribute;
import dev.layerprobe.simulator.graph.Graph;
import dev.layerprobe.simulator.graph.Node;
import dev.layerprobe.simulator.graph.Subgraphs;
import dev.layerprobe.simulator.graph.ValueInfo;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Reads ONNX files into {@link Graph}s and writes graphs back as ONNX models. */
public final class OnnxGraphs {
    private OnnxGraphs() {}

    /** Reads and parses an ONNX file; errors name the file and what is wrong with it. */
    public static ModelProto readModel(Path file) throws SimulatorException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new SimulatorException(Code.IO, "model file not found: " + file);
        } catch (IOException e) {
            throw new SimulatorException(Code.IO, "cannot read model " + file + ": " + e.getMessage(), e);
        }
        return parseModel(bytes, file.toString());
    }

    /** Parses ONNX bytes; {@code what} names the source in errors. */
    public static ModelProto parseModel(byte[] bytes, String what) throws SimulatorException {
        ModelProto m;
        try {
            m = ModelProto.parseFrom(bytes);
        } catch (InvalidProtocolBufferException e) {
            throw new SimulatorException(Code.NOT_ONNX, what + " is not an ONNX model (" + e.getMessage() + ")", e);
        }
        if (!m.hasGraph() || m.getGraph().getNodeCount() == 0 || m.getOpsetImportCount() == 0) {
            throw new SimulatorException(Code.NOT_ONNX, what + " is not an ONNX model (no graph or no opset)");
        }
        return m;
    }

    /** Converts a model to the simulator's graph; external data is read relative to baseDir. */
    public static Graph toGraph(ModelProto model, Path baseDir) throws SimulatorException {
        Map<String, Integer> opsets = new HashMap<>();
        for (OperatorSetIdProto o : model.getOpsetImportList()) {
            opsets.put(o.getDomain().equals("ai.onnx") ? "" : o.getDomain(), (int) o.getVersion());
        }
        return graph(model.getGraph(), opsets, baseDir, Set.of(), null);
    }

    /**
     * Converts one graph. {@code outer} holds the names of every value of the enclosing graphs,
     * which a subgraph may read; {@code owner} names the node owning a subgraph, null at the top.
     */
    private static Graph graph(GraphProto g, Map<String, Integer> opsets, Path baseDir, Set<String> outer, String owner)
            throws SimulatorException {
        Map<String, Tensor> constants = new LinkedHashMap<>();
        for (TensorProto t : g.getInitializerList()) {
            try {
                constants.put(t.getName(), TensorProtos.toTensor(t, baseDir));
            } catch (IllegalArgumentException e) {
                throw new SimulatorException(Code.INVALID_MODEL, e.getMessage(), e);
            }
        }
        List<ValueInfo> inputs = new ArrayList<>();
        for (ValueInfoProto v : g.getInputList()) {
            if (!constants.containsKey(v.getName())) {
                if (owner != null) {
                    requireTensor(v, owner);
                }
                inputs.add(valueInfo(v, owner != null));
            }
        }
        List<String> outputs = new ArrayList<>();
        Map<String, ValueInfo> outputInfos = new HashMap<>();
        for (ValueInfoProto v : g.getOutputList()) {
            outputs.add(v.getName());
            if (owner != null) {
                requireTensor(v, owner);
                outputInfos.put(v.getName(), valueInfo(v, true));
            }
        }
        // What this graph's subgraphs may read: every value here and in the graphs around it.
        Set<String> scope = new HashSet<>(outer);
        scope.addAll(constants.keySet());
        inputs.forEach(v -> scope.add(v.name()));
        g.getNodeList().forEach(n -> scope.addAll(n.getOutputList()));
        List<Node> nodes = new ArrayList<>();
        int unnamed = 0;
        for (NodeProto n : g.getNodeList()) {
            String name = n.getName().isEmpty() ? n.getOpType() + "_" + unnamed++ : n.getName();
            Map<String, Attribute> attrs = new LinkedHashMap<>();
            for (AttributeProto a : n.getAttributeList()) {
                if (a.getType() == AttributeProto.AttributeType.GRAPH
                        || (a.hasG() && a.getType() == AttributeProto.AttributeType.UNDEFINED)) {
                    String who = "node '" + name + "' (" + n.getOpType() + ")";
                    attrs.put(a.getName(), Attribute.ofGraph(graph(a.getG(), opsets, baseDir, scope, who)));
                } else {
                    attrs.put(a.getName(), attribute(a, baseDir));
                }
            }
            nodes.add(new Node(name, n.getOpType(), n.getDomain(), n.getInputList(), n.getOutputList(), attrs));
        }
        Set<String> available = new HashSet<>(outer);
        available.addAll(constants.keySet());
        for (ValueInfo v : inputs) {
            available.add(v.name());
        }
        Graph out = new Graph(g.getName(), topologicalOrder(nodes, available), constants, inputs, outputs, opsets);
        out.outputInfos().putAll(outputInfos);
        return out;
    }

    /** Subgraph values must be tensors: sequences, optionals and maps have no form in the simulator. */
    private static void requireTensor(ValueInfoProto v, String owner) throws SimulatorException {
        if (v.hasType()
                && v.getType().getValueCase() != TypeProto.ValueCase.TENSOR_TYPE
                && v.getType().getValueCase() != TypeProto.ValueCase.VALUE_NOT_SET) {
            throw new SimulatorException(
                    Code.UNSUPPORTED_OP,
                    owner + ": subgraph value '" + v.getName() + "' is of "
                            + v.getType().getValueCase()
                            + "; sequence types are not supported (nor optional and map types)");
        }
    }

    private static List<Node> topologicalOrder(List<Node> nodes, Set<String> available) throws SimulatorException {
        Map<String, Node> producers = new HashMap<>();
        for (Node n : nodes) {
            for (String o : n.outputs()) {
                producers.put(o, n);
            }
        }
        List<Node> order = new ArrayList<>();
        ArrayDeque<Node> pending = new ArrayDeque<>(nodes);
        int stalled = 0;
        while (!pending.isEmpty()) {
            Node n = pending.poll();
            boolean ready = true;
            Set<String> reads = new LinkedHashSet<>(n.inputs());
            reads.addAll(Subgraphs.outerReads(n));
            for (String in : reads) {
                if (in.isEmpty() || available.contains(in)) {
                    continue;
                }
                Node p = producers.get(in);
                if (p == null) {
                    throw new SimulatorException(
                            Code.INVALID_MODEL,
                            "node '" + n.name() + "' (" + n.opType() + ") reads tensor '" + in
                                    + "' that no node, input or initializer provides");
                }
                ready = false;
            }
            if (ready) {
                order.add(n);
                available.addAll(n.outputs());
                stalled = 0;
            } else {
                pending.add(n);
                if (++stalled > pending.size()) {
                    throw new SimulatorException(
                            Code.INVALID_MODEL, "the graph has a cycle through node '" + n.name() + "'");
                }
            }
        }
        return order;
    }

    /** A graph input or output; untyped ones get element type null where {@code allowUntyped}, else FLOAT32. */
    private static ValueInfo valueInfo(ValueInfoProto v, boolean allowUntyped) {
        DType t = allowUntyped ? null : DType.FLOAT32;
        int[] shape = allowUntyped && !v.getType().getTensorType().hasShape() ? null : new int[0];
        if (v.hasType() && v.getType().hasTensorType()) {
            TypeProto.Tensor tt = v.getType().getTensorType();
            DType d = DType.fromOnnx(tt.getElemType());
            if (d != null) {
                t = d;
            }
            List<TensorShapeProto.Dimension> dims = tt.getShape().getDimList();
            shape = shape == null ? null : new int[dims.size()];
            for (int i = 0; shape != null && i < shape.length; i++) {
                shape[i] = dims.get(i).hasDimValue() && dims.get(i).getDimValue() > 0
                        ? (int) dims.get(i).getDimValue()
                        : -1;
            }
        }
        return new ValueInfo(v.getName(), t, shape);
    }

    private static Attribute attribute(AttributeProto a, Path baseDir) throws SimulatorException {
        AttributeProto.AttributeType type = a.getType();
        if (type == AttributeProto.AttributeType.UNDEFINED) {
            type = guessType(a);
        }
        switch (type) {
            case INT:
                return Attribute.ofInt(a.getI());
            case FLOAT:
                return Attribute.ofFloat(a.getF());
            case STRING:
                return Attribute.ofString(a.getS().toString(StandardCharsets.UTF_8));
            case INTS: {
                long[] v = new long[a.getIntsCount()];
                for (int i = 0; i < v.length; i++) {
                    v[i] = a.getInts(i);
                }
                return Attribute.ofInts(v);
            }
            case FLOATS: {
                float[] v = new float[a.getFloatsCount()];
                for (int i = 0; i < v.length; i++) {
                    v[i] = a.getFloats(i);
                }
                return Attribute.ofFloats(v);
            }
            case STRINGS: {
                String[] v = new String[a.getStringsCount()];
                for (int i = 0; i < v.length; i++) {
                    v[i] = a.getStrings(i).toString(StandardCharsets.UTF_8);
                }
                return Attribute.ofStrings(v);
            }
            case TENSOR:
                try {
                    return Attribute.ofTensor(TensorProtos.toTensor(a.getT(), baseDir));
                } catch (IllegalArgumentException e) {
                    throw new SimulatorException(
                            Code.INVALID_MODEL, "attribute '" + a.getName() + "': " + e.getMessage(), e);
                }
            default:
                return Attribute.other();
        }
    }

    private static AttributeProto.AttributeType guessType(AttributeProto a) {
        if (a.hasT()) {
            return AttributeProto.AttributeType.TENSOR;
        }
        if (a.hasS()) {
            return AttributeProto.AttributeType.STRING;
        }
        if (a.hasF()) {
            return AttributeProto.AttributeType.FLOAT;
        }
        if (a.hasI()) {
            return AttributeProto.AttributeType.INT;
        }
        if (a.getIntsCount() > 0) {
            return AttributeProto.AttributeType.INTS;
        }
        if (a.getFloatsCount() > 0) {
            return AttributeProto.AttributeType.FLOATS;
        }
        if (a.getStringsCount() > 0) {
            return AttributeProto.AttributeType.STRINGS;
        }
        return AttributeProto.AttributeType.UNDEFINED;
    }

    /**
     * Writes a graph as an ONNX model. Graph outputs are typed float32 unless {@code outputTypes}
     * names another type; shapes are left for the reader to infer.
     */
    public static ModelProto toModel(Graph g, String producer, Map<String, DType> outputTypes) {
        GraphProto.Builder gb = graphProto(g, outputTypes);
        ModelProto.Builder mb = ModelProto.newBuilder()
                .setIrVersion(8)
                .setProducerName(producer)
                .setGraph(gb);
        for (Map.Entry<String, Integer> o : g.opsets().entrySet()) {
            mb.addOpsetImport(
                    OperatorSetIdProto.newBuilder().setDomain(o.getKey()).setVersion(o.getValue()));
        }
        return mb.build();
    }

    /** A graph as a GraphProto; a subgraph's outputs keep the types it declared ({@link Graph#outputInfos}). */
    private static GraphProto.Builder graphProto(Graph g, Map<String, DType> outputTypes) {
        GraphProto.Builder gb = GraphProto.newBuilder().setName(g.name() == null ? "layerprobe" : g.name());
        for (ValueInfo v : g.inputs()) {
            gb.addInput(valueInfoProto(v.name(), v.dtype(), v.shape()));
        }
        for (String o : g.outputs()) {
            ValueInfo declared = g.outputInfos().get(o);
            gb.addOutput(
                    declared != null
                            ? valueInfoProto(o, declared.dtype(), declared.shape())
                            : valueInfoProto(o, outputTypes.getOrDefault(o, DType.FLOAT32), null));
        }
        for (Map.Entry<String, Tensor> c : g.constants().entrySet()) {
            gb.addInitializer(TensorProtos.fromTensor(c.getKey(), c.getValue()));
        }
        for (Node n : g.nodes()) {
            NodeProto.Builder nb = NodeProto.newBuilder()
                    .setName(n.name())
                    .setOpType(n.opType())
                    .addAllInput(n.inputs())
                    .addAllOutput(n.outputs());
            if (!n.domain().isEmpty()) {
                nb.setDomain(n.domain());
            }
            for (Map.Entry<String, Attribute> e : n.attributes().entrySet()) {
                nb.addAttribute(attributeProto(e.getKey(), e.getValue()));
            }
            gb.addNode(nb);
        }
        return gb;
    }

    /** A tensor's value info; a null type or shape (a subgraph value the file left open) is not written. */
    public static ValueInfoProto valueInfoProto(String name, DType dtype, int[] shape) {
        if (dtype == null) {
            return ValueInfoProto.newBuilder().setName(name).build();
        }
        TypeProto.Tensor.Builder tt = TypeProto.Tensor.newBuilder().setElemType(dtype.onnxCode());
        if (shape != null) {
            TensorShapeProto.Builder sb = TensorShapeProto.newBuilder();
            for (int i = 0; i < shape.length; i++) {
                sb.addDim(
                        shape[i] >= 0
                                ? TensorShapeProto.Dimension.newBuilder().setDimValue(shape[i])
                                : TensorShapeProto.Dimension.newBuilder().setDimParam(name + "_d" + i));
            }
            tt.setShape(sb);
        }
        return ValueInfoProto.newBuilder()
                .setName(name)
                .setType(TypeProto.newBuilder().setTensorType(tt))
                .build();
    }

    private static AttributeProto attributeProto(String name, Attribute a) {
        AttributeProto.Builder b = AttributeProto.newBuilder().setName(name);
        switch (a.kind()) {
            case INT -> b.setType(AttributeProto.AttributeType.INT).setI(a.i());
            case FLOAT -> b.setType(AttributeProto.AttributeType.FLOAT).setF(a.f());
            case STRING -> b.setType(AttributeProto.AttributeType.STRING).setS(ByteString.copyFromUtf8(a.s()));
            case INTS -> {
                b.setType(AttributeProto.AttributeType.INTS);
                for (long v : a.ints()) {
                    b.addInts(v);
                }
            }
            case FLOATS -> {
                b.setType(AttributeProto.AttributeType.FLOATS);
                for (float v : a.floats()) {
                    b.addFloats(v);
                }
            }
            case STRINGS -> {
                b.setType(AttributeProto.AttributeType.STRINGS);
                for (String v : a.strings()) {
                    b.addStrings(ByteString.copyFromUtf8(v));
                }
            }
            case TENSOR -> b.setType(AttributeProto.AttributeType.TENSOR).setT(TensorProtos.fromTensor("", a.t()));
            case GRAPH -> b.setType(AttributeProto.AttributeType.GRAPH).setG(graphProto(a.g(), Map.of()));
            default -> throw new IllegalArgumentException("cannot write attribute '" + name + "' of kind " + a.kind());
        }
        return b.build();
    }
}
