package dev.layerprobe.simulator.graph;

import dev.layerprobe.core.tensor.Tensor;
import java.util.Arrays;

/**
 * An ONNX node attribute. Exactly the field matching {@link #kind()} is meaningful; integer lists
 * are {@code long[]} as in ONNX. A {@link Kind#GRAPH} attribute holds a subgraph (the branches of
 * If, the body of Loop and Scan), which may read any value of the graphs enclosing it by name.
 */
public record Attribute(
        Kind kind, long i, float f, String s, long[] ints, float[] floats, String[] strings, Tensor t, Graph g) {

    /** ONNX attribute kinds the simulator keeps (lists of graphs and sparse tensors are not executed). */
    public enum Kind {
        INT,
        FLOAT,
        STRING,
        INTS,
        FLOATS,
        STRINGS,
        TENSOR,
        GRAPH,
        OTHER
    }

    public static Attribute ofInt(long v) {
        return new Attribute(Kind.INT, v, 0, null, null, null, null, null, null);
    }

    public static Attribute ofFloat(float v) {
        return new Attribute(Kind.FLOAT, 0, v, null, null, null, null, null, null);
    }

    public static Attribute ofString(String v) {
        return new Attribute(Kind.STRING, 0, 0, v, null, null, null, null, null);
    }

    public static Attribute ofInts(long... v) {
        return new Attribute(Kind.INTS, 0, 0, null, v, null, null, null, null);
    }

    public static Attribute ofFloats(float... v) {
        return new Attribute(Kind.FLOATS, 0, 0, null, null, v, null, null, null);
    }

    public static Attribute ofStrings(String... v) {
        return new Attribute(Kind.STRINGS, 0, 0, null, null, null, v, null, null);
    }

    public static Attribute ofTensor(Tensor v) {
        return new Attribute(Kind.TENSOR, 0, 0, null, null, null, null, v, null);
    }

    public static Attribute ofGraph(Graph v) {
        return new Attribute(Kind.GRAPH, 0, 0, null, null, null, null, null, v);
    }

    /** An attribute kept only so that it is known to exist; it is neither executed nor written. */
    public static Attribute other() {
        return new Attribute(Kind.OTHER, 0, 0, null, null, null, null, null, null);
    }

    /** A short human-readable value, for plans and reports. */
    public String display() {
        return switch (kind) {
            case INT -> Long.toString(i);
            case FLOAT -> Float.toString(f);
            case STRING -> s;
            case INTS -> Arrays.toString(ints);
            case FLOATS -> Arrays.toString(floats);
            case STRINGS -> Arrays.toString(strings);
            case TENSOR -> String.valueOf(t);
            case GRAPH -> "graph '" + g.name() + "' (" + g.nodes().size() + " nodes)";
            case OTHER -> "?";
        };
    }
}
