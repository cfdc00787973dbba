package dev.layerprobe.simulator.compiler;

import java.util.Set;

/**
 * Where each op runs in a quantized program and in which integer form, as decided by the
 * compiler's layer binding (DESIGN §6). This is the public view of that decision, for reports and
 * the generated op table; the binding itself stays in the compiler. Immutable and thread-safe.
 */
public final class Placements {
    /** The integer form of an op on the emulated device. */
    public enum NpuForm {
        /** A dedicated integer kernel: int32 accumulation and requantization. */
        INTEGER_KERNEL("integer kernel"),
        /** An int8 256-entry lookup table built from the float function. */
        LUT("LUT"),
        /** Codes moved without arithmetic, keeping scale and zero point (rescaled if they differ). */
        DATA_MOVEMENT("data movement"),
        /** The float kernel on the CPU between a dequantize and a quantize. */
        CPU_FALLBACK("CPU fallback");

        private final String label;

        NpuForm(String label) {
            this.label = label;
        }

        /** Short human-readable name, as used in the op table. */
        public String label() {
            return label;
        }
    }

    private Placements() {
    }

    /** Op types with an integer form on the NPU (the rest run on the CPU in quantized programs). */
    public static Set<String> npuOps() {
        return QuantizedLayers.npuOps();
    }

    /** The integer form an op gets in a quantized program (when its quantization is complete). */
    public static NpuForm npuForm(String opType) {
        if (!QuantizedLayers.isNpuOp(opType)) {
            return NpuForm.CPU_FALLBACK;
        }
        if (QuantizedLayers.dataMovementOps().contains(opType)) {
            return NpuForm.DATA_MOVEMENT;
        }
        if (QuantizedLayers.lutOps().contains(opType)) {
            return NpuForm.LUT;
        }
        return NpuForm.INTEGER_KERNEL;
    }
}
