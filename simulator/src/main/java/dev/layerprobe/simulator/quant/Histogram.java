package dev.layerprobe.simulator.quant;

/**
 * Counts of one tensor's values, or of their magnitudes |x|, in equal-width bins over [lo, hi]:
 * the tensor's [min, max] from the first calibration pass, or [0, max(|min|, |max|)] for
 * magnitudes. Bin k covers {@code [lo + k*w, lo + (k+1)*w)} with
 * {@code w = (hi - lo) / bins}; the last bin also holds {@code hi}. When {@code lo == hi} every
 * value is in bin 0. Values outside [lo, hi] (only possible when the second pass sees other data
 * than the first) are counted in the end bins; NaN and infinities are not counted.
 *
 * <p>Filled only by {@link Calibration} while it collects (not thread-safe then); read-only and
 * safe to share once collection returns.
 */
public final class Histogram {
    private final float lo;
    private final float hi;
    private final long[] counts;

    Histogram(float lo, float hi, int bins) {
        this(lo, hi, new long[bins]);
    }

    private Histogram(float lo, float hi, long[] counts) {
        if (!(Float.isFinite(lo) && Float.isFinite(hi) && lo <= hi)) {
            throw new IllegalArgumentException("histogram range [" + lo + ", " + hi + "] is not a finite interval");
        }
        if (counts.length == 0) {
            throw new IllegalArgumentException("histogram has no bins");
        }
        this.lo = lo;
        this.hi = hi;
        this.counts = counts;
    }

    /** A histogram with these counts (copied); for caches and tests. */
    public static Histogram of(float lo, float hi, long[] counts) {
        for (long c : counts) {
            if (c < 0) {
                throw new IllegalArgumentException("negative histogram count " + c);
            }
        }
        return new Histogram(lo, hi, counts.clone());
    }

    void add(float[] values) {
        add(values, false);
    }

    void addMagnitudes(float[] values) {
        add(values, true);
    }

    private void add(float[] values, boolean magnitudes) {
        int n = counts.length;
        double scale = hi > lo ? n / ((double) hi - lo) : 0;
        for (float v : values) {
            if (!Float.isFinite(v)) {
                continue;
            }
            int k = (int) (((magnitudes ? Math.abs(v) : v) - (double) lo) * scale);
            counts[k < 0 ? 0 : Math.min(k, n - 1)]++;
        }
    }

    public float lo() {
        return lo;
    }

    public float hi() {
        return hi;
    }

    public int bins() {
        return counts.length;
    }

    /** Width of a bin, in the tensor's units. */
    public double binWidth() {
        return ((double) hi - lo) / counts.length;
    }

    /** Lower edge of bin k; {@code edge(bins())} is hi. */
    public double edge(int k) {
        return k == counts.length ? hi : lo + k * binWidth();
    }

    public long count(int k) {
        return counts[k];
    }

    /** A copy of the counts. */
    public long[] counts() {
        return counts.clone();
    }

    public long total() {
        long t = 0;
        for (long c : counts) {
            t += c;
        }
        return t;
    }

    /**
     * The q-quantile of the counted values, q in [0, 1], taking values as spread uniformly within
     * each bin (linear interpolation of the cumulative count); lo for an empty histogram.
     */
    public double quantile(double q) {
        long total = total();
        if (total == 0) {
            return lo;
        }
        double target = Math.max(0, Math.min(1, q)) * total;
        double w = binWidth();
        double before = 0;
        for (int k = 0; k < counts.length; k++) {
            long c = counts[k];
            if (c > 0 && before + c >= target) {
                double v = edge(k) + w * (target - before) / c;
                return Math.max(lo, Math.min(hi, v));
            }
            before += c;
        }
        return hi;
    }
}
