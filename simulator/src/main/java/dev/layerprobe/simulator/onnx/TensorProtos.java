package dev.layerprobe.simulator.onnx;

import com.google.protobuf.ByteString;
import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.Half;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.onnx.Onnx.TensorProto;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Converts between ONNX {@code TensorProto} and {@link Tensor}: raw little-endian data, typed
 * fields, and external data files resolved against the model's folder.
 */
public final class TensorProtos {
    private TensorProtos() {}

    /** Reads a tensor whose data is inline (raw or typed). */
    public static Tensor toTensor(TensorProto p) {
        return toTensor(p, null);
    }

    /**
     * Reads a tensor; external data is read from {@code baseDir} (the model's folder).
     *
     * @throws IllegalArgumentException for unsupported data types or missing external data
     */
    public static Tensor toTensor(TensorProto p, Path baseDir) {
        DType t = DType.fromOnnx(p.getDataType());
        if (t == null) {
            throw new IllegalArgumentException("tensor '" + p.getName() + "' has unsupported data type "
                    + TensorProto.DataType.forNumber(p.getDataType()));
        }
        int[] shape = new int[p.getDimsCount()];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = Math.toIntExact(p.getDims(i));
        }
        int n = 1;
        for (int d : shape) {
            n *= d;
        }
        ByteString raw = null;
        if (p.getDataLocation() == TensorProto.DataLocation.EXTERNAL) {
            raw = readExternal(p, baseDir);
        } else if (p.hasRawData()) {
            raw = p.getRawData();
        }
        if (raw != null) {
            ByteBuffer b = raw.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
            if ((long) n * t.bytes() != raw.size()) {
                throw new IllegalArgumentException("tensor '" + p.getName() + "' has " + raw.size()
                        + " bytes of data, its shape needs " + (long) n * t.bytes());
            }
            return fromBuffer(t, shape, n, b);
        }
        return fromTyped(p, t, shape, n);
    }

    private static Tensor fromBuffer(DType t, int[] shape, int n, ByteBuffer b) {
        switch (t) {
            case FLOAT32 -> {
                float[] f = new float[n];
                b.asFloatBuffer().get(f);
                return Tensor.ofFloats(shape, f);
            }
            case FLOAT16 -> {
                float[] f = new float[n];
                for (int i = 0; i < n; i++) {
                    f[i] = Half.toFloat(b.getShort());
                }
                return Tensor.ofFloats(DType.FLOAT16, shape, f);
            }
            case DOUBLE -> {
                float[] f = new float[n];
                for (int i = 0; i < n; i++) {
                    f[i] = (float) b.getDouble();
                }
                return Tensor.ofFloats(DType.DOUBLE, shape, f);
            }
            default -> {
                long[] l = new long[n];
                for (int i = 0; i < n; i++) {
                    l[i] = switch (t) {
                        case INT8 -> b.get();
                        case UINT8, BOOL -> b.get() & 0xFF;
                        case INT16 -> b.getShort();
                        case UINT16 -> b.getShort() & 0xFFFF;
                        case INT32 -> b.getInt();
                        case UINT32 -> b.getInt() & 0xFFFFFFFFL;
                        case INT64, UINT64 -> b.getLong();
                        default -> throw new AssertionError(t);
                    };
                }
                return Tensor.ofLongs(t, shape, l);
            }
        }
    }

    private static Tensor fromTyped(TensorProto p, DType t, int[] shape, int n) {
        switch (t) {
            case FLOAT32 -> {
                float[] f = new float[n];
                checkCount(p, p.getFloatDataCount(), n);
                for (int i = 0; i < n; i++) {
                    f[i] = p.getFloatData(i);
                }
                return Tensor.ofFloats(shape, f);
            }
            case FLOAT16 -> {
                float[] f = new float[n];
                checkCount(p, p.getInt32DataCount(), n);
                for (int i = 0; i < n; i++) {
                    f[i] = Half.toFloat((short) p.getInt32Data(i));
                }
                return Tensor.ofFloats(DType.FLOAT16, shape, f);
            }
            case DOUBLE -> {
                float[] f = new float[n];
                checkCount(p, p.getDoubleDataCount(), n);
                for (int i = 0; i < n; i++) {
                    f[i] = (float) p.getDoubleData(i);
                }
                return Tensor.ofFloats(DType.DOUBLE, shape, f);
            }
            case INT64 -> {
                long[] l = new long[n];
                checkCount(p, p.getInt64DataCount(), n);
                for (int i = 0; i < n; i++) {
                    l[i] = p.getInt64Data(i);
                }
                return Tensor.ofLongs(t, shape, l);
            }
            case UINT32, UINT64 -> {
                long[] l = new long[n];
                checkCount(p, p.getUint64DataCount(), n);
                for (int i = 0; i < n; i++) {
                    l[i] = p.getUint64Data(i);
                }
                return Tensor.ofLongs(t, shape, l);
            }
            default -> {
                long[] l = new long[n];
                checkCount(p, p.getInt32DataCount(), n);
                for (int i = 0; i < n; i++) {
                    int v = p.getInt32Data(i);
                    l[i] = switch (t) {
                        case UINT8, BOOL -> v & 0xFF;
                        case UINT16 -> v & 0xFFFF;
                        default -> v;
                    };
                }
                return Tensor.ofLongs(t, shape, l);
            }
        }
    }

    private static void checkCount(TensorProto p, int have, int n) {
        if (have != n) {
            throw new IllegalArgumentException(
                    "tensor '" + p.getName() + "' has " + have + " values, its shape needs " + n);
        }
    }

    private static ByteString readExternal(TensorProto p, Path baseDir) {
        String location = null;
        long offset = 0;
        long length = -1;
        for (var e : p.getExternalDataList()) {
            switch (e.getKey()) {
                case "location" -> location = e.getValue();
                case "offset" -> offset = Long.parseLong(e.getValue());
                case "length" -> length = Long.parseLong(e.getValue());
                default -> {}
            }
        }
        if (location == null) {
            throw new IllegalArgumentException("tensor '" + p.getName() + "' has external data without a location");
        }
        if (baseDir == null) {
            throw new IllegalArgumentException("tensor '" + p.getName() + "' has external data '" + location
                    + "' but the model was not read from a file");
        }
        Path file = baseDir.resolve(location).normalize();
        if (!file.startsWith(baseDir.normalize())) {
            throw new IllegalArgumentException(
                    "tensor '" + p.getName() + "' external data path '" + location + "' leaves the model's folder");
        }
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
            long len = length >= 0 ? length : f.length() - offset;
            byte[] data = new byte[Math.toIntExact(len)];
            f.seek(offset);
            f.readFully(data);
            return ByteString.copyFrom(data);
        } catch (IOException e) {
            throw new IllegalArgumentException(
                    "cannot read external data '" + file + "' of tensor '" + p.getName() + "': " + e.getMessage(), e);
        }
    }

    /** Writes a tensor as raw little-endian data in its own dtype. */
    public static TensorProto fromTensor(String name, Tensor t) {
        int n = t.size();
        ByteBuffer b = ByteBuffer.allocate(n * t.dtype().bytes()).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            switch (t.dtype()) {
                case FLOAT32 -> b.putFloat(t.floats()[i]);
                case FLOAT16 -> b.putShort(Half.fromFloat(t.floats()[i]));
                case DOUBLE -> b.putDouble(t.floats()[i]);
                case INT8, UINT8, BOOL -> b.put((byte) t.longs()[i]);
                case INT16, UINT16 -> b.putShort((short) t.longs()[i]);
                case INT32, UINT32 -> b.putInt((int) t.longs()[i]);
                case INT64, UINT64 -> b.putLong(t.longs()[i]);
                default -> throw new AssertionError(t.dtype());
            }
        }
        b.flip();
        TensorProto.Builder p = TensorProto.newBuilder()
                .setName(name)
                .setDataType(t.dtype().onnxCode())
                .setRawData(ByteString.copyFrom(b));
        for (int d : t.shape()) {
            p.addDims(d);
        }
        return p.build();
    }

    /** Reads a TensorProto file (as in ONNX test_data_set_N/input_M.pb). */
    public static TensorProto readFile(Path file) throws IOException {
        return TensorProto.parseFrom(Files.readAllBytes(file));
    }
}
