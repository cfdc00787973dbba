package dev.layerprobe.simulator.ops;

import static dev.layerprobe.simulator.profile.FaultKind.ACCUMULATOR_INT16_WRAP;
import static dev.layerprobe.simulator.profile.FaultKind.DEPTH_TO_SPACE_MODE_SWAP;
import static dev.layerprobe.simulator.profile.FaultKind.DROP_BIAS;
import static dev.layerprobe.simulator.profile.FaultKind.INPUT_CHANNEL_SWAP;
import static dev.layerprobe.simulator.profile.FaultKind.LUT_COARSE;
import static dev.layerprobe.simulator.profile.FaultKind.MATMUL_TRANSPOSE_B;
import static dev.layerprobe.simulator.profile.FaultKind.REQUANT_SHIFT_OFF_BY_ONE;
import static dev.layerprobe.simulator.profile.FaultKind.RNN_GATE_ORDER;
import static dev.layerprobe.simulator.profile.FaultKind.SOFTMAX_NO_MAX_SUBTRACT;
import static dev.layerprobe.simulator.profile.FaultKind.ZERO_POINT_IGNORED;

import dev.layerprobe.simulator.profile.FaultKind;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.DoubleUnaryOperator;

/**
 * What the emulated NPU makes of each ONNX op type and of each activation pattern the compiler
 * fuses, in one table: the form of its layers in a quantized program, whether its output keeps its
 * input's quantization, the profile faults that apply to it, the fusions it takes part in, and the
 * notes of the README's op table. The compiler's layer binding and fusion, the QDQ writer, fault
 * checking, placements, the generated op table and the host's diagnosis all read it, so an op's
 * NPU facts are one row here (a new integer kernel still needs its binding in the compiler, and a
 * test checks that the binding agrees with the row). Ops without a row run on the CPU in quantized
 * programs and take no part in fusion. Immutable and thread-safe.
 */
public final class OpTraits {
    /**
     * The NPU facts of an op type, or of a fused pattern as the op of its layer.
     *
     * @param name              the ONNX op type, or the pattern's name
     * @param form              the form of its layers in a quantized program
     * @param ownOutputQuant    for a data-movement op whose output is quantized for itself rather
     *                          than with its input's scale and zero point, why; null when it keeps
     *                          them (and for every other form, whose output has its own range)
     * @param faults            the profile faults that can be placed on its layers (besides those
     *                          that apply to any op, {@link #faultApplies})
     * @param patternMember     whether it can be one of the elementwise nodes of a spelt-out
     *                          activation ({@link #patterns()})
     * @param absorbsActivation whether a Relu or Clip right after it joins its layer
     * @param floatNote         the float kernel's limit worth knowing, or null for the full operator
     * @param npuNote           the op table's text for its quantized form, or null for the form's own
     */
    public record Op(
            String name,
            NpuForm form,
            String ownOutputQuant,
            Set<FaultKind> faults,
            boolean patternMember,
            boolean absorbsActivation,
            String floatNote,
            String npuNote) {
        public Op {
            faults = Collections.unmodifiableSet(
                    faults.isEmpty() ? EnumSet.noneOf(FaultKind.class) : EnumSet.copyOf(faults));
        }

        /**
         * Whether the QDQ writer gives its output its input's scale and zero point (when the input
         * has the output's type), so the NPU moves codes exactly instead of rescaling them.
         */
        public boolean keepsInputQuant() {
            return form == NpuForm.DATA_MOVEMENT && ownOutputQuant == null;
        }

        /** Whether its int8 layers run as a lookup table over every input code. */
        public boolean lutEligible() {
            return form == NpuForm.LUT;
        }

        /** The op table's cell for the quantized form. */
        public String npuCell() {
            return npuNote != null ? npuNote : form.cell();
        }

        Op member() {
            return new Op(name, form, ownOutputQuant, faults, true, absorbsActivation, floatNote, npuNote);
        }

        Op absorbing() {
            return new Op(name, form, ownOutputQuant, faults, patternMember, true, floatNote, npuNote);
        }

        Op ownQuant(String why) {
            return new Op(name, form, why, faults, patternMember, absorbsActivation, floatNote, npuNote);
        }

        Op floatLimit(String note) {
            return new Op(name, form, ownOutputQuant, faults, patternMember, absorbsActivation, note, npuNote);
        }

        Op npuText(String note) {
            return new Op(name, form, ownOutputQuant, faults, patternMember, absorbsActivation, floatNote, note);
        }
    }

