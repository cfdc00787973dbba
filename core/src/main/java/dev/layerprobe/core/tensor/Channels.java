package dev.layerprobe.core.tensor;

/**
 * Channel order: axis 1 of an {@code N x C x ...} tensor, the axis an RGB/BGR mix-up reverses.
 * Stateless.
 */
public final class Channels {
    private Channels() {}

    /**
     * The tensor with axis 1 reversed; float tensors stay in their type, other types come back as
     * float32 values. Below rank 2 the tensor is returned as it is.
     */
    public static Tensor reverse(Tensor t) {
        int[] s = t.shape();
        if (s.length < 2) {
            return t;
        }
        Tensor f = t.isFloating() ? t : t.toFloat();
        float[] dst = new float[f.size()];
        reverse(s, f.floats(), dst);
        return Tensor.ofFloats(f.dtype(), s, dst);
    }

    /** The codes with axis 1 reversed, same quantization; below rank 2 returned as they are. */
    public static QTensor reverse(QTensor q) {
        int[] s = q.shape();
        if (s.length < 2) {
            return q;
        }
        int[] dst = new int[q.size()];
        int[] src = q.codes();
        forEachPlane(s, (from, to, len) -> System.arraycopy(src, from, dst, to, len));
        return new QTensor(s, dst, q.params());
    }

    /**
     * A layer value with axis 1 reversed: codes as codes, float values as floats. Integer values
     * that are not codes (indices, shapes) have no channels to swap and are returned as they are.
     */
    public static LayerValue reverse(LayerValue v) {
        if (v.isQuantized()) {
            return LayerValue.of(reverse(v.codes()));
        }
        return v.real().isFloating() ? LayerValue.of(reverse(v.real())) : v;
    }

    private static void reverse(int[] s, float[] src, float[] dst) {
        forEachPlane(s, (from, to, len) -> System.arraycopy(src, from, dst, to, len));
    }

    @FunctionalInterface
    private interface PlaneCopy {
        void copy(int from, int to, int length);
    }

    /** Calls {@code copy} once per (batch, channel) plane with its source and reversed destination offsets. */
    private static void forEachPlane(int[] s, PlaneCopy copy) {
        int outer = s[0];
        int ch = s[1];
        int inner = 1;
        for (int i = 2; i < s.length; i++) {
            inner *= s[i];
        }
        for (int b = 0; b < outer; b++) {
            for (int c = 0; c < ch; c++) {
                copy.copy((b * ch + c) * inner, (b * ch + ch - 1 - c) * inner, inner);
            }
        }
    }
}
