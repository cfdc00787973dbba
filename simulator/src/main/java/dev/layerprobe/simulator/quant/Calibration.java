package dev.layerprobe.simulator.quant;

import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.Layer;
import dev.layerprobe.simulator.NpuProgram;
import dev.layerprobe.simulator.SimulatorException;
import dev.layerprobe.simulator.graph.ValueInfo;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;
import java.util.function.IntConsumer;

/**
 * Calibration of every activation tensor (graph inputs and layer outputs) over a set of samples
 * run through a float program: the observed [min, max] of each and, for the histogram
 * algorithms ({@link CalibrationAlgorithm#needsHistogram()}), two histograms filled in a second
 * pass: of its values over that [min, max] (percentile, MSE) and of their magnitudes |x| over
 * [0, max(|min|, |max|)] (entropy, as TensorRT: folding the first would make bins come in equal
 * pairs whenever 0 is a bin edge, which flattens the KL search).
 *
 * <p>{@link #range(String)} gives the clipping range the quantizer uses, chosen by this
 * calibration's {@link #options()}; {@link #range(String, CalibrationOptions)} and
 * {@link #withOptions(CalibrationOptions)} derive ranges for another algorithm from the same data
 * without running the model again (all algorithms work when histograms are present).
 *
 * <p>Ranges are in the tensor's real (float) units, as {@code float[] {lo, hi}} with
 * {@code min <= lo <= hi <= max}; the quantizer ({@link QdqWriter#activationParams}) widens them to
 * include 0. Non-floating tensors (shapes, indices) are not calibrated. NaN values are ignored;
 * a tensor with infinite values gets no histogram and keeps [min, max] under every algorithm.
 *
 * <p>Not thread-safe while collecting or while {@link #observe} is called. Once built, reads
 * ({@code range}, {@code ranges}, {@code withOptions}, {@code save}) are safe from any thread;
 * derived ranges are computed once per tensor and options and remembered.
 */
public final class Calibration {
    private final Map<String, float[]> minMax = new LinkedHashMap<>();
    private final Map<String, Histogram> histograms = new LinkedHashMap<>();
    private final Map<String, Histogram> magnitudes = new LinkedHashMap<>();
    private final Map<CalibrationOptions, Map<String, float[]>> derived = new ConcurrentHashMap<>();
    private final CalibrationOptions options;
    private int samples;

    /** An empty min/max calibration, to be filled with {@link #observe}. */
    public Calibration() {
        this(CalibrationOptions.DEFAULT);
    }

    private Calibration(CalibrationOptions options) {
        this.options = options;
    }

    /** Min/max calibration: {@code collect(floatProgram, samples, CalibrationOptions.DEFAULT, progress)}. */
    public static Calibration collect(
            NpuProgram floatProgram, Iterable<Map<String, Tensor>> samples, IntConsumer progress)
            throws SimulatorException {
        return collect(floatProgram, samples, CalibrationOptions.DEFAULT, progress);
    }

    /**
     * Runs the samples through the float program: a first pass records min/max of every tensor;
     * when the algorithm needs histograms, a second pass over the same samples fills the two
     * histograms of {@code options.bins()} bins per tensor (see the class comment). {@code samples} is therefore
     * iterated twice for histogram algorithms and must give the same samples both times (a
     * collection, not a one-shot stream).
     *
     * @param progress called after each sample of each pass with the number of sample runs done
     *                 so far over both passes: 1 .. {@code passes(options.algorithm()) * n}
     * @throws IllegalArgumentException if the second pass sees another number of samples
     */
    public static Calibration collect(
            NpuProgram floatProgram,
            Iterable<Map<String, Tensor>> samples,
            CalibrationOptions options,
            IntConsumer progress)
            throws SimulatorException {
        Calibration c = new Calibration(options);
        int done = 0;
        for (Map<String, Tensor> feeds : samples) {
            c.pass(floatProgram, feeds, c::observeMinMax);
            c.samples++;
            progress.accept(++done);
        }
        if (!options.algorithm().needsHistogram()) {
            return c;
        }
        c.startHistograms(options.bins());
        int second = 0;
        for (Map<String, Tensor> feeds : samples) {
            c.pass(floatProgram, feeds, c::observeHistogram);
            second++;
            progress.accept(++done);
        }
        if (second != c.samples) {
            throw new IllegalArgumentException("calibration samples gave " + c.samples + " items in the first pass and "
                    + second + " in the second; " + options.algorithm() + " needs samples that can be iterated twice");
        }
        return c;
    }

    /** Passes over the samples {@link #collect} makes for this algorithm (1 or 2), to size a progress bar. */
    public static int passes(CalibrationAlgorithm algorithm) {
        return algorithm.passes();
    }

    /** Reads a calibration cache; empty when the file is absent, unreadable or for another key. */
    public static Optional<Calibration> load(Path file, String key) {
        return CalibrationCache.lookup(file, key).found();
    }

    /** Writes this calibration to a cache file atomically; see {@link CalibrationCache}. */
    public void save(Path file, String key) throws IOException {
        CalibrationCache.save(file, key, this);
    }

    private void pass(NpuProgram floatProgram, Map<String, Tensor> feeds, BiConsumer<String, Tensor> sink)
            throws SimulatorException {
        for (ValueInfo in : floatProgram.inputs()) {
            Tensor t = feeds.get(in.name());
            if (t != null) {
                sink.accept(in.name(), t);
            }
        }
        floatProgram.run(feeds, (Layer layer, LayerValue value) -> sink.accept(layer.name(), value.real()));
    }

