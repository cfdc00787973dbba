package dev.layerprobe.simulator.quant;

import dev.layerprobe.simulator.tensor.DType;

/**
 * What the quantizer writes: activations asymmetric per tensor in {@code activations}; weights
 * symmetric in {@code weights}, per output channel (axis 0 of Conv weights, of Gemm B when
 * transposed) or per tensor; biases int32 at scale {@code s_x * s_w}.
 */
public record QuantConfig(DType activations, DType weights, boolean perChannel) {
    public static final QuantConfig INT8 = new QuantConfig(DType.INT8, DType.INT8, true);
}
