package dev.layerprobe.host.cli;

import dev.layerprobe.host.quantize.QuantizationOptions;
import dev.layerprobe.simulator.quant.CalibrationAlgorithm;
import dev.layerprobe.simulator.quant.LayerPrecision;
import java.nio.file.Path;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Option;

/** Quantization options shared by {@code quantize} and {@code analyze}. */
final class QuantOptions {
    @Option(
            names = "--dtype",
            defaultValue = "int8",
            paramLabel = "TYPE",
            description = "precision of every layer: int8, uint8, int16, fp16 (analyze also: float32, the simulator"
                    + " checked unquantized against ONNX Runtime); default ${DEFAULT-VALUE}")
    LayerPrecision dtype;

    @ArgGroup(exclusive = true)
    WeightGranularity weights;

    static final class WeightGranularity {
        @Option(names = "--per-channel", description = "integer weights per output channel (default)")
        boolean perChannel;

        @Option(names = "--per-tensor", description = "integer weights per tensor")
        boolean perTensor;
    }

    @Option(
            names = "--algo",
            defaultValue = "minmax",
            paramLabel = "ALGO",
            description = "calibration: minmax, percentile, kl (entropy), mse (default ${DEFAULT-VALUE})")
    CalibrationAlgorithm algo;

    @Option(names = "--percentile", defaultValue = "99.99", description = "for --algo percentile (${DEFAULT-VALUE})")
    double percentile;

    @Option(
            names = "--hybrid",
            paramLabel = "HYBRID.yaml",
            description = "per-layer precisions: layers: {<ONNX output name>: int8|uint8|int16|fp16|float32}")
    Path hybrid;

    @Option(
            names = "--calib-cache",
            paramLabel = "FILE",
            description = "calibration statistics: reused when they match the model, images and preprocessing")
    Path calibCache;

    @Option(
            names = "--smooth-quant",
            paramLabel = "ALPHA",
            description = "SmoothQuant before calibration: move per-channel activation outliers of LayerNorm"
                    + " outputs into the weights of the MatMul/Gemm layers reading them; ALPHA in (0, 1], 0.5 is usual")
    Double smoothQuant;

    QuantizationOptions toOptions() throws UsageException {
        if (!(percentile > 50 && percentile <= 100)) {
            throw new UsageException("--percentile must be in (50, 100], got " + percentile);
        }
        if (smoothQuant != null && !(smoothQuant > 0 && smoothQuant <= 1)) {
            throw new UsageException("--smooth-quant ALPHA must be in (0, 1], got " + smoothQuant);
        }
        boolean perTensor = weights != null && weights.perTensor;
        return new QuantizationOptions(
                dtype, !perTensor, algo, percentile, hybrid, calibCache, smoothQuant == null ? 0 : smoothQuant);
    }
}
