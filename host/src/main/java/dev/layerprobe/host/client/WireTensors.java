package dev.layerprobe.host.client;

import com.google.protobuf.ByteString;
import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.core.tensor.QTensor;
import dev.layerprobe.core.tensor.QuantParams;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.dump.npy.TensorBytes;
import dev.layerprobe.proto.v1.DataType;
import dev.layerprobe.proto.v1.LayerHeader;
import dev.layerprobe.proto.v1.QuantInfo;
import java.util.Arrays;

/**
 * Converts between the wire's tensors (tensor.proto: C order, little-endian; quantized data as
 * codes with {@code real = scale * (code - zero_point)}, per tensor or per channel along
 * {@code axis}) and the simulator's {@link Tensor}, {@link QTensor} and {@link LayerValue}.
 * Stateless and thread-safe.
 */
public final class WireTensors {
    private WireTensors() {}

    /** The simulator type for a wire type. */
    public static DType dtype(DataType t) {
        return switch (t) {
            case FLOAT32 -> DType.FLOAT32;
            case INT8 -> DType.INT8;
            case UINT8 -> DType.UINT8;
            case INT16 -> DType.INT16;
            case INT32 -> DType.INT32;
            case FLOAT16 -> DType.FLOAT16;
            case INT64 -> DType.INT64;
            default ->
                throw new IllegalArgumentException("unsupported wire data type " + t
                        + ", expected one of [FLOAT32, INT8, UINT8, INT16, INT32, FLOAT16, INT64]");
        };
    }

    /** The wire type for a simulator type. */
    public static DataType wireType(DType t) {
        return switch (t) {
            case FLOAT32 -> DataType.FLOAT32;
            case INT8 -> DataType.INT8;
            case UINT8 -> DataType.UINT8;
            case INT16 -> DataType.INT16;
            case INT32 -> DataType.INT32;
            case FLOAT16 -> DataType.FLOAT16;
            case INT64 -> DataType.INT64;
            default ->
                throw new IllegalArgumentException("type " + t + " has no wire form, expected one of "
                        + "[FLOAT32, INT8, UINT8, INT16, INT32, FLOAT16, INT64]");
        };
    }

    /**
     * Decodes wire bytes: FLOAT32 (and FLOAT16) into a FLOAT32 tensor, integer types into a tensor
     * of that type.
     *
     * @throws IllegalArgumentException if the byte count does not match the shape
     */
    public static Tensor decode(DataType type, int[] shape, byte[] data) {
        return TensorBytes.decode(dtype(type), shape, data);
    }

    /** A host tensor as a wire tensor: floating tensors as FLOAT32, integer tensors in their type. */
    public static dev.layerprobe.proto.v1.Tensor toWire(String name, Tensor t) {
        DType type = t.isFloating() ? DType.FLOAT32 : t.dtype();
        dev.layerprobe.proto.v1.Tensor.Builder b = dev.layerprobe.proto.v1.Tensor.newBuilder()
                .setName(name)
                .setDtype(wireType(type))
                .setData(ByteString.copyFrom(TensorBytes.encode(t, type)));
        for (int d : t.shape()) {
            b.addShape(d);
        }
        return b.build();
    }

    /** The quantization of a wire tensor of {@code type}, or null when {@code q} carries no scale. */
    public static QuantParams quantParams(DataType type, QuantInfo q) {
        if (q == null || q.getScaleCount() == 0) {
            return null;
        }
        float[] scale = new float[q.getScaleCount()];
        for (int i = 0; i < scale.length; i++) {
            scale[i] = q.getScale(i);
        }
        long[] zp = new long[scale.length];
        for (int i = 0; i < zp.length && i < q.getZeroPointCount(); i++) {
            zp[i] = q.getZeroPoint(i);
        }
        return new QuantParams(dtype(type), scale, zp, q.getAxis());
    }

    /** The shape of a layer header as ints. */
    public static int[] shape(LayerHeader h) {
        return h.getShapeList().stream().mapToInt(Math::toIntExact).toArray();
    }

    /**
     * Decodes a whole streamed layer: codes with their scale/zero point when the header carries
     * quantization for an integer dtype, a float tensor otherwise.
     */
    public static LayerValue toLayerValue(LayerHeader h, byte[] data) {
        int[] shape = shape(h);
        QuantParams q = h.getDtype() == DataType.FLOAT32 || h.getDtype() == DataType.FLOAT16
                ? null
                : quantParams(h.getDtype(), h.hasQuant() ? h.getQuant() : null);
        Tensor t = decode(h.getDtype(), shape, data);
        if (q == null) {
            return LayerValue.of(t.toFloat());
        }
        long[] v = t.longs();
        int[] codes = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            codes[i] = Math.toIntExact(v[i]);
        }
        return LayerValue.of(new QTensor(shape, codes, q));
    }

    static String describe(LayerHeader h) {
        return "layer '" + h.getName() + "' (#" + h.getIndex() + ", " + h.getOp() + ", " + Arrays.toString(shape(h))
                + " " + h.getDtype() + ")";
    }
}
