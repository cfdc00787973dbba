package dev.layerprobe.simulator.kernels;

import dev.layerprobe.simulator.graph.Node;
import java.util.Collections;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The float32 kernels, one class per ONNX operator, registered here by op type. Conventions for
 * every kernel: NCHW layout for images, C-order data, float32 arithmetic (accumulation in float32
 * unless a kernel says otherwise), numpy broadcasting where ONNX allows it.
 */
public final class FloatKernels {
    private static final Map<String, KernelFactory> REGISTRY = new TreeMap<>();

    static {
        // Registered by op type; each factory reads and checks the node's attributes.
        register("Conv", ConvNdKernel::create);
        register("Gemm", GemmKernel::create);
        register("MatMul", MatMulKernel::create);
        register("Clip", ClipKernel::create);
        register("GlobalAveragePool", GlobalPoolKernel::average);
        register("GlobalMaxPool", GlobalPoolKernel::max);
        register("Flatten", FlattenKernel::create);
        register("DepthToSpace", DepthToSpaceKernel::depthToSpace);
        register("SpaceToDepth", DepthToSpaceKernel::spaceToDepth);
        register("Identity", IdentityKernel::create);
        register("Dropout", DropoutKernel::create);
        register("Reshape", ReshapeKernel::create);
        register("Transpose", TransposeKernel::create);
        register("Concat", ConcatKernel::create);
        register("BatchNormalization", BatchNormalizationKernel::create);
        register("Constant", ConstantKernel::create);
        register("Softmax", SoftmaxKernel::softmax);
        register("LogSoftmax", SoftmaxKernel::logSoftmax);
        register("Hardmax", SoftmaxKernel::hardmax);

        register("Add", BinaryKernels::add);
        register("Sub", BinaryKernels::sub);
        register("Mul", BinaryKernels::mul);
        register("Div", BinaryKernels::div);
        register("Pow", BinaryKernels::pow);
        register("Mod", BinaryKernels::mod);
        register("PRelu", PReluKernel::create);
        register("Equal", BinaryKernels::equal);
        register("Greater", BinaryKernels::greater);
        register("Less", BinaryKernels::less);
        register("GreaterOrEqual", BinaryKernels::greaterOrEqual);
        register("LessOrEqual", BinaryKernels::lessOrEqual);
        register("And", BinaryKernels::and);
        register("Or", BinaryKernels::or);
        register("Xor", BinaryKernels::xor);
        register("Min", BinaryKernels::min);
        register("Max", BinaryKernels::max);
        register("Sum", BinaryKernels::sum);
        register("Mean", BinaryKernels::mean);

        register("Relu", UnaryKernels::relu);
        register("Tanh", UnaryKernels::tanh);
        register("Sigmoid", UnaryKernels::sigmoid);
        register("Exp", UnaryKernels::exp);
        register("Log", UnaryKernels::log);
        register("Sqrt", UnaryKernels::sqrt);
        register("Neg", UnaryKernels::neg);
        register("Abs", UnaryKernels::abs);
        register("Sign", UnaryKernels::sign);
        register("Reciprocal", UnaryKernels::reciprocal);
        register("Floor", UnaryKernels::floor);
        register("Ceil", UnaryKernels::ceil);
        register("Round", UnaryKernels::round);
        register("Sin", UnaryKernels::sin);
        register("Cos", UnaryKernels::cos);
        register("Tan", UnaryKernels::tan);
        register("Asin", UnaryKernels::asin);
        register("Acos", UnaryKernels::acos);
        register("Atan", UnaryKernels::atan);
        register("Sinh", UnaryKernels::sinh);
        register("Cosh", UnaryKernels::cosh);
        register("Asinh", UnaryKernels::asinh);
        register("Acosh", UnaryKernels::acosh);
        register("Atanh", UnaryKernels::atanh);
        register("Softsign", UnaryKernels::softsign);
        register("Softplus", UnaryKernels::softplus);
        register("Erf", UnaryKernels::erf);
        register("HardSigmoid", UnaryKernels::hardSigmoid);
        register("HardSwish", UnaryKernels::hardSwish);
        register("LeakyRelu", UnaryKernels::leakyRelu);
        register("Elu", UnaryKernels::elu);
        register("Selu", UnaryKernels::selu);
        register("Celu", UnaryKernels::celu);
        register("ThresholdedRelu", UnaryKernels::thresholdedRelu);
        register("Shrink", UnaryKernels::shrink);
        register("IsNaN", UnaryKernels::isNaN);
        register("IsInf", UnaryKernels::isInf);
        register("Not", UnaryKernels::not);

        register("MaxPool", PoolKernel::maxPool);
        register("AveragePool", PoolKernel::averagePool);
        for (String op : new String[] {
            "ReduceMean",
            "ReduceMax",
            "ReduceMin",
            "ReduceSum",
            "ReduceProd",
            "ReduceL1",
            "ReduceL2",
            "ReduceLogSum",
            "ReduceLogSumExp",
            "ReduceSumSquare",
            "ArgMax",
            "ArgMin"
        }) {
            register(op, ReduceKernel.factory(op));
        }
        register("Shape", ShapeKernel::shape);
        register("Size", ShapeKernel::size);
        register("Squeeze", SqueezeKernel::squeeze);
        register("Unsqueeze", SqueezeKernel::unsqueeze);
        register("Cast", CastKernel::cast);
        register("CastLike", CastKernel::castLike);
        register("Gather", GatherKernel::create);
        register("Slice", SliceKernel::create);
        register("Pad", PadKernel::create);
        register("Expand", ExpandKernel::expand);
        register("Tile", ExpandKernel::tile);
        register("Where", WhereKernel::create);
        register("ConstantOfShape", ConstantOfShapeKernel::create);
        register("Range", RangeKernel::create);
        register("Split", SplitKernel::create);
        register("TopK", TopKKernel::create);
        register("InstanceNormalization", NormalizationKernel::instance);
        register("LayerNormalization", NormalizationKernel::layer);
        register("Resize", ResizeKernel::resize);
        register("Upsample", ResizeKernel::upsample);

        // Decoder, detector and transformer ops beyond the CNN core.
        register("ConvTranspose", ConvTransposeKernel::create);
        register("GatherElements", GatherElementsKernel::create);
        register("ScatterElements", ScatterElementsKernel::create);
        register("Scatter", ScatterElementsKernel::create);
        register("GatherND", GatherNDKernel::gatherNd);
        register("ScatterND", GatherNDKernel::scatterNd);
        register("CumSum", CumSumKernel::create);
        register("Trilu", TriluKernel::create);
        register("OneHot", OneHotKernel::create);
        register("NonZero", NonZeroKernel::create);
        register("NonMaxSuppression", NonMaxSuppressionKernel::create);
        register("QuantizeLinear", QuantizeLinearKernel::quantizeLinear);
        register("DequantizeLinear", QuantizeLinearKernel::dequantizeLinear);
        register("MeanVarianceNormalization", MeanVarianceNormalizationKernel::create);
        register("LpNormalization", LpNormalizationKernel::normalization);
        register("GlobalLpPool", LpNormalizationKernel::globalPool);
        register("Gelu", SmoothActivationKernels::gelu);
        register("Mish", SmoothActivationKernels::mish);
        register("EyeLike", EyeLikeKernel::create);
        register("Compress", CompressKernel::create);
        register("LRN", LrnKernel::create);
        register("RoiAlign", RoiAlignKernel::create);
        register("Einsum", EinsumKernel::create);
        register("If", IfKernel::create);
        register("Loop", LoopKernel::create);
        register("Scan", ScanKernel::create);

        // Recurrent ops: one layer each, with outputs Y, Y_h (and Y_c).
        register("LSTM", LstmKernel::create);
        register("GRU", GruKernel::create);
        register("RNN", RnnKernel::create);
    }

