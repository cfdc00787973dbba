package dev.layerprobe.simulator.ops;

/**
 * The form a layer of an op takes in a quantized program on the emulated NPU, when its
 * quantization is complete (per-tensor activations on every input and on its one output); a layer
 * whose quantization is incomplete runs on the CPU whatever its op.
 */
public enum NpuForm {
    /** A dedicated integer kernel: int32 accumulation and requantization. */
    INTEGER_KERNEL("integer kernel", "integer kernel"),
    /** An int8 256-entry lookup table built from the float function. */
    LUT("LUT", "LUT (256 entries)"),
    /** Codes moved without arithmetic, keeping scale and zero point (rescaled if they differ). */
    DATA_MOVEMENT("data movement", "data movement"),
    /** The float kernel on the CPU between a dequantize and a quantize. */
    CPU_FALLBACK("CPU fallback", "CPU fallback");

    private final String label;
    private final String cell;

    NpuForm(String label, String cell) {
        this.label = label;
        this.cell = cell;
    }

    /** Short human-readable name. */
    public String label() {
        return label;
    }

    /** The op table's text for an op of this form that has no note of its own. */
    String cell() {
        return cell;
    }

    /** Whether a layer of this form runs on the NPU. */
    public boolean onNpu() {
        return this != CPU_FALLBACK;
    }
}
