package dev.layerprobe.simulator.profile;

/**
 * How an int32 accumulator is scaled to the output's codes.
 * <ul>
 *   <li>{@code FIXED}: multiplier as a Q31 mantissa and a right shift, rounding half away from
 *       zero, all in integers: what NPUs do (the default).</li>
 *   <li>{@code FLOAT}: {@code round_half_to_even(acc * M)} with M in float32: what ONNX Runtime's
 *       QLinear kernels do, for cross-checks against ORT.</li>
 * </ul>
 */
public enum RequantMode {
    FIXED,
    FLOAT
}