    /**
     * An activation that exporters spell out as elementwise nodes of one tensor and the compiler
     * makes one layer of, named {@code name}, recognised by sampling the nodes against
     * {@code function}; a quantized program runs it as a lookup table ({@link NpuForm#LUT}).
     *
     * @param formula  the function as written in the op table
     * @param spelling the op types of its usual spelling, in graph order (any spelling of elementwise
     *                 {@link Op#patternMember()} ops that computes the function is recognised)
     */
    public record Pattern(String name, String formula, List<String> spelling, DoubleUnaryOperator function) {
        public Pattern {
            spelling = List.copyOf(spelling);
        }

        /** The facts of a layer this pattern makes. */
        public Op traits() {
            return lut(name);
        }
    }

    /** The op table's text of the recurrent ops' integer form, before their outputs. */
    private static final String RECURRENT =
            "integer kernel (int8 weights per gate row, Q3.12 gates by interpolated table, int16 or int8 state";

    /** Faults of the layer's input read, whatever the op computes with it. */
    private static final Set<FaultKind> ANY_OP = EnumSet.of(INPUT_CHANNEL_SWAP);

    private static final List<Op> OPS = List.of(
            // Integer kernels. Their faults are those of the arithmetic each has: a bias and a wide
            // accumulator (Conv, Gemm), a requantization, a subtracted input zero point.
            kernel("Conv", DROP_BIAS, REQUANT_SHIFT_OFF_BY_ONE, ACCUMULATOR_INT16_WRAP, ZERO_POINT_IGNORED)
                    .absorbing(),
            kernel("Gemm", DROP_BIAS, REQUANT_SHIFT_OFF_BY_ONE, ACCUMULATOR_INT16_WRAP, ZERO_POINT_IGNORED)
                    .absorbing(),
            kernel("Add", REQUANT_SHIFT_OFF_BY_ONE, ZERO_POINT_IGNORED)
                    .absorbing()
                    .member(),
            kernel("Sub", REQUANT_SHIFT_OFF_BY_ONE, ZERO_POINT_IGNORED).member(),
            // The binding emulates zero_point_ignored for the sums and the accumulations, not for Mul.
            kernel("Mul", REQUANT_SHIFT_OFF_BY_ONE).member(),
            kernel("GlobalAveragePool", REQUANT_SHIFT_OFF_BY_ONE, ZERO_POINT_IGNORED),
            kernel("Relu").member().npuText("integer kernel (integer clamp, fused into the layer before)"),
            kernel("Clip").member().npuText("integer kernel (integer clamp, fused into the layer before)"),
            kernel("Concat"),
            // Transformer layers (TransformerLayers); with requant: float they stay ONNX Runtime's CPU kernels.
            kernel("MatMul", MATMUL_TRANSPOSE_B)
                    .absorbing()
                    .npuText(
                            "integer kernel (int32 accumulation; constant weights per output channel, bias Add fused)"),
            kernel("Softmax", SOFTMAX_NO_MAX_SUBTRACT)
                    .npuText("integer kernel (exp table over code differences, one reciprocal per row)"),
            kernel("LayerNormalization")
                    .npuText(
                            "integer kernel (statistics on codes, fixed-point 1/sqrt; also spelt out as ReduceMean ... Add)"),
            // Recurrent layers (RecurrentLayers), one layer with outputs Y, Y_h (and Y_c); with
            // requant: float, or an activation without a table, they run in float on the CPU.
            kernel("LSTM", RNN_GATE_ORDER).npuText(RECURRENT + "; outputs Y, Y_h, Y_c)"),
            kernel("GRU", RNN_GATE_ORDER).npuText(RECURRENT + "; outputs Y, Y_h)"),
            kernel("RNN").npuText(RECURRENT + "; outputs Y, Y_h)"),

            // Data movement: output values are input values, so the input's scale and zero point fit.
            move("DepthToSpace", DEPTH_TO_SPACE_MODE_SWAP),
            move("SpaceToDepth"),
            move("Flatten"),
            move("Reshape"),
            move("Transpose"),
            move("Squeeze"),
            move("Unsqueeze"),
            move("Identity"),
            move("MaxPool"),
            move("GlobalMaxPool"),
            move("Slice"),
            move("Gather"),
            move("Expand"),
            move("Tile"),
            // A pad value outside the input's range is clamped to it, as ONNX Runtime's quantizer does.
            move("Pad").npuText("data movement (pads with the zero point's code)"),
            move("Resize")
                    .ownQuant("cubic interpolation overshoots the input's range and tf_crop_and_resize"
                            + " writes extrapolation_value, so the output is calibrated for itself")
                    .floatLimit("nearest, linear, cubic; all coordinate modes; no antialias or axes")
                    .npuText("resampling on codes (nearest exact; linear and cubic rounded to the nearest code)"),
            move("Upsample")
                    .ownQuant("written as Resize (opset 11), quantized as Resize is")
                    .floatLimit("nearest, linear")
                    .npuText("resampling on codes (nearest exact; linear and cubic rounded to the nearest code)"),

            // Unary nonlinear ops: a table over the 256 input codes.
            lut("Tanh").member(),
            lut("Sigmoid").member(),
            lut("HardSigmoid").member(),
            lut("HardSwish"),
            lut("Exp").member(),
            lut("Erf").member(),
            lut("LeakyRelu"),
            lut("Elu"),
            lut("Softplus").member(),
            lut("Log").member(),
            lut("Sqrt").member(),
            lut("Reciprocal"),
            lut("Neg").member(),
            lut("Abs").member(),
            // The ONNX ops of the Gelu and Mish patterns (opsets 20 and 18): the same layer either way.
            lut("Gelu"),
            lut("Mish"),

            // On the CPU, with a part in fusion or a note.
            cpu("Div").member(),
            cpu("Pow").member(),
            cpu("Min").member(),
            cpu("Max").member(),
            cpu("ConvTranspose").absorbing(),
            // Its outputs are several, and the binding takes one-output layers only.
            cpu("Split").npuText("CPU fallback (several outputs)"),
            cpu("BatchNormalization").floatLimit("inference mode only"),
            cpu("Dropout").floatLimit("inference mode only (identity)"),
            cpu("LpNormalization").floatLimit("p = 1 or 2"),
            // Control flow is decided on the CPU. An If's branch layers are layers of the program, bound
            // like any other; Loop and Scan bodies stay float32 (in QDQ files too).
            cpu("If")
                    .floatLimit("tensor values only (no sequence or optional types)")
                    .npuText("decided on the CPU; branch layers compiled like any other (Conv etc. on the NPU)"),
            cpu("Loop")
                    .floatLimit("tensor values only (no sequence or optional types)")
                    .npuText("CPU fallback; body float32"),
            cpu("Scan")
                    .floatLimit("tensor values only; opset 8 form with full sequence lengths only")
                    .npuText("CPU fallback; body float32"),
            // QDQ pairs are read into the program's quantization and removed before layers are built.
            cpu("QuantizeLinear")
                    .floatLimit("per tensor or per axis; no blocked quantization")
                    .npuText("absorbed into the quantization (QDQ import)"),
            cpu("DequantizeLinear")
                    .floatLimit("per tensor or per axis; no blocked quantization")
                    .npuText("absorbed into the quantization (QDQ import)"));

