package dev.layerprobe.simulator.graph;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One ONNX node in the simulator's editable graph. Inputs and outputs are tensor names; an empty
 * input name is an omitted optional input, as in ONNX.
 */
public final class Node {
    private final String name;
    private final String opType;
    private final String domain;
    private final List<String> inputs;
    private final List<String> outputs;
    private final Map<String, Attribute> attributes;
    /** Names of the original ONNX nodes this node now stands for (itself, plus folded/fused ones). */
    private final List<String> covers = new ArrayList<>();

    public Node(
            String name,
            String opType,
            String domain,
            List<String> inputs,
            List<String> outputs,
            Map<String, Attribute> attributes) {
        this.name = name;
        this.opType = opType;
        this.domain = domain == null ? "" : domain;
        this.inputs = new ArrayList<>(inputs);
        this.outputs = new ArrayList<>(outputs);
        this.attributes = new LinkedHashMap<>(attributes);
        this.covers.add(name);
    }

    public String name() {
        return name;
    }

    public String opType() {
        return opType;
    }

    public String domain() {
        return domain;
    }

    /** Mutable list of input tensor names. */
    public List<String> inputs() {
        return inputs;
    }

    /** Mutable list of output tensor names. */
    public List<String> outputs() {
        return outputs;
    }

    public String input(int i) {
        return i < inputs.size() ? inputs.get(i) : "";
    }

    public boolean hasInput(int i) {
        return i < inputs.size() && !inputs.get(i).isEmpty();
    }

    public String output(int i) {
        return outputs.get(i);
    }

    /** Mutable attribute map. */
    public Map<String, Attribute> attributes() {
        return attributes;
    }

    public Attribute attr(String name) {
        return attributes.get(name);
    }

    public long attrInt(String name, long dflt) {
        Attribute a = attributes.get(name);
        return a == null ? dflt : a.i();
    }

    public float attrFloat(String name, float dflt) {
        Attribute a = attributes.get(name);
        return a == null ? dflt : a.f();
    }

    public String attrString(String name, String dflt) {
        Attribute a = attributes.get(name);
        return a == null ? dflt : a.s();
    }

    public long[] attrInts(String name, long[] dflt) {
        Attribute a = attributes.get(name);
        return a == null ? dflt : a.ints();
    }

    public float[] attrFloats(String name, float[] dflt) {
        Attribute a = attributes.get(name);
        return a == null ? dflt : a.floats();
    }

    /** Mutable list of the original node names this node covers, in graph order. */
    public List<String> covers() {
        return covers;
    }

    @Override
    public String toString() {
        return opType + " '" + name + "'";
    }
}
