package dev.layerprobe.simulator.kernels;

import dev.layerprobe.simulator.ops.OpTraits;

/**
 * The supported-op tables of the README, generated from the code: every op type registered in
 * {@link FloatKernels}, with its float kernel's notable limits and its int8 form on the emulated
 * NPU, then the activation patterns the compiler fuses into one layer, both as {@link OpTraits}
 * states them. Ops without a float note implement the ONNX operator fully for the simulator's
 * element types (no bfloat16, strings, sequences). Run {@link #main} to regenerate the tables;
 * {@code SupportedOpsTest} fails when the README's copy is stale.
 */
public final class SupportedOps {
    private SupportedOps() {}

    /**
     * The op table in GitHub markdown, one row per registered op sorted by op type, then the fused
     * patterns in the table's order; ends with a newline.
     */
    public static String markdownTable() {
        StringBuilder b = new StringBuilder();
        b.append("| op | float kernel | int8 on NPU |\n");
        b.append("|---|---|---|\n");
        for (String op : FloatKernels.supportedOps()) {
            OpTraits.Op t = OpTraits.of(op);
            b.append("| ")
                    .append(op)
                    .append(" | ")
                    .append(t.floatNote() == null ? "yes" : "yes: " + t.floatNote())
                    .append(" | ")
                    .append(t.npuCell())
                    .append(" |\n");
        }
        b.append("\nActivations spelt out as elementwise nodes, which the compiler makes one layer (named as below in"
                + " `plan`):\n\n");
        b.append("| pattern | computes | usual spelling | int8 on NPU |\n");
        b.append("|---|---|---|---|\n");
        for (OpTraits.Pattern p : OpTraits.patterns()) {
            b.append("| ")
                    .append(p.name())
                    .append(" | `")
                    .append(p.formula())
                    .append("` | ")
                    .append(String.join(", ", p.spelling()))
                    .append(" | ")
                    .append(p.traits().npuCell())
                    .append(" |\n");
        }
        return b.toString();
    }

    /** Prints {@link #markdownTable()}; paste the output between the README's op-table markers. */
    public static void main(String[] args) {
        System.out.print(markdownTable());
    }
}
