package dev.layerprobe.core.tensor;

/**
 * A quantized tensor: integer codes in C order with the {@link QuantParams} that give them
 * meaning. Codes are held as {@code int[]} whatever the device width (int8, uint8, int16).
 */
public final class QTensor {
    private final int[] shape;
    private final int[] codes;
    private final QuantParams params;

    public QTensor(int[] shape, int[] codes, QuantParams params) {
        if (Shapes.size(shape) != codes.length) {
            throw new IllegalArgumentException("shape and code count differ");
        }
        this.shape = shape.clone();
        this.codes = codes;
        this.params = params;
    }

    /** Quantizes a float tensor (ONNX QuantizeLinear semantics, see {@link QuantParams}). */
    public static QTensor quantize(Tensor t, QuantParams q) {
        float[] x = t.floats();
        int[] out = new int[x.length];
        int[] shape = t.shape();
        if (q.isPerTensor()) {
            for (int i = 0; i < x.length; i++) {
                out[i] = (int) q.quantize(x[i], 0);
            }
        } else {
            int inner = innerSize(shape, q.axis());
            int channels = shape[q.axis()];
            for (int i = 0; i < x.length; i++) {
                out[i] = (int) q.quantize(x[i], (i / inner) % channels);
            }
        }
        return new QTensor(shape, out, q);
    }

    public int[] shape() {
        return shape.clone();
    }

    public int[] codes() {
        return codes;
    }

    public QuantParams params() {
        return params;
    }

    public int size() {
        return codes.length;
    }

    /** The real values these codes stand for, as float32. */
    public Tensor dequantize() {
        float[] out = new float[codes.length];
        if (params.isPerTensor()) {
            double s = params.scale(0);
            long zp = params.zeroPoint(0);
            for (int i = 0; i < out.length; i++) {
                out[i] = (float) ((codes[i] - zp) * s);
            }
        } else {
            int inner = innerSize(shape, params.axis());
            int channels = shape[params.axis()];
            for (int i = 0; i < out.length; i++) {
                out[i] = params.dequantize(codes[i], (i / inner) % channels);
            }
        }
        return Tensor.ofFloats(shape, out);
    }

    static int innerSize(int[] shape, int axis) {
        int inner = 1;
        for (int i = axis + 1; i < shape.length; i++) {
            inner *= shape[i];
        }
        return inner;
    }
}
