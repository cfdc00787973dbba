package dev.layerprobe.bench;

import dev.layerprobe.host.compare.MetricResult;
import dev.layerprobe.host.compare.Metrics;
import java.util.Arrays;
import java.util.Locale;
import java.util.Random;

/**
 * Throughput of {@link Metrics} (every statistic of one comparison: cos, distances, max/mean
 * |diff|, allclose, NaN count) against a plain single-pass loop over the same two float arrays that
 * computes only Σab in double, the least any comparison must do. Both read {@code 2 x --mib} MiB
 * per pass, fed in 1 MiB chunks as a streamed layer arrives; they run interleaved after a warm-up,
 * and the medians are printed in GB/s (10^9 bytes of input per second) with their ratio.
 *
 * <p>Usage: {@code MetricsBench [--mib N] [--repetitions N]}; defaults 256 (MiB per array) and 7.
 */
public final class MetricsBench {
    private static final int CHUNK = 1 << 18; // floats: 1 MiB

    private MetricsBench() {}

    public static void main(String[] args) {
        int mib = 256;
        int reps = 7;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--mib" -> mib = Integer.parseInt(args[++i]);
                case "--repetitions" -> reps = Integer.parseInt(args[++i]);
                default -> {
                    System.err.println("metrics: unexpected argument '" + args[i]
                            + "'; usage: metrics [--mib N] [--repetitions N]");
                    System.exit(2);
                }
            }
        }
        int n = (int) Math.min(Integer.MAX_VALUE - 8L, ((long) mib << 20) / Float.BYTES);
        float[] a = new float[n];
        float[] b = new float[n];
        Random r = new Random(42);
        for (int i = 0; i < n; i++) {
            a[i] = (float) r.nextGaussian();
            b[i] = a[i] + 0.01f * (float) r.nextGaussian();
        }
        double bytes = 2.0 * n * Float.BYTES;
        System.out.printf(
                Locale.ROOT,
                "metrics: two arrays of %d MiB (%d floats), %d repetitions after a warm-up%n",
                mib,
                n,
                reps);
        double check = 0;
        for (int w = 0; w < 3; w++) {
            check += metrics(a, b).cos() + dot(a, b);
        }
        double[] m = new double[reps];
        double[] p = new double[reps];
        for (int i = 0; i < reps; i++) {
            long t0 = System.nanoTime();
            check += metrics(a, b).cos();
            long t1 = System.nanoTime();
            check += dot(a, b);
            long t2 = System.nanoTime();
            m[i] = bytes / (t1 - t0);
            p[i] = bytes / (t2 - t1);
        }
        System.out.printf(Locale.ROOT, "Metrics (all statistics): %.2f GB/s (median)%n", median(m));
        System.out.printf(Locale.ROOT, "plain loop (sum a*b):     %.2f GB/s (median)%n", median(p));
        System.out.printf(Locale.ROOT, "ratio: %.2f%n", median(m) / median(p));
        if (Double.isNaN(check)) {
            System.out.println("(NaN)");
        }
    }

    private static MetricResult metrics(float[] a, float[] b) {
        Metrics m = new Metrics();
        for (int off = 0; off < a.length; off += CHUNK) {
            m.add(a, b, off, Math.min(CHUNK, a.length - off));
        }
        return m.result();
    }

    private static double dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += (double) a[i] * b[i];
        }
        return s;
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
