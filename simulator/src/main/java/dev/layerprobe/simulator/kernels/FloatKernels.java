package dev.layerprobe.simulator.kernels;

import dev.layerprobe.simulator.graph.Node;
import java.util.Collections;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The float32 kernels, one class per ONNX operator, registered here by op type. Conventions for
 * every kernel: NCHW layout for images, C-order data, float32 arithmetic (accumulation in float32
 * unless a kernel says otherwise), numpy broadcasting where ONNX allows it.
 */
public final class FloatKernels {
    private static final Map<String, KernelFactory> REGISTRY = new TreeMap<>();

    static {
        // Registered by op type; each factory reads and checks the node's attributes.
    }

    private FloatKernels() {
    }

    static void register(String opType, KernelFactory f) {
        REGISTRY.put(opType, f);
    }

    public static boolean supports(String opType) {
        return REGISTRY.containsKey(opType);
    }

    /** Op types with a float kernel, sorted. */
    public static Set<String> supportedOps() {
        return Collections.unmodifiableSet(REGISTRY.keySet());
    }

    /**
     * The kernel for a node.
     *
     * @throws IllegalArgumentException if the op type is unknown or an attribute is unsupported;
     *                                  the message names the node
     */
    public static FloatKernel create(Node node, int opset) {
        KernelFactory f = REGISTRY.get(node.opType());
        if (f == null) {
            throw new IllegalArgumentException("no kernel for op " + node.opType() + " (node '" + node.name() + "')");
        }
        try {
            return f.create(node, opset);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("node '" + node.name() + "' (" + node.opType() + "): " + e.getMessage(), e);
        }
    }
}
