package dev.layerprobe.core.tensor;

import java.util.Arrays;

/**
 * A dense tensor in C order (the last dimension varies fastest), in the ONNX tensor's own
 * dimension order (NCHW for images). Floating types are stored in {@link #floats()}, integer and
 * boolean types in {@link #longs()}; exactly one of the two is non-null.
 *
 * <p>Tensors are treated as immutable once handed to another component: kernels allocate their
 * outputs and never write into their inputs. The arrays are exposed for speed, not for mutation.
 */
public final class Tensor {
    private final DType dtype;
    private final int[] shape;
    private final float[] floats;
    private final long[] longs;

    private Tensor(DType dtype, int[] shape, float[] floats, long[] longs) {
        this.dtype = dtype;
        this.shape = shape;
        this.floats = floats;
        this.longs = longs;
        long n = Shapes.size(shape);
        long have = floats != null ? floats.length : longs.length;
        if (n != have) {
            throw new IllegalArgumentException(
                    "shape " + Arrays.toString(shape) + " holds " + n + " elements, data has " + have);
        }
    }

    public static Tensor ofFloats(int[] shape, float[] data) {
        return new Tensor(DType.FLOAT32, shape.clone(), data, null);
    }

    public static Tensor ofFloats(DType dtype, int[] shape, float[] data) {
        if (!dtype.isFloating()) {
            throw new IllegalArgumentException(dtype + " is not a floating type");
        }
        return new Tensor(dtype, shape.clone(), data, null);
    }

    public static Tensor ofLongs(DType dtype, int[] shape, long[] data) {
        if (dtype.isFloating()) {
            throw new IllegalArgumentException(dtype + " is a floating type");
        }
        return new Tensor(dtype, shape.clone(), null, data);
    }

    public static Tensor zeros(int[] shape) {
        return ofFloats(shape, new float[Math.toIntExact(Shapes.size(shape))]);
    }

    public static Tensor scalar(float v) {
        return ofFloats(new int[0], new float[] {v});
    }

    public DType dtype() {
        return dtype;
    }

    /** A copy of the shape. */
    public int[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    public int dim(int i) {
        return shape[i < 0 ? shape.length + i : i];
    }

    public int size() {
        return floats != null ? floats.length : longs.length;
    }

    public boolean isFloating() {
        return floats != null;
    }

    /** The float data; throws if this tensor holds integers. */
    public float[] floats() {
        if (floats == null) {
            throw new IllegalStateException("tensor of " + dtype + " has no float data");
        }
        return floats;
    }

    /** The integer data; throws if this tensor holds floats. */
    public long[] longs() {
        if (longs == null) {
            throw new IllegalStateException("tensor of " + dtype + " has no integer data");
        }
        return longs;
    }

    /** Element i as a double, whatever the storage. */
    public double getDouble(int i) {
        return floats != null ? floats[i] : longs[i];
    }

    /** Element i as a long, whatever the storage (floats truncate toward zero). */
    public long getLong(int i) {
        return floats != null ? (long) floats[i] : longs[i];
    }

    /** This tensor's values as float32 (a copy for integer tensors, this tensor otherwise). */
    public Tensor toFloat() {
        if (dtype == DType.FLOAT32) {
            return this;
        }
        float[] out = new float[size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) getDouble(i);
        }
        return ofFloats(shape, out);
    }

    /** The same data under another shape of the same size. */
    public Tensor reshape(int[] newShape) {
        return new Tensor(dtype, newShape.clone(), floats, longs);
    }

    @Override
    public String toString() {
        return "Tensor(" + dtype + ", " + Arrays.toString(shape) + ")";
    }
}
