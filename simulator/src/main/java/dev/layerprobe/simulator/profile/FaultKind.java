package dev.layerprobe.simulator.profile;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** Deliberate device bugs an emulated device can carry (DESIGN §7), by their YAML names. */
public enum FaultKind {
    /** DepthToSpace computed with the other mode: CRD read as DCR and vice versa. */
    DEPTH_TO_SPACE_MODE_SWAP("DepthToSpace"),
    /** Conv/Gemm computed without its bias (accumulator bias 0). */
    DROP_BIAS("Conv", "Gemm"),
    /** The requantization shift one bit too far right: the scaled output is halved. */
    REQUANT_SHIFT_OFF_BY_ONE("Conv", "Gemm", "Add", "Sub", "Mul", "GlobalAveragePool"),
    /** The accumulator wraps at 16 bits ((short) of the int32 sum) before requantization. */
    ACCUMULATOR_INT16_WRAP("Conv", "Gemm"),
    /** The layer reads its first input with the channels (axis 1) reversed: RGB read as BGR. Any op. */
    INPUT_CHANNEL_SWAP(),
    /** The input zero point is taken as 0: codes enter the arithmetic without subtracting zp_x. */
    ZERO_POINT_IGNORED("Conv", "Gemm", "Add", "Sub", "GlobalAveragePool"),
    /** Lookup-table ops use a 16-entry table (input code >> 4 for int8) instead of one entry per code. */
    LUT_COARSE("Tanh", "Sigmoid", "HardSigmoid", "HardSwish", "Exp", "Erf", "LeakyRelu", "Elu", "Softplus", "Log",
            "Sqrt", "Reciprocal", "Neg", "Abs", "Gelu", "GeluTanh", "SiLU", "Mish");

    private final String[] ops;

    FaultKind(String... ops) {
        this.ops = ops;
    }

    /** The name used in profiles and on the wire. */
    public String yamlName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The op types this fault can apply to; {@code ["*"]} for a fault that applies to any op. */
    public String[] ops() {
        return ops.length == 0 ? new String[] {"*"} : ops.clone();
    }

    public boolean appliesTo(String opType) {
        return ops.length == 0 || Arrays.asList(ops).contains(opType);
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
