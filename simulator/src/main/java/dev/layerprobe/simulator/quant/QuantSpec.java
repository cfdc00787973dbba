package dev.layerprobe.simulator.quant;

import dev.layerprobe.simulator.tensor.QTensor;
import dev.layerprobe.simulator.tensor.QuantParams;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;

/**
 * The quantization a QDQ model carries, once its QuantizeLinear/DequantizeLinear nodes are
 * removed: activation parameters by tensor name, and the integer codes of quantized constants
 * (weights, biases) by the name of the float constant that replaced them.
 */
public final class QuantSpec {
    private final Map<String, QuantParams> activations = new HashMap<>();
    private final Map<String, QTensor> constants = new HashMap<>();

    public boolean isQuantized() {
        return !activations.isEmpty() || !constants.isEmpty();
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

    void putActivation(String tensor, QuantParams q) {
        activations.put(tensor, q);
    }

    void putConstant(String tensor, QTensor codes) {
        constants.put(tensor, codes);
    }

    void renameActivation(String from, String to) {
        QuantParams q = activations.remove(from);
        if (q != null) {
            activations.put(to, q);
        }
    }
}
