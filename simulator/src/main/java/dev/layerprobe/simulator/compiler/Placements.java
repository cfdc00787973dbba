package dev.layerprobe.simulator.compiler;

import dev.layerprobe.simulator.Placement;
import dev.layerprobe.simulator.ops.OpTraits;

/**
 * Where the compiler places a layer of each op type or fused pattern in a quantized program whose
 * quantization of that layer is complete: on the NPU for every op with an integer form in
 * {@link OpTraits} (integer kernel, lookup table, data movement), on the CPU otherwise. A float
 * program's plan shows the same placement. This is the public view of that decision, for plans and
 * reports; the binding itself stays in the compiler. Immutable and thread-safe.
 */
public final class Placements {
    private Placements() {}

    /** The placement of a layer whose op is this op type or pattern name. */
    public static Placement placement(String opOrPattern) {
        return OpTraits.of(opOrPattern).form().onNpu() ? Placement.NPU : Placement.CPU;
    }
}
