package dev.layerprobe.dump.npy;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.Half;
import dev.layerprobe.core.tensor.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * The byte layout that .npy files, dumps and the wire protocol share: elements in C order,
 * little-endian, each {@link DType#bytes()} wide. This class is the only place in the host that
 * turns tensor elements into bytes and back, so the three formats cannot drift apart.
 *
 * <p>Encoding checks ranges: an integer code that does not fit the target type is an error
 * naming the value, never a silent wrap. Stateless and thread-safe.
 */
public final class TensorBytes {
    private TensorBytes() {}

    /** Encodes float32 values {@code data[off, off+len)} as little-endian IEEE binary32. */
    public static byte[] encodeFloats(float[] data, int off, int len) {
        ByteBuffer b = ByteBuffer.allocate(Math.multiplyExact(len, 4)).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(data, off, len);
        return b.array();
    }

    /**
     * Encodes integer codes {@code codes[off, off+len)} as {@code type} (INT8, UINT8, INT16, UINT16,
     * INT32).
     *
     * @throws IllegalArgumentException if a code lies outside the type's range or the type is not one
     *     of those
     */
    public static byte[] encodeCodes(DType type, int[] codes, int off, int len) {
        byte[] out = new byte[Math.multiplyExact(len, type.bytes())];
        ByteBuffer b = ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
        long min = codeMin(type);
        long max = type.max();
        for (int i = off; i < off + len; i++) {
            int c = codes[i];
            if (c < min || c > max) {
                throw new IllegalArgumentException(
                        "code " + c + " at index " + i + " does not fit " + type + " [" + min + ", " + max + "]");
            }
            switch (type.bytes()) {
                case 1 -> b.put((byte) c);
                case 2 -> b.putShort((short) c);
                default -> b.putInt(c);
            }
        }
        return out;
    }

    /**
     * Encodes a whole tensor as {@code type}: floating tensors as FLOAT32, FLOAT16 or DOUBLE, integer
     * tensors as any integer type whose range holds their values.
     */
    public static byte[] encode(Tensor t, DType type) {
        int n = t.size();
        ByteBuffer b = ByteBuffer.allocate(Math.multiplyExact(n, type.bytes())).order(ByteOrder.LITTLE_ENDIAN);
        if (type.isFloating()) {
            for (int i = 0; i < n; i++) {
                double v = t.getDouble(i);
                switch (type) {
                    case FLOAT32 -> b.putFloat((float) v);
                    case FLOAT16 -> b.putShort(Half.fromFloat((float) v));
                    case DOUBLE -> b.putDouble(v);
                    default -> throw new IllegalArgumentException("cannot encode " + type);
                }
            }
            return b.array();
        }
        if (t.isFloating()) {
            throw new IllegalArgumentException("cannot encode a " + t.dtype() + " tensor as " + type);
        }
        long[] v = t.longs();
        long min = codeMin(type);
        long max = type.max();
        for (int i = 0; i < n; i++) {
            if (v[i] < min || v[i] > max) {
                throw new IllegalArgumentException("value " + v[i] + " at index " + i + " does not fit " + type);
            }
            switch (type.bytes()) {
                case 1 -> b.put((byte) v[i]);
                case 2 -> b.putShort((short) v[i]);
                case 4 -> b.putInt((int) v[i]);
                default -> b.putLong(v[i]);
            }
        }
        return b.array();
    }

    /**
     * Decodes {@code n} elements of {@code type} into a tensor of {@code shape}: floating types
     * (FLOAT32, FLOAT16, DOUBLE) become a FLOAT32 tensor, integer types a tensor of that type.
     *
     * @throws IllegalArgumentException if the byte count does not match the shape
     */
    public static Tensor decode(DType type, int[] shape, byte[] data) {
        long n = 1;
        for (int d : shape) {
            n *= d;
        }
        if (n * type.bytes() != data.length) {
            throw new IllegalArgumentException(data.length + " bytes do not hold a " + type + " tensor of shape "
                    + Arrays.toString(shape) + " (" + n * type.bytes() + " bytes)");
        }
        return decode(type, shape, ByteBuffer.wrap(data));
    }

    /** As {@link #decode(DType, int[], byte[])}, reading from the buffer's position onwards. */
    public static Tensor decode(DType type, int[] shape, ByteBuffer in) {
        ByteBuffer b = in.slice().order(ByteOrder.LITTLE_ENDIAN);
        long count = 1;
        for (int d : shape) {
            count *= d;
        }
        int n = Math.toIntExact(count);
        if (type.isFloating()) {
            float[] f = new float[n];
            switch (type) {
                case FLOAT32 -> b.asFloatBuffer().get(f);
                case FLOAT16 -> {
                    for (int i = 0; i < n; i++) {
                        f[i] = Half.toFloat(b.getShort());
                    }
                }
                case DOUBLE -> {
                    for (int i = 0; i < n; i++) {
                        f[i] = (float) b.getDouble();
                    }
                }
                default -> throw new IllegalArgumentException("cannot decode " + type);
            }
            return Tensor.ofFloats(shape, f);
        }
        long[] v = new long[n];
        for (int i = 0; i < n; i++) {
            v[i] = switch (type) {
                case INT8 -> b.get();
                case UINT8, BOOL -> b.get() & 0xFF;
                case INT16 -> b.getShort();
                case UINT16 -> b.getShort() & 0xFFFF;
                case INT32 -> b.getInt();
                case UINT32 -> b.getInt() & 0xFFFFFFFFL;
                case INT64, UINT64 -> b.getLong();
                default -> throw new IllegalArgumentException("cannot decode " + type);
            };
        }
        return Tensor.ofLongs(type, shape, v);
    }

    /**
     * Decodes integer codes of {@code type} (INT8, UINT8, INT16, UINT16, INT32) from
     * {@code data[off, off+len)} into {@code out[outOff...]}; returns the number of codes written.
     * Used on streamed chunks, so len must be a whole number of elements.
     */
    public static int decodeCodes(DType type, byte[] data, int off, int len, int[] out, int outOff) {
        int w = type.bytes();
        if (len % w != 0) {
            throw new IllegalArgumentException(len + " bytes are not a whole number of " + type + " elements");
        }
        ByteBuffer b = ByteBuffer.wrap(data, off, len).order(ByteOrder.LITTLE_ENDIAN);
        int n = len / w;
        for (int i = 0; i < n; i++) {
            out[outOff + i] = switch (type) {
                case INT8 -> b.get();
                case UINT8 -> b.get() & 0xFF;
                case INT16 -> b.getShort();
                case UINT16 -> b.getShort() & 0xFFFF;
                case INT32 -> b.getInt();
                default ->
                    throw new IllegalArgumentException(
                            type + " is not a code type (INT8, UINT8, INT16, " + "UINT16, INT32)");
            };
        }
        return n;
    }

    /**
     * Decodes float32 values from {@code data[off, off+len)} into {@code out[outOff...]}; returns the
     * number of values written.
     */
    public static int decodeFloats(byte[] data, int off, int len, float[] out, int outOff) {
        if (len % 4 != 0) {
            throw new IllegalArgumentException(len + " bytes are not a whole number of FLOAT32 elements");
        }
        ByteBuffer.wrap(data, off, len)
                .order(ByteOrder.LITTLE_ENDIAN)
                .asFloatBuffer()
                .get(out, outOff, len / 4);
        return len / 4;
    }

    private static long codeMin(DType type) {
        return switch (type) {
            case INT8, UINT8, INT16, UINT16, INT32, INT64 -> type.min();
            default -> throw new IllegalArgumentException(type + " is not an integer code type");
        };
    }
}
