package dev.layerprobe.simulator;

import dev.layerprobe.core.tensor.QuantParams;
import dev.layerprobe.simulator.quant.LayerPrecision;
import java.util.List;
import java.util.Map;

/**
 * One layer of an NPU program: what the device materialises. It is named by the ONNX name of its
 * (first) output tensor; when nodes were fused (Conv+Relu), that is the last fused node's output
 * and {@link #fusedNodes()} lists every ONNX node it covers.
 *
 * @param index       position in execution order, from 0
 * @param name        ONNX name of the primary output tensor
 * @param op          ONNX op type of the main node (Conv for Conv+Relu)
 * @param inputs      runtime input tensor names (constants excluded)
 * @param outputs     output tensor names; the first is {@code name}
 * @param fusedNodes  the ONNX node names this layer covers
 * @param fusedOps    op types of the fused nodes after the main one (e.g. [Relu])
 * @param attributes  the main node's attributes, for display
 * @param placement   NPU or CPU
 * @param outputQuant the quantization of the output, or null for a float layer
 * @param precision   what the layer computes in: its output's integer type, FP16 (binary16 values
 *                    held in float32 tensors) or FLOAT32
 */
public record Layer(
        int index,
        String name,
        String op,
        List<String> inputs,
        List<String> outputs,
        List<String> fusedNodes,
        List<String> fusedOps,
        Map<String, String> attributes,
        Placement placement,
        QuantParams outputQuant,
        LayerPrecision precision) {

    /** A layer whose precision follows from its output quantization: its integer type, else FLOAT32. */
    public Layer(
            int index,
            String name,
            String op,
            List<String> inputs,
            List<String> outputs,
            List<String> fusedNodes,
            List<String> fusedOps,
            Map<String, String> attributes,
            Placement placement,
            QuantParams outputQuant) {
        this(
                index,
                name,
                op,
                inputs,
                outputs,
                fusedNodes,
                fusedOps,
                attributes,
                placement,
                outputQuant,
                outputQuant == null ? LayerPrecision.FLOAT32 : LayerPrecision.of(outputQuant.type()));
    }

    /** "Conv+Relu" for a fused layer, the op alone otherwise. */
    public String opLabel() {
        return fusedOps.isEmpty() ? op : op + "+" + String.join("+", fusedOps);
    }
}
