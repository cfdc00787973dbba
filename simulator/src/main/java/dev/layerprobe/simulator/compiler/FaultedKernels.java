package dev.layerprobe.simulator.compiler;

import dev.layerprobe.core.tensor.Channels;
import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.core.tensor.QuantParams;
import dev.layerprobe.simulator.LayerExec;
import dev.layerprobe.simulator.kernels.quantized.QLut;
import dev.layerprobe.simulator.kernels.quantized.Requantizer;
import dev.layerprobe.simulator.profile.Fault;
import dev.layerprobe.simulator.profile.FaultKind;
import java.util.List;

/**
 * The profile faults of docs/architecture.md#device-profiles-and-faults that change the integer arithmetic of an NPU layer, as the
 * configuration {@link QuantizedLayers} hands to the integer kernels: a zeroed bias, a shifted
 * requantizer, a 16-bit accumulator, an input zero point of 0, a coarse lookup table, channel-
 * reversed input, a MatMul's B read transposed, recurrent gate
 * blocks in PyTorch's order. With no fault of a kind every method returns its
 * argument unchanged, so fault-free numerics are untouched. ({@code depth_to_space_mode_swap}
 * rewrites the node instead, in {@link NpuCompiler#withFaults}.)
 */
final class FaultedKernels {
    /** Entries of the coarse table of {@code lut_coarse}. */
    static final int COARSE_LUT_ENTRIES = 16;

    private final List<Fault> faults;

    FaultedKernels(List<Fault> faults) {
        this.faults = faults;
    }

    boolean has(FaultKind kind) {
        return faults.stream().anyMatch(f -> f.kind() == kind);
    }

    /** Whether a fault changes a Conv/Gemm's integer arithmetic (so the layer must use the integer kernel). */
    boolean changesAccumulation() {
        return has(FaultKind.DROP_BIAS)
                || has(FaultKind.REQUANT_SHIFT_OFF_BY_ONE)
                || has(FaultKind.ACCUMULATOR_INT16_WRAP)
                || has(FaultKind.ZERO_POINT_IGNORED);
    }

    /** drop_bias: the accumulator starts at 0 instead of the bias. */
    long[] bias(long[] bias) {
        return has(FaultKind.DROP_BIAS) ? new long[bias.length] : bias;
    }

    /**
     * zero_point_ignored for Conv/Gemm: the device pads with the zero-point code as it should but
     * never subtracts {@code zp_x}, so every output of channel c gains
     * {@code zp_x * Σ (w - zp_w[c])} in the accumulator, folded here into the bias.
     *
     * @param weights weight codes, output channel major ({@code perChannel} codes per channel)
     */
    long[] zeroPointBias(long[] bias, QuantParams xq, int[] weights, int[] weightZero, int perChannel) {
        if (!has(FaultKind.ZERO_POINT_IGNORED)) {
            return bias;
        }
        long zx = xq.zeroPoint(0);
        long[] out = bias.clone();
        for (int c = 0; c < out.length; c++) {
            long sum = 0;
            for (int i = 0; i < perChannel; i++) {
                sum += weights[c * perChannel + i] - weightZero[c];
            }
            out[c] += zx * sum;
        }
        return out;
    }

    /** zero_point_ignored for Add/Sub/GlobalAveragePool: the input quantization with zero point 0. */
    QuantParams inputForArithmetic(QuantParams q) {
        return has(FaultKind.ZERO_POINT_IGNORED) ? QuantParams.perTensor(q.type(), q.scale(0), 0) : q;
    }

    /** requant_shift_off_by_one: the extra right shift of the requantization (1, or 0 without the fault). */
    int shiftDelta() {
        return has(FaultKind.REQUANT_SHIFT_OFF_BY_ONE) ? 1 : 0;
    }

    Requantizer[] requantizers(Requantizer[] rq) {
        int d = shiftDelta();
        if (d == 0) {
            return rq;
        }
        Requantizer[] out = new Requantizer[rq.length];
        for (int i = 0; i < rq.length; i++) {
            out[i] = rq[i].withShiftDelta(d);
        }
        return out;
    }

    /** rnn_gate_order: W, R and B's gate blocks read in PyTorch's order. */
    boolean pytorchGateOrder() {
        return has(FaultKind.RNN_GATE_ORDER);
    }

    /** accumulator_int16_wrap. */
    boolean wrapInt16() {
        return has(FaultKind.ACCUMULATOR_INT16_WRAP);
    }

    /** lut_coarse: a 16-entry table. */
    QLut lut(QLut lut) {
        return has(FaultKind.LUT_COARSE) ? lut.coarse(COARSE_LUT_ENTRIES) : lut;
    }

    /** matmul_transpose_b: the MatMul reads B as if its buffer held Bᵀ ({@link FaultKind#MATMUL_TRANSPOSE_B}). */
    boolean transposedB() {
        return has(FaultKind.MATMUL_TRANSPOSE_B);
    }

    /** input_channel_swap: the layer reads its first input with axis 1 reversed. */
    LayerExec inputs(LayerExec exec) {
        if (!has(FaultKind.INPUT_CHANNEL_SWAP)) {
            return exec;
        }
        return args -> {
            LayerValue[] swapped = args.clone();
            if (swapped.length > 0 && swapped[0] != null) {
                swapped[0] = Channels.reverse(swapped[0]);
            }
            return exec.run(swapped);
        };
    }
}
