package dev.layerprobe.simulator.quant;

import dev.layerprobe.core.tensor.QTensor;
import dev.layerprobe.core.tensor.QuantParams;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * The quantization a QDQ model carries, once its QuantizeLinear/DequantizeLinear and marker Cast
 * nodes are removed ({@link QdqImport}): integer activation parameters by tensor name; the integer
 * codes of quantized constants (weights, biases) by the name of the float constant that replaced
 * them; the layer outputs computed in fp16; and the layer outputs computed in float32 on purpose
 * (a hybrid model's float layers whose outputs still feed quantized consumers).
 *
 * <p>A tensor can be both fp16 (or float32) and have integer parameters: its producer computes in
 * fp16 (float32) and integer consumers read it quantized with those parameters.
 */
public final class QuantSpec {
    private final Map<String, QuantParams> activations = new HashMap<>();
    private final Map<String, QTensor> constants = new HashMap<>();
    private final Set<String> fp16 = new HashSet<>();
    private final Set<String> float32 = new HashSet<>();

    /** Whether the model runs in device precision: any integer quantization or any fp16 layer. */
    public boolean isQuantized() {
        return !activations.isEmpty() || !constants.isEmpty() || !fp16.isEmpty();
    }

    public QuantParams activation(String tensor) {
        return activations.get(tensor);
    }

    public QTensor constantCodes(String tensor) {
        return constants.get(tensor);
    }

    public Map<String, QuantParams> activations() {
        return Collections.unmodifiableMap(activations);
    }

    /** Whether the tensor is the output of a layer computed in fp16 (marked by a Cast pair). */
    public boolean isFp16(String tensor) {
        return fp16.contains(tensor);
    }

    /** Tensors computed in fp16. */
    public Set<String> fp16Tensors() {
        return Collections.unmodifiableSet(fp16);
    }

    /** Whether the tensor is the output of a layer marked to compute in float32 on the CPU. */
    public boolean isFloat32(String tensor) {
        return float32.contains(tensor);
    }

    void putActivation(String tensor, QuantParams q) {
        activations.put(tensor, q);
    }

    void putConstant(String tensor, QTensor codes) {
        constants.put(tensor, codes);
    }

    void markFp16(String tensor) {
        fp16.add(tensor);
    }

    void markFloat32(String tensor) {
        float32.add(tensor);
    }

    void renameActivation(String from, String to) {
        QuantParams q = activations.remove(from);
        if (q != null) {
            activations.put(to, q);
        }
    }

    /** Moves every record of a tensor (parameters, fp16, float32) to another name. */
    void renameTensor(String from, String to) {
        renameActivation(from, to);
        if (fp16.remove(from)) {
            fp16.add(to);
        }
        if (float32.remove(from)) {
            float32.add(to);
        }
    }
}
