package dev.layerprobe.simulator.profile;

/**
 * One fault of a device profile: a kind, placed on one layer (ONNX output tensor name) or on
 * every layer of an op type. Exactly one of {@code layer} and {@code op} is non-null.
 */
public record Fault(FaultKind kind, String layer, String op) {
    public Fault {
        if ((layer == null) == (op == null)) {
            throw new IllegalArgumentException("fault " + kind.yamlName() + " needs exactly one of 'layer' and 'op'");
        }
    }

    /** Whether this fault hits a layer with this name and op type. */
    public boolean matches(String layerName, String opType) {
        return layer != null ? layer.equals(layerName) : op.equals(opType);
    }

    public String target() {
        return layer != null ? "layer " + layer : "op " + op;
    }
}
