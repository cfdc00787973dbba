package dev.layerprobe.simulator.kernels;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.Half;
import dev.layerprobe.core.tensor.Tensor;

/**
 * How kernels build their outputs. Floating results keep the input's element type: they are
 * computed in float32 and, for FLOAT16, rounded to binary16 (nearest even) once at the end of the
 * op, which is what an fp16 device does per op. Integer results wrap to the width of their type,
 * as integer arithmetic does on a device and in numpy.
 */
final class Outputs {
    private Outputs() {}

    /** A floating tensor of the given type; the array is taken over (and rounded for FLOAT16). */
    static Tensor floats(DType dtype, int[] shape, float[] data) {
        if (dtype == DType.FLOAT16) {
            for (int i = 0; i < data.length; i++) {
                data[i] = Half.round(data[i]);
            }
        }
        return Tensor.ofFloats(dtype, shape, data);
    }

    /** An integer tensor of the given type; values are wrapped to the type's width in place. */
    static Tensor longs(DType dtype, int[] shape, long[] data) {
        if (dtype != DType.INT64 && dtype != DType.UINT64) {
            for (int i = 0; i < data.length; i++) {
                data[i] = wrap(dtype, data[i]);
            }
        }
        return Tensor.ofLongs(dtype, shape, data);
    }

    /** Two's-complement wrap of v to the width of an integer type. */
    static long wrap(DType t, long v) {
        return switch (t) {
            case INT8 -> (byte) v;
            case UINT8 -> v & 0xFF;
            case INT16 -> (short) v;
            case UINT16 -> v & 0xFFFF;
            case INT32 -> (int) v;
            case UINT32 -> v & 0xFFFFFFFFL;
            case BOOL -> v != 0 ? 1 : 0;
            default -> v;
        };
    }

    /** A tensor of src's type whose element i is src's element index[i]. */
    static Tensor gather(Tensor src, int[] shape, int[] index) {
        if (src.isFloating()) {
            float[] s = src.floats();
            float[] r = new float[index.length];
            for (int i = 0; i < r.length; i++) {
                r[i] = s[index[i]];
            }
            return Tensor.ofFloats(src.dtype(), shape, r);
        }
        long[] s = src.longs();
        long[] r = new long[index.length];
        for (int i = 0; i < r.length; i++) {
            r[i] = s[index[i]];
        }
        return Tensor.ofLongs(src.dtype(), shape, r);
    }
}
