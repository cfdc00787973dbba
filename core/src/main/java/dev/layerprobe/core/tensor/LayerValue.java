package dev.layerprobe.core.tensor;

/**
 * A layer's output as the simulated device holds it: integer codes for a quantized layer, a
 * float tensor otherwise. {@link #real()} always gives the real values (dequantized on demand).
 * Immutable; safe to keep after the observer call returns.
 */
public final class LayerValue {
    private final QTensor codes;
    private volatile Tensor real;

    private LayerValue(Tensor real, QTensor codes) {
        this.real = real;
        this.codes = codes;
    }

    public static LayerValue of(Tensor real) {
        return new LayerValue(real, null);
    }

    public static LayerValue of(QTensor codes) {
        return new LayerValue(null, codes);
    }

    public boolean isQuantized() {
        return codes != null;
    }

    /** The integer codes, or null for a float layer. */
    public QTensor codes() {
        return codes;
    }

    /** The real values: the float tensor, or the codes dequantized. */
    public Tensor real() {
        Tensor r = real;
        if (r == null) {
            r = codes.dequantize();
            real = r;
        }
        return r;
    }

    public int[] shape() {
        return codes != null ? codes.shape() : real.shape();
    }
}
