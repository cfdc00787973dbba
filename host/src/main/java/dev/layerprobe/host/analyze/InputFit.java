package dev.layerprobe.host.analyze;

import dev.layerprobe.core.tensor.QuantParams;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.host.input.InputException;
import dev.layerprobe.host.input.InputLoader;
import dev.layerprobe.host.input.InputSpec;
import dev.layerprobe.host.quantize.Quantizer;
import dev.layerprobe.host.report.Report;
import dev.layerprobe.simulator.NpuProgram;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Does an input look like what the model was calibrated on? The evidence behind the model verdict's
 * {@code input} case: a wrong preprocessing (channels reversed, pixels not scaled, mean/std left out)
 * feeds the model data it was never calibrated for, and no per-layer comparison can show that, since
 * golden and the simulator both see the same wrong input.
 *
 * <p>Statistics are per channel: axis 1 of a tensor of rank 3 or more (NCHW), else the whole tensor
 * as one channel. The <em>reference</em> is the calibration data loaded as calibration loads it (the
 * same preprocessing): per channel its lowest and highest value and the mean and standard deviation
 * of all its values. The input is compared with it in two ways:
 * <ul>
 *   <li><b>range</b>: the fraction of the input's values in a channel that lie outside the reference's
 *       range for that channel widened by {@link #MARGIN} of its width on each side. A correctly
 *       preprocessed image cannot leave it by much when the calibration set holds dark and bright
 *       pixels (normalised 8-bit pixels have a fixed range per channel); channels that were reversed
 *       after mean/std, raw 0..255 pixels, or pixels scaled twice do;</li>
 *   <li><b>distance</b>: per channel, the input's mean off the reference's mean in reference standard
 *       deviations, and the log of the ratio of their standard deviations; the root mean square of
 *       both over the channels. One image's colours differ from a set's average, so this alone
 *       decides nothing; it tells which preprocessing mix-up explains an input best.</li>
 * </ul>
 * The <em>mix-ups</em> tried map the input to what the calibration would have seen if the user had
 * made that mistake: channels reversed; values 255 times too large or too small; mean/std left out
 * (when the preprocessing has them); raw 0..255 pixels; each also with the channels reversed.
 *
 * <p>The rule: the input does not fit when more than {@link #OUTSIDE} of a channel's values lie outside
 * its range, or when its distance is at least {@link #FAR} and a mix-up that stays within the ranges
 * comes {@link #BETTER} times closer. The likely mix-up is the closest one within the ranges (or the
 * simplest within {@link #SIMPLER} times its distance, so that one image's colours do not add a channel
 * reversal to "raw 0..255 pixels"): named when
 * the input leaves a range and the mix-up does not put it farther from the data (than the input as
 * given, or than {@link #FAR}), or when it is the one that came {@link #BETTER} times closer. Without a reference (a QDQ model made elsewhere)
 * only the range test runs, against the range the input's own quantization covers, and then it fires at
 * {@link #CLIPPED} of the values clipped. A channel swap made <em>before</em> mean/std (BGR pixels
 * normalised with the RGB mean/std) keeps every channel's range; it shows only in the distance, when the
 * image's colours are unlike the calibration set's average, so it can go unnoticed here:
 * {@code check-input} on the device is the test for it. Stateless.
 */
final class InputFit {
    /** A channel's range is widened by this fraction of its width on each side. */
    static final double MARGIN = 0.02;
    /** More than this fraction of a channel's values outside its calibrated range: the input does not fit. */
    static final double OUTSIDE = 0.005;
    /** Without calibration data: more than this fraction clipped by the input's quantization. */
    static final double CLIPPED = 0.01;
    /** A distance (in reference standard deviations) from which a better-fitting mix-up is looked for. */
    static final double FAR = 1.5;
    /** A mix-up must come this many times closer than the input as given to make it a misfit. */
    static final double BETTER = 3;
    /** A simpler mix-up is preferred to the closest one when it lies within this factor of its distance. */
    static final double SIMPLER = 1.5;
    /** Calibration files read for the reference, spread evenly over the set. */
    static final int REFERENCE_SAMPLES = 64;

    private InputFit() {}

    /** Per-channel statistics of a set of tensors (see the class comment). Not thread-safe. */
    static final class Reference {
        private int channels = -1;
        private double[] min;
        private double[] max;
        private double[] sum;
        private double[] sumSq;
        private long[] count;
        private int samples;

        void add(Tensor t) {
            if (!t.isFloating()) {
                return;
            }
            int c = channels(t.shape());
            if (channels < 0) {
                channels = c;
                min = new double[c];
                max = new double[c];
                sum = new double[c];
                sumSq = new double[c];
                count = new long[c];
                java.util.Arrays.fill(min, Double.POSITIVE_INFINITY);
                java.util.Arrays.fill(max, Double.NEGATIVE_INFINITY);
            } else if (c != channels) {
                return;
            }
            float[] v = t.floats();
            long inner = inner(t.shape());
            for (int i = 0; i < v.length; i++) {
                int ch = (int) ((i / inner) % channels);
                double x = v[i];
                if (Double.isNaN(x)) {
                    continue;
                }
                min[ch] = Math.min(min[ch], x);
                max[ch] = Math.max(max[ch], x);
                sum[ch] += x;
                sumSq[ch] += x * x;
                count[ch]++;
            }
            samples++;
        }

        int samples() {
            return samples;
        }

        double mean(int c) {
            return sum[c] / count[c];
        }

        double std(int c) {
            double m = mean(c);
            return Math.sqrt(Math.max(0, sumSq[c] / count[c] - m * m));
        }
    }

    /** A preprocessing mix-up: what the calibration would have seen, channel c, from the input. */
    record MixUp(String label, boolean reversed, double scale, boolean normalize) {
        static final MixUp AS_GIVEN = new MixUp("as given", false, 1, false);

        double apply(double x, int c, InputSpec spec) {
            double v = x * scale;
            return normalize ? (v - spec.mean(c)) / spec.std(c) : v;
        }

        /** How many things the mix-up gets wrong at once. */
        int complexity() {
            return (reversed ? 1 : 0) + (scale != 1 ? 1 : 0) + (normalize ? 1 : 0);
        }

        int source(int c, int channels) {
            return reversed ? channels - 1 - c : c;
        }
    }

    /**
     * The mix-ups tried, simplest first; mean/std ones only when the preprocessing has mean/std that
     * fit the input's channels (a tensor file is fed as it is: mean/std meant for images need not).
     */
    static List<MixUp> mixUps(InputSpec spec, int channels) {
        boolean meanStd = false;
        for (int c = 0; c < channels && spec.fits(channels); c++) {
            meanStd |= spec.mean(c) != 0f || spec.std(c) != 1f;
        }
        List<MixUp> base = new ArrayList<>();
        base.add(MixUp.AS_GIVEN);
        base.add(new MixUp(
                "values 255 times too large (0..255 pixels where the calibration saw them scaled" + " by 1/255)",
                false,
                1 / 255.0,
                false));
        base.add(new MixUp(
                "values 255 times too small (pixels scaled by 1/255 where the calibration saw" + " 0..255)",
                false,
                255,
                false));
        if (meanStd) {
            base.add(new MixUp("mean/std left out", false, 1, true));
            base.add(new MixUp(
                    "raw 0..255 pixels (neither scaled by 1/255 nor normalised with mean/std)",
                    false,
                    1 / 255.0,
                    true));
        }
        List<MixUp> all = new ArrayList<>();
        for (MixUp m : base) {
            if (!m.equals(MixUp.AS_GIVEN)) {
                all.add(m);
            }
        }
        if (channels > 1) {
            for (MixUp m : base) {
                String label = "channels reversed" + (channels == 3 ? " (RGB/BGR)" : "")
                        + (m.equals(MixUp.AS_GIVEN) ? "" : ", " + m.label());
                all.add(new MixUp(label, true, m.scale(), m.normalize()));
            }
        }
        // Reversal alone is the commonest mix-up: try it first among equals.
        all.sort(java.util.Comparator.comparingInt(
                m -> m.label().startsWith("channels reversed") && !m.label().contains(",") ? 0 : 1));
        return all;
    }

    /**
     * The evidence that {@code input} does not look like the calibration data, or null when it does
     * (or when there is nothing to compare it with).
     *
     * @param name the input's file name, for the report
     * @param reference the calibration data's statistics, or null
     * @param inputQuant the quantization of the model input (its calibrated range), or null
     * @param spec the preprocessing the calibration data was loaded with
     */
    static Report.InputEvidence check(
            String name, Tensor input, Reference reference, QuantParams inputQuant, InputSpec spec) {
        if (!input.isFloating()) {
            return null;
        }
        int channels = channels(input.shape());
        if (reference != null && reference.samples() > 0 && reference.channels == channels) {
            return withReference(name, input, reference, spec, channels);
        }
        if (inputQuant != null && inputQuant.isPerTensor()) {
            return againstQuantization(name, input, inputQuant, spec, channels);
        }
        return null;
    }

    /**
     * The first analysis input that does not look like the calibration data ({@link #check}), with
     * the most values out of range; null when every input fits or there is nothing to compare with
     * (calibration on the inputs themselves). Up to {@link #REFERENCE_SAMPLES} calibration files make
     * the reference.
     *
     * @param sim the quantized program (the model input's quantization)
     * @param names the file names of {@code feeds}
     * @param feeds the analysis inputs checked (all of them, or a sample of a large set), as loaded
     */
    static Report.InputEvidence worst(
            AnalysisOptions o, NpuProgram sim, List<String> names, List<Map<String, Tensor>> feeds) {
        String name = sim.inputs().get(0).name();
        Reference reference = null;
        if (o.calib() != null) {
            try {
                List<Path> files = Quantizer.listInputs(o.calib());
                int n = Math.min(files.size(), REFERENCE_SAMPLES);
                reference = new Reference();
                int[] shape = feeds.get(0).get(name).shape();
                for (int i = 0; i < n; i++) {
                    // Spread over the whole set, which may be sorted by scene or source.
                    reference.add(InputLoader.load(files.get((int) ((long) i * files.size() / n)), shape, o.spec()));
                }
            } catch (InputException e) {
                reference = null; // calibration reported its own errors; the check is evidence only
            }
        } else if (o.quantized() == null) {
            return null; // calibrated on the inputs themselves: they fit by construction
        }
        Report.InputEvidence worst = null;
        for (int i = 0; i < feeds.size(); i++) {
            Report.InputEvidence e =
                    check(names.get(i), feeds.get(i).get(name), reference, sim.quantOf(name), o.spec());
            if (e != null && (worst == null || e.outsideRange() > worst.outsideRange())) {
                worst = e;
            }
        }
        return worst;
    }

    private static Report.InputEvidence withReference(
            String name, Tensor input, Reference ref, InputSpec spec, int channels) {
        double[] mean = new double[channels];
        double[] std = new double[channels];
        stats(input, channels, mean, std);
        double[] lo = new double[channels];
        double[] hi = new double[channels];
        for (int c = 0; c < channels; c++) {
            double w = ref.max[c] - ref.min[c];
            lo[c] = ref.min[c] - MARGIN * w;
            hi[c] = ref.max[c] + MARGIN * w;
        }
        int[] worstChannel = new int[1];
        double outside = outside(input, channels, MixUp.AS_GIVEN, spec, lo, hi, worstChannel);
        double distance = distance(MixUp.AS_GIVEN, mean, std, ref, spec, channels);
        MixUp best = null;
        double bestDistance = Double.POSITIVE_INFINITY;
        List<MixUp> fitting = new ArrayList<>();
        List<Double> distances = new ArrayList<>();
        for (MixUp m : mixUps(spec, channels)) {
            if (outside(input, channels, m, spec, lo, hi, null) >= OUTSIDE) {
                continue;
            }
            double d = distance(m, mean, std, ref, spec, channels);
            fitting.add(m);
            distances.add(d);
            if (d < bestDistance - 1e-9) {
                best = m;
                bestDistance = d;
            }
        }
        // The simplest mix-up among those nearly as close as the closest: one image's colours are not
        // evidence enough to add a channel reversal to "raw 0..255 pixels".
        for (int i = 0; i < fitting.size(); i++) {
            if (fitting.get(i).complexity() < best.complexity() && distances.get(i) <= SIMPLER * bestDistance) {
                best = fitting.get(i);
            }
        }
        if (best != null) {
            bestDistance = distances.get(fitting.indexOf(best));
        }
        boolean misfit = outside >= OUTSIDE || (distance >= FAR && bestDistance * BETTER <= distance);
        if (!misfit) {
            return null;
        }
        // Out of range: a mix-up that brings the input within every range and no farther from the
        // data explains it. In range but far: the mix-up is at least BETTER times closer (the rule above).
        String likely = best == null
                ? null
                : outside >= OUTSIDE ? (bestDistance <= Math.max(distance, FAR) ? best.label() : null) : best.label();
        float[] range = range(input);
        List<String> parts = new ArrayList<>();
        if (outside >= OUTSIDE) {
            int c = worstChannel[0];
            parts.add(String.format(
                    Locale.ROOT,
                    "%.1f%% of its values in channel %d lie outside the range the"
                            + " calibration data take there [%.3f, %.3f] (the input spans [%.3f, %.3f])",
                    100 * outside,
                    c,
                    ref.min[c],
                    ref.max[c],
                    range[0],
                    range[1]));
        }
        parts.add(String.format(
                Locale.ROOT,
                "its channels' means and spreads lie %.2f calibration standard"
                        + " deviations from the calibration data's (%d samples)%s",
                distance,
                ref.samples(),
                likely != null
                        ? String.format(
                                Locale.ROOT,
                                "; with %s they would lie %.2f from them and within" + " its ranges",
                                likely,
                                bestDistance)
                        : ""));
        return new Report.InputEvidence(name, String.join("; ", parts), likely, outside, distance);
    }

    private static Report.InputEvidence againstQuantization(
            String name, Tensor input, QuantParams q, InputSpec spec, int channels) {
        double step = q.scale(0);
        double lo = (q.qmin() - q.zeroPoint(0)) * step - step;
        double hi = (q.qmax() - q.zeroPoint(0)) * step + step;
        double[] los = new double[channels];
        double[] his = new double[channels];
        java.util.Arrays.fill(los, lo);
        java.util.Arrays.fill(his, hi);
        double clipped = outside(input, channels, MixUp.AS_GIVEN, spec, los, his, null);
        if (clipped < CLIPPED) {
            return null;
        }
        String likely = null;
        for (MixUp m : mixUps(spec, channels)) {
            if (outside(input, channels, m, spec, los, his, null) < OUTSIDE) {
                likely = m.label();
                break;
            }
        }
        float[] range = range(input);
        String evidence = String.format(
                Locale.ROOT,
                "%.1f%% of its values lie outside the range its quantization"
                        + " was calibrated for [%.3f, %.3f] and are clipped (the input spans [%.3f, %.3f])%s",
                100 * clipped,
                lo + step,
                hi - step,
                range[0],
                range[1],
                likely != null ? "; with " + likely + " they would fit" : "");
        return new Report.InputEvidence(name, evidence, likely, clipped, null);
    }

    /** The largest fraction over channels of mixed-up values outside [lo[c], hi[c]]; its channel into {@code worst[0]}. */
    private static double outside(
            Tensor t, int channels, MixUp m, InputSpec spec, double[] lo, double[] hi, int[] worst) {
        float[] v = t.floats();
        long inner = inner(t.shape());
        long per = v.length / channels;
        double max = 0;
        for (int c = 0; c < channels; c++) {
            int src = m.source(c, channels);
            long out = 0;
            for (long k = 0; k < per; k++) {
                int i = (int) (((k / inner) * channels + src) * inner + k % inner);
                double x = m.apply(v[i], c, spec);
                if (x < lo[c] || x > hi[c]) {
                    out++;
                }
            }
            double f = (double) out / per;
            if (f > max) {
                max = f;
                if (worst != null) {
                    worst[0] = c;
                }
            }
        }
        return max;
    }

    /** Root mean square over channels of the mean's offset (in reference stds) and the log std ratio. */
    static double distance(MixUp m, double[] mean, double[] std, Reference ref, InputSpec spec, int channels) {
        double sum = 0;
        for (int c = 0; c < channels; c++) {
            int src = m.source(c, channels);
            double a = m.scale() / (m.normalize() ? spec.std(c) : 1);
            double b = m.normalize() ? -spec.mean(c) / spec.std(c) : 0;
            double mu = a * mean[src] + b;
            double sd = Math.abs(a) * std[src];
            double refStd = Math.max(ref.std(c), 1e-12);
            double z = (mu - ref.mean(c)) / refStd;
            double r = Math.log(Math.max(sd, 1e-6 * refStd) / refStd);
            sum += z * z + r * r;
        }
        return Math.sqrt(sum / channels);
    }

    private static void stats(Tensor t, int channels, double[] mean, double[] std) {
        float[] v = t.floats();
        long inner = inner(t.shape());
        double[] s = new double[channels];
        double[] sq = new double[channels];
        long[] n = new long[channels];
        for (int i = 0; i < v.length; i++) {
            int c = (int) ((i / inner) % channels);
            s[c] += v[i];
            sq[c] += (double) v[i] * v[i];
            n[c]++;
        }
        for (int c = 0; c < channels; c++) {
            mean[c] = s[c] / Math.max(1, n[c]);
            std[c] = Math.sqrt(Math.max(0, sq[c] / Math.max(1, n[c]) - mean[c] * mean[c]));
        }
    }

    private static float[] range(Tensor t) {
        float lo = Float.POSITIVE_INFINITY;
        float hi = Float.NEGATIVE_INFINITY;
        for (float x : t.floats()) {
            lo = Math.min(lo, x);
            hi = Math.max(hi, x);
        }
        return new float[] {lo, hi};
    }

    static int channels(int[] shape) {
        return shape.length >= 3 && shape[1] > 0 ? shape[1] : 1;
    }

    private static long inner(int[] shape) {
        if (shape.length < 3) {
            return Math.max(1, java.util.Arrays.stream(shape).asLongStream().reduce(1, (a, b) -> a * b));
        }
        long n = 1;
        for (int i = 2; i < shape.length; i++) {
            n *= shape[i];
        }
        return n;
    }
}