    private FloatKernels() {}

    static void register(String opType, KernelFactory f) {
        REGISTRY.put(opType, f);
    }

    public static boolean supports(String opType) {
        return REGISTRY.containsKey(opType);
    }

    /** Op types with a float kernel, sorted. */
    public static Set<String> supportedOps() {
        return Collections.unmodifiableSet(REGISTRY.keySet());
    }

    /**
     * The kernel of a Conv followed by a fused {@code min(max(y, lo), hi)}, applied while each output
     * plane is still in cache; null for other ops, whose callers clamp after the kernel.
     */
    public static FloatKernel createClamped(Node node, int opset, float lo, float hi) {
        if (!node.opType().equals("Conv") || !node.domain().isEmpty()) {
            return null;
        }
        return ConvNdKernel.createClamped(node, lo, hi);
    }

    /**
     * The kernel for a node.
     *
     * @throws IllegalArgumentException if the op type is unknown or an attribute is unsupported;
     *                                  the message names the node
     */
    public static FloatKernel create(Node node, int opset) {
        KernelFactory f = REGISTRY.get(node.opType());
        if (f == null) {
            throw new IllegalArgumentException("no kernel for op " + node.opType() + " (node '" + node.name() + "')");
        }
        try {
            return f.create(node, opset);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                    "node '" + node.name() + "' (" + node.opType() + "): " + e.getMessage(), e);
        }
    }
}