    /**
     * Widens the min/max of a tensor by the values of t (a first-pass observation).
     *
     * @throws IllegalStateException if this calibration holds histograms, which are fixed to the
     *                               ranges seen when they were started
     */
    public void observe(String tensor, Tensor t) {
        if (!histograms.isEmpty()) {
            throw new IllegalStateException("calibration already holds histograms over the first pass's ranges");
        }
        observeMinMax(tensor, t);
    }

    private void observeMinMax(String tensor, Tensor t) {
        if (!t.isFloating()) {
            return; // shapes and indices are not quantized
        }
        float lo = Float.POSITIVE_INFINITY;
        float hi = Float.NEGATIVE_INFINITY;
        for (float v : t.floats()) {
            if (v < lo) {
                lo = v;
            }
            if (v > hi) {
                hi = v;
            }
        }
        float[] r = minMax.computeIfAbsent(tensor, k -> new float[] {Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY});
        r[0] = Math.min(r[0], lo);
        r[1] = Math.max(r[1], hi);
    }

    private void startHistograms(int bins) {
        for (Map.Entry<String, float[]> e : minMax.entrySet()) {
            float[] r = e.getValue();
            if (Float.isFinite(r[0]) && Float.isFinite(r[1])) {
                histograms.put(e.getKey(), new Histogram(r[0], r[1], bins));
                magnitudes.put(e.getKey(), new Histogram(0f, Math.max(-r[0], Math.abs(r[1])), bins));
            }
        }
    }

    private void observeHistogram(String tensor, Tensor t) {
        Histogram h = histograms.get(tensor);
        if (h != null && t.isFloating()) {
            h.add(t.floats());
            magnitudes.get(tensor).addMagnitudes(t.floats());
        }
    }

    /** The clipping range of a tensor under this calibration's options, or null if never observed. */
    public float[] range(String tensor) {
        return range(tensor, options);
    }

    /**
     * The clipping range of a tensor under other options, derived from the recorded min/max and
     * histograms (the model is not run again), or null if the tensor was never observed.
     *
     * @throws IllegalStateException if the algorithm needs histograms and this calibration has none
     */
    public float[] range(String tensor, CalibrationOptions o) {
        requireHistogramsFor(o);
        float[] mm = minMax.get(tensor);
        if (mm == null) {
            return null;
        }
        Histogram h = histograms.get(tensor);
        if (o.algorithm() == CalibrationAlgorithm.MINMAX || h == null) {
            return mm.clone();
        }
        return derived.computeIfAbsent(o, k -> new ConcurrentHashMap<>())
                .computeIfAbsent(tensor, k -> ClippingSearch.select(h, magnitudes.get(tensor), mm[0], mm[1], o))
                .clone();
    }

    /**
     * This calibration's data with other options: what {@code QdqWriter} should be given to
     * quantize with another algorithm. Shares nothing mutable with this one.
     *
     * @throws IllegalStateException if the algorithm needs histograms and this calibration has none
     */
    public Calibration withOptions(CalibrationOptions o) {
        requireHistogramsFor(o);
        Calibration c = new Calibration(o);
        c.copyFrom(this);
        return c;
    }

    private void copyFrom(Calibration other) {
        other.minMax.forEach((k, v) -> minMax.put(k, v.clone()));
        histograms.putAll(other.histograms);
        magnitudes.putAll(other.magnitudes);
        samples = other.samples;
    }

    private void requireHistogramsFor(CalibrationOptions o) {
        if (o.algorithm().needsHistogram() && histograms.isEmpty() && !minMax.isEmpty()) {
            throw new IllegalStateException("calibration was collected with " + options.algorithm()
                    + " and holds no histograms; " + o.algorithm() + " needs them (collect with one of "
                    + Arrays.stream(CalibrationAlgorithm.values())
                            .filter(CalibrationAlgorithm::needsHistogram)
                            .toList() + ")");
        }
    }

    /** Clipping ranges of every observed tensor under this calibration's options, in observation order. */
    public Map<String, float[]> ranges() {
        Map<String, float[]> out = new LinkedHashMap<>();
        for (String t : minMax.keySet()) {
            out.put(t, range(t));
        }
        return Collections.unmodifiableMap(out);
    }

    /** The observed [min, max] of a tensor (whatever the algorithm), or null if never observed. */
    public float[] minMax(String tensor) {
        float[] r = minMax.get(tensor);
        return r == null ? null : r.clone();
    }

    /** The histogram of a tensor's values over its [min, max], or null when none was collected for it. */
    public Histogram histogram(String tensor) {
        return histograms.get(tensor);
    }

    /**
     * The histogram of a tensor's magnitudes |x| over [0, max(|min|, |max|)] (what entropy
     * calibration works on), or null when none was collected for it.
     */
    public Histogram magnitudeHistogram(String tensor) {
        return magnitudes.get(tensor);
    }

    /** Whether histograms were collected, so that every algorithm can be derived. */
    public boolean hasHistograms() {
        return !histograms.isEmpty();
    }

    /** Names of the observed tensors, in observation order. */
    public Set<String> tensors() {
        return Collections.unmodifiableSet(minMax.keySet());
    }

    public CalibrationOptions options() {
        return options;
    }

    /** Samples run through the program (counted once, whatever the number of passes). */
    public int samples() {
        return samples;
    }

    // ---- for CalibrationCache

    /** histograms and magnitudes have the same keys, a subset of minMax's. */
    static Calibration restore(
            CalibrationOptions options,
            int samples,
            Map<String, float[]> minMax,
            Map<String, Histogram> histograms,
            Map<String, Histogram> magnitudes) {
        Calibration c = new Calibration(options);
        minMax.forEach((k, v) -> c.minMax.put(k, v.clone()));
        c.histograms.putAll(histograms);
        c.magnitudes.putAll(magnitudes);
        c.samples = samples;
        return c;
    }
}
