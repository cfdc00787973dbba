package dev.layerprobe.simulator.kernels;

import dev.layerprobe.simulator.compiler.Placements;
import dev.layerprobe.simulator.compiler.Placements.NpuForm;
import java.util.Map;

/**
 * The supported-op table of the README, generated from the code: every op type registered in
 * {@link FloatKernels}, with its float kernel's notable limits and its int8 form on the emulated
 * NPU as the compiler binds it ({@link Placements}). Run {@link #main} to regenerate the table;
 * {@code SupportedOpsTest} fails when the README's copy is stale.
 */
public final class SupportedOps {
    /**
     * Limits of float kernels worth knowing before converting a model; ops not listed implement
     * the ONNX operator fully for the simulator's element types (no bfloat16, strings, sequences).
     */
    private static final Map<String, String> FLOAT_NOTES = Map.ofEntries(
            Map.entry("BatchNormalization", "inference mode only"),
            Map.entry("Dropout", "inference mode only (identity)"),
            Map.entry("Resize", "nearest, linear, cubic; all coordinate modes; no antialias or axes"),
            Map.entry("Upsample", "nearest, linear"),
            Map.entry("QuantizeLinear", "per tensor or per axis; no blocked quantization"),
            Map.entry("DequantizeLinear", "per tensor or per axis; no blocked quantization"),
            Map.entry("LpNormalization", "p = 1 or 2"));

    private SupportedOps() {
    }

    /** The table in GitHub markdown, one row per registered op, sorted by op type; ends with a newline. */
    public static String markdownTable() {
        StringBuilder b = new StringBuilder();
        b.append("| op | float kernel | int8 on NPU |\n");
        b.append("|---|---|---|\n");
        for (String op : FloatKernels.supportedOps()) {
            String note = FLOAT_NOTES.get(op);
            b.append("| ").append(op).append(" | ").append(note == null ? "yes" : "yes: " + note).append(" | ")
                    .append(npuNote(op)).append(" |\n");
        }
        return b.toString();
    }

    private static String npuNote(String op) {
        if (op.equals("QuantizeLinear") || op.equals("DequantizeLinear")) {
            // QDQ pairs are read into the program's quantization and removed before layers are built.
            return "absorbed into the quantization (QDQ import)";
        }
        NpuForm form = Placements.npuForm(op);
        return switch (form) {
            case INTEGER_KERNEL -> form.label() + (op.equals("Relu") || op.equals("Clip")
                    ? " (integer clamp, fused into the layer before)" : "");
            case LUT -> form.label() + " (256 entries)";
            case DATA_MOVEMENT -> op.equals("Resize") || op.equals("Upsample")
                    ? "resampling on codes (nearest exact; linear and cubic rounded to the nearest code)"
                    : op.equals("Pad") ? form.label() + " (pads with the zero point's code)" : form.label();
            default -> form.label();
        };
    }

    /** Prints {@link #markdownTable()}; paste the output between the README's op-table markers. */
    public static void main(String[] args) {
        System.out.print(markdownTable());
    }
}
