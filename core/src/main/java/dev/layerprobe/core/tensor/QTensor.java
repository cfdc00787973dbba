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
        return CodeRuns.best().quantize(t, q);
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
        CodeRuns.best().dequantize(params, shape, 0, codes, 0, codes.length, out, 0);
        return Tensor.ofFloats(shape, out);
    }
}
