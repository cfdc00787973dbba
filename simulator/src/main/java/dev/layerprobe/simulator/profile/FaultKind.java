package dev.layerprobe.simulator.profile;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Deliberate device bugs an emulated device can carry (docs/architecture.md#device-profiles-and-faults), by their YAML names. Which op
 * types each kind can be placed on is stated per op, in
 * {@link dev.layerprobe.simulator.ops.OpTraits#faultApplies}.
 */
public enum FaultKind {
    /** DepthToSpace computed with the other mode: CRD read as DCR and vice versa. */
    DEPTH_TO_SPACE_MODE_SWAP,
    /** Conv/Gemm computed without its bias (accumulator bias 0). */
    DROP_BIAS,
    /** The requantization shift one bit too far right: the scaled output is halved. */
    REQUANT_SHIFT_OFF_BY_ONE,
    /** The accumulator wraps at 16 bits ((short) of the int32 sum) before requantization. */
    ACCUMULATOR_INT16_WRAP,
    /** The layer reads its first input with the channels (axis 1) reversed: RGB read as BGR. Any op. */
    INPUT_CHANNEL_SWAP,
    /** The input zero point is taken as 0: codes enter the arithmetic without subtracting zp_x. */
    ZERO_POINT_IGNORED,
    /** Lookup-table ops use a 16-entry table (input code >> 4 for int8) instead of one entry per code. */
    LUT_COARSE,
    /**
     * Softmax exponentiates the codes without subtracting the row maximum: {@code exp(s_x (x - zp_x))}
     * in Q16 saturates at 2^31 - 1, so the large logits of a row all get the same share.
     */
    SOFTMAX_NO_MAX_SUBTRACT,
    /**
     * The integer MatMul reads its B operand transposed: for B of logical shape {@code [..., K, N]}
     * stored row-major, element {@code (k, n)} of each matrix is read at flat offset
     * {@code n * K + k} of that matrix, as if the buffer held Bᵀ row-major; any K and N, for a
     * constant weight (with its fused bias) and for two activations (Q·Kᵀ, attention·V). It models
     * the compiler layout bug where the compiler and the kernel disagree on whether B is stored
     * {@code [K, N]} or transposed {@code [N, K]} (a {@code transB} lost, or applied twice, when a
     * MatMul is lowered to a fully connected or Gemm kernel), so nothing fails and only the values
     * are wrong.
     */
    MATMUL_TRANSPOSE_B,
    /**
     * LSTM/GRU read the gate blocks of W, R and B in PyTorch's order (i, f, g, o; r, z, n) instead
     * of ONNX's (i, o, f, c; z, r, h). RNN has one gate and no such fault.
     */
    RNN_GATE_ORDER;

    /** The name used in profiles and on the wire. */
    public String yamlName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static FaultKind parse(String s) {
        for (FaultKind k : values()) {
            if (k.yamlName().equals(s)) {
                return k;
            }
        }
        throw new IllegalArgumentException("unknown fault kind '" + s + "', expected one of " + names());
    }

    public static String names() {
        return Arrays.stream(values()).map(FaultKind::yamlName).collect(Collectors.joining(", ", "[", "]"));
    }
}
