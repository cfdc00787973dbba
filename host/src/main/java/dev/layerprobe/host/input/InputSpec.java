package dev.layerprobe.host.input;

import java.util.Arrays;

/**
 * How an image becomes a model input, in this order: decode to RGB, resize to the model's HxW,
 * multiply by {@code scale} (1/255 by default, giving 0..1), swap to BGR if {@code rgb2bgr}, then
 * {@code (x - mean[c]) / std[c]} per channel, in NCHW layout with batch 1.
 *
 * <p>{@code mean} and {@code std} are in the units after {@code scale} (0..1 by default) and in the
 * model's channel order, i.e. after the BGR swap. They hold one value (applied to every channel) or
 * one per channel. Immutable: the arrays are copied in and out.
 */
public record InputSpec(float[] mean, float[] std, boolean rgb2bgr, float scale) {
    /** No normalisation: RGB, 0..1. */
    public static final InputSpec DEFAULT = new InputSpec(new float[] {0f}, new float[] {1f}, false, 1f / 255f);
    /** ImageNet mean/std on 0..1 RGB, what torchvision classifiers (and shared/models) expect. */
    public static final InputSpec IMAGENET =
            new InputSpec(new float[] {0.485f, 0.456f, 0.406f}, new float[] {0.229f, 0.224f, 0.225f}, false, 1f / 255f);

    public InputSpec {
        if (mean.length == 0 || std.length == 0) {
            throw new IllegalArgumentException("mean and std need at least one value");
        }
        for (float s : std) {
            if (!(s != 0f) || !Float.isFinite(s)) {
                throw new IllegalArgumentException("std must be finite and non-zero, got " + Arrays.toString(std));
            }
        }
        if (!(scale > 0f) || !Float.isFinite(scale)) {
            throw new IllegalArgumentException("scale must be positive and finite, got " + scale);
        }
        mean = mean.clone();
        std = std.clone();
    }

    @Override
    public float[] mean() {
        return mean.clone();
    }

    @Override
    public float[] std() {
        return std.clone();
    }

    /** The mean for channel c. */
    public float mean(int c) {
        return mean[mean.length == 1 ? 0 : c];
    }

    /** The std for channel c. */
    public float std(int c) {
        return std[std.length == 1 ? 0 : c];
    }

    public InputSpec withRgb2bgr(boolean v) {
        return new InputSpec(mean, std, v, scale);
    }

    public InputSpec withMeanStd(float[] m, float[] s) {
        return new InputSpec(m, s, rgb2bgr, scale);
    }

    public InputSpec withScale(float s) {
        return new InputSpec(mean, std, rgb2bgr, s);
    }

    /** Whether mean/std give one value, or one per channel of a {@code channels}-channel input. */
    public boolean fits(int channels) {
        return (mean.length == 1 || mean.length == channels) && (std.length == 1 || std.length == channels);
    }

    /** Checks that mean/std fit a model with {@code channels} channels. */
    void checkChannels(int channels) throws InputException {
        if (!fits(channels)) {
            throw new InputException("mean " + Arrays.toString(mean) + " / std " + Arrays.toString(std)
                    + " do not fit a " + channels + "-channel input (give 1 or " + channels + " values)");
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof InputSpec s
                && Arrays.equals(mean, s.mean)
                && Arrays.equals(std, s.std)
                && rgb2bgr == s.rgb2bgr
                && Float.compare(scale, s.scale) == 0;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(mean) * 31
                + Arrays.hashCode(std) * 17
                + Boolean.hashCode(rgb2bgr)
                + Float.hashCode(scale);
    }

    @Override
    public String toString() {
        return "InputSpec(mean=" + Arrays.toString(mean) + ", std=" + Arrays.toString(std) + ", "
                + (rgb2bgr ? "BGR" : "RGB") + ", scale=" + scale + ")";
    }
}
