package dev.layerprobe.core.tensor;

/**
 * Element types the simulator computes with. Floating types are held as {@code float[]}; integer
 * and boolean types as {@code long[]} (booleans as 0/1), whatever their width on a device.
 */
public enum DType {
    FLOAT32(1, 4, true),
    FLOAT16(10, 2, true),
    DOUBLE(11, 8, true),
    INT8(3, 1, false),
    UINT8(2, 1, false),
    INT16(5, 2, false),
    UINT16(4, 2, false),
    INT32(6, 4, false),
    INT64(7, 8, false),
    UINT32(12, 4, false),
    UINT64(13, 8, false),
    BOOL(9, 1, false);

    private final int onnxCode;
    private final int bytes;
    private final boolean floating;

    DType(int onnxCode, int bytes, boolean floating) {
        this.onnxCode = onnxCode;
        this.bytes = bytes;
        this.floating = floating;
    }

    /** The {@code TensorProto.DataType} number of this type. */
    public int onnxCode() {
        return onnxCode;
    }

    /** Bytes per element in ONNX raw data and in .npy files. */
    public int bytes() {
        return bytes;
    }

    public boolean isFloating() {
        return floating;
    }

    /** Smallest representable integer value; only for integer types. */
    public long min() {
        return switch (this) {
            case INT8 -> Byte.MIN_VALUE;
            case INT16 -> Short.MIN_VALUE;
            case INT32 -> Integer.MIN_VALUE;
            case INT64 -> Long.MIN_VALUE;
            case UINT8, UINT16, UINT32, UINT64, BOOL -> 0;
            default -> throw new IllegalStateException(this + " is not an integer type");
        };
    }

    /** Largest representable integer value; only for integer types. */
    public long max() {
        return switch (this) {
            case INT8 -> Byte.MAX_VALUE;
            case UINT8 -> 255;
            case INT16 -> Short.MAX_VALUE;
            case UINT16 -> 65535;
            case INT32 -> Integer.MAX_VALUE;
            case UINT32 -> 0xFFFFFFFFL;
            case INT64, UINT64 -> Long.MAX_VALUE;
            case BOOL -> 1;
            default -> throw new IllegalStateException(this + " is not an integer type");
        };
    }

    /** The type with this ONNX {@code DataType} number, or null if the simulator has none. */
    public static DType fromOnnx(int code) {
        for (DType t : values()) {
            if (t.onnxCode == code) {
                return t;
            }
        }
        return null;
    }
}