    /** The closest function to the sampled nodes names the layer; of equally close ones, the first. */
    private static final List<Pattern> PATTERNS = List.of(
            new Pattern(
                    "HardSwish",
                    "x * clip(x + 3, 0, 6) / 6",
                    List.of("Add", "Clip", "Mul", "Div"),
                    x -> x * Math.min(Math.max(x + 3, 0), 6) / 6),
            new Pattern(
                    "HardSigmoid",
                    "clip(x / 6 + 0.5, 0, 1)",
                    List.of("Div", "Add", "Clip"),
                    x -> Math.min(Math.max(x / 6 + 0.5, 0), 1)),
            new Pattern(
                    "Gelu",
                    "0.5 * x * (1 + erf(x / sqrt 2))",
                    List.of("Div", "Erf", "Add", "Mul", "Mul"),
                    x -> 0.5 * x * (1 + erf(x / Math.sqrt(2)))),
            new Pattern(
                    "GeluTanh",
                    "0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x^3)))",
                    List.of("Pow", "Mul", "Add", "Mul", "Tanh", "Add", "Mul", "Mul"),
                    x -> 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)))),
            new Pattern("SiLU", "x * sigmoid(x)", List.of("Sigmoid", "Mul"), x -> x / (1 + Math.exp(-x))),
            new Pattern(
                    "Mish",
                    "x * tanh(softplus(x))",
                    List.of("Softplus", "Tanh", "Mul"),
                    x -> x * Math.tanh(Math.log1p(Math.exp(x)))));

    /** Op rows, then the layers of patterns whose name is no op type. */
    private static final Map<String, Op> BY_NAME = new LinkedHashMap<>();

    static {
        for (Op o : OPS) {
            if (BY_NAME.put(o.name(), o) != null) {
                throw new ExceptionInInitializerError("two rows for op " + o.name());
            }
        }
        for (Pattern p : PATTERNS) {
            BY_NAME.putIfAbsent(p.name(), p.traits());
        }
    }

    private OpTraits() {}

    /** The facts of a layer whose op is this op type or pattern name; a CPU op without a row for any other. */
    public static Op of(String opOrPattern) {
        Op o = BY_NAME.get(opOrPattern);
        return o != null ? o : cpu(opOrPattern);
    }

    /** The op types with a row, in table order. */
    public static List<Op> ops() {
        return OPS;
    }

    /** The fused activation patterns, in the order their names are tried. */
    public static List<Pattern> patterns() {
        return PATTERNS;
    }

    /** Whether a fault of this kind can be placed on a layer of this op type or pattern. */
    public static boolean faultApplies(FaultKind kind, String opOrPattern) {
        return ANY_OP.contains(kind) || of(opOrPattern).faults().contains(kind);
    }

    /** The ops and patterns a fault kind applies to, in table order; {@code ["*"]} for any op. */
    public static List<String> faultTargets(FaultKind kind) {
        if (ANY_OP.contains(kind)) {
            return List.of("*");
        }
        List<String> out = new ArrayList<>();
        BY_NAME.values().stream().filter(o -> o.faults().contains(kind)).forEach(o -> out.add(o.name()));
        return List.copyOf(out);
    }

    private static Op kernel(String name, FaultKind... faults) {
        return new Op(name, NpuForm.INTEGER_KERNEL, null, Set.of(faults), false, false, null, null);
    }

    private static Op move(String name, FaultKind... faults) {
        return new Op(name, NpuForm.DATA_MOVEMENT, null, Set.of(faults), false, false, null, null);
    }

    /** Every table can be coarse: the binding builds each one through the same faulted path. */
    private static Op lut(String name) {
        return new Op(name, NpuForm.LUT, null, Set.of(LUT_COARSE), false, false, null, null);
    }

    private static Op cpu(String name) {
        return new Op(name, NpuForm.CPU_FALLBACK, null, Set.of(), false, false, null, null);
    }

    /** erf to about 1e-7 (Abramowitz and Stegun 7.1.26), enough to recognise a Gelu. */
    static double erf(double x) {
        double t = 1 / (1 + 0.3275911 * Math.abs(x));
        double y = 1
                - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592)
                        * t
                        * Math.exp(-x * x);
        return x >= 0 ? y : -y;
    }
}
