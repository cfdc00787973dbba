package dev.layerprobe.dump;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.QuantParams;
import java.util.List;
import java.util.Locale;

/**
 * The {@code manifest.json} of a dump directory (docs/architecture.md#dumps-on-disk), as Jackson reads and writes it
 * (snake_case keys). Layers are in execution order and only complete layers are listed; a dump
 * whose writer finished has {@code complete = true}. Immutable.
 *
 * @param formatVersion manifest format, currently 1
 * @param model what produced the dump (a model name or path), may be null
 * @param source which result this is (e.g. "golden", "simulator", "runtime"), may be null
 * @param complete true once the writer was closed normally
 * @param layers the layers written so far, in execution order
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record DumpManifest(int formatVersion, String model, String source, boolean complete, List<Layer> layers) {
    public static final int FORMAT_VERSION = 1;

    public DumpManifest {
        layers = layers == null ? List.of() : List.copyOf(layers);
    }

    /**
     * One layer's entry.
     *
     * @param index position in execution order, from 0
     * @param name the ONNX tensor name
     * @param op the ONNX op type that produced it (may be null)
     * @param shape dimensions, C order
     * @param dtype element type of the .npy data: {@code float32}, or {@code int8}/{@code uint8}/
     *     {@code int16} codes for a quantized layer
     * @param scale quantization scales (one, or one per channel along {@code axis}); null for float
     * @param zeroPoint zero points matching {@code scale}; null for float
     * @param axis the channel axis of per-channel parameters; null when per tensor or float
     * @param file the .npy file name inside the dump directory
     * @param bytes size of the data (without the .npy header)
     * @param sha256 lowercase hex sha256 of the data bytes, not the header
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    @JsonInclude(JsonInclude.Include.ALWAYS)
    public record Layer(
            int index,
            String name,
            String op,
            int[] shape,
            String dtype,
            float[] scale,
            long[] zeroPoint,
            Integer axis,
            String file,
            long bytes,
            String sha256) {

        /** The element type, decoded from {@link #dtype()}. */
        public DType type() {
            return DType.valueOf(dtype.toUpperCase(Locale.ROOT));
        }

        /** True for a layer stored as integer codes. */
        public boolean isQuantized() {
            return scale != null;
        }

        /** The quantization parameters, or null for a float layer. */
        public QuantParams quantParams() {
            return scale == null ? null : new QuantParams(type(), scale, zeroPoint, axis == null ? 0 : axis);
        }
    }

    /** The manifest name of a type: its lowercase enum name ({@code float32}, {@code int8}, ...). */
    static String dtypeName(DType t) {
        return t.name().toLowerCase(Locale.ROOT);
    }
}
