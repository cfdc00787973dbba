package dev.layerprobe.host.cli;

import dev.layerprobe.host.input.InputSpec;

/** Turns the preprocessing options shared by commands into an {@link InputSpec}. */
final class Preprocessing {
    private Preprocessing() {}

    static InputSpec spec(float[] mean, float[] std, boolean rgb2bgr) throws UsageException {
        float[] m = mean == null ? new float[] {0f} : mean;
        float[] s = std == null ? new float[] {1f} : std;
        if (m.length != 1 && m.length != 3) {
            throw new UsageException("--mean takes 1 or 3 values, got " + m.length);
        }
        if (s.length != 1 && s.length != 3) {
            throw new UsageException("--std takes 1 or 3 values, got " + s.length);
        }
        for (float v : s) {
            if (!(v > 0)) {
                throw new UsageException("--std values must be positive, got " + v);
            }
        }
        return InputSpec.DEFAULT.withMeanStd(m, s).withRgb2bgr(rgb2bgr);
    }
}
