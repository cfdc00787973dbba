package dev.layerprobe.simulator.quant;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.layerprobe.core.OneLine;
import dev.layerprobe.core.io.AtomicFiles;
import dev.layerprobe.core.io.Sha256;
import dev.layerprobe.core.tensor.DType;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A calibration saved as JSON so that later runs skip running the model over the calibration set:
 * per tensor its min/max and histogram counts, the number of samples, the options it was collected
 * with, and a key. The key (see {@link #key}) names the model's content, the calibration files and
 * the caller's preprocessing, so a change of any of them makes the cache stale. A cache holding
 * histograms serves every {@link CalibrationAlgorithm} ({@link Calibration#withOptions}); one
 * collected with minmax serves minmax only.
 *
 * <p>Layout (version {@value #VERSION}):
 * <pre>{@code
 * {"format": "layerprobe-calibration", "version": 1, "key": "...", "samples": 16,
 *  "options": {"algorithm": "kl", "percentile": 99.99, "activations": "INT8", "bins": 2048},
 *  "tensors": [{"name": "conv1", "min": -3.5, "max": 7.25, "counts": [0, 12, ...],
 *               "abs_counts": [3, 40, ...]}, ...]}
 * }</pre>
 * {@code counts} (values over [min, max]) and {@code abs_counts} (|x| over
 * [0, max(|min|, |max|)]) are absent for tensors without histograms. Non-finite min/max are written as the strings "NaN", "Infinity", "-Infinity".
 *
 * <p>Files are written to a temporary file in the same directory and moved into place, so a
 * reader sees the old file or the new one, never a partial one. Reading never throws: a missing,
 * corrupt or stale cache is a {@link Lookup} miss with a reason to print. Stateless and
 * thread-safe.
 */
public final class CalibrationCache {
    public static final String FORMAT = "layerprobe-calibration";
    public static final int VERSION = 1;

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS); // exact decimal → float round trip

    private CalibrationCache() {}

    /**
     * The outcome of reading a cache: the calibration on a hit, otherwise why not (absent file,
     * unreadable or corrupt file, key mismatch naming what changed, missing histograms).
     */
    public record Lookup(Calibration calibration, String reason) {
        static Lookup hit(Calibration c) {
            return new Lookup(c, null);
        }

        static Lookup miss(String reason) {
            return new Lookup(null, reason);
        }

        public boolean isHit() {
            return calibration != null;
        }

        public Optional<Calibration> found() {
            return Optional.ofNullable(calibration);
        }
    }

    /**
     * A cache key: the sha256 of the model file, the preprocessing string, and per calibration
     * file (sorted by file name, then path) its name, size and sha256. Content hashes rather than
     * modification times, so touching or copying the set keeps the cache and editing a file in
     * place does not. One line per part, so a mismatch can say which part changed.
     *
     * @param preprocessing everything the caller does to a file before it becomes a tensor
     *                      (layout, size, mean/std, colour order), as a stable string
     */
    public static String key(Path model, Collection<Path> calibrationFiles, String preprocessing) throws IOException {
        return key(Sha256.hexOf(model), calibrationFiles, preprocessing);
    }

    /** {@link #key(Path, Collection, String)} for a model already in memory. */
    public static String key(byte[] model, Collection<Path> calibrationFiles, String preprocessing) throws IOException {
        MessageDigest md = Sha256.newDigest();
        md.update(model);
        return key(Sha256.hex(md), calibrationFiles, preprocessing);
    }

    private static String key(String modelSha256, Collection<Path> calibrationFiles, String preprocessing)
            throws IOException {
        StringBuilder sb = new StringBuilder();
        sb.append("model sha256=").append(modelSha256).append('\n');
        sb.append("preprocessing=")
                .append(preprocessing.replace("\\", "\\\\").replace("\n", "\\n"))
                .append('\n');
        List<Path> files = new ArrayList<>(calibrationFiles);
        files.sort(Comparator.comparing((Path p) -> String.valueOf(p.getFileName()))
                .thenComparing(Path::toString));
        for (Path f : files) {
            sb.append("file ")
                    .append(f.getFileName())
                    .append(" size=")
                    .append(Files.size(f))
                    .append(" sha256=")
                    .append(Sha256.hexOf(f))
                    .append('\n');
        }
        return sb.toString();
    }

    /** Reads the cache for this key; never throws. */
    public static Lookup lookup(Path file, String key) {
        return lookup(file, key, CalibrationAlgorithm.MINMAX);
    }

    /**
     * Reads the cache for this key and checks that it can serve {@code algorithm} (histogram
     * algorithms need a cache collected with one); never throws.
     */
    public static Lookup lookup(Path file, String key, CalibrationAlgorithm algorithm) {
        if (!Files.isRegularFile(file)) {
            return Lookup.miss("no calibration cache at " + file);
        }
        JsonNode root;
        try (InputStream in = Files.newInputStream(file)) {
            root = JSON.readTree(in);
        } catch (IOException | RuntimeException e) {
            return Lookup.miss("calibration cache " + file + " is unreadable (" + OneLine.of(e) + ")");
        }
        try {
            if (root == null
                    || !root.isObject()
                    || !FORMAT.equals(root.path("format").asText())) {
                return Lookup.miss("calibration cache " + file + " is not a " + FORMAT + " file");
            }
            int version = root.path("version").asInt(-1);
            if (version != VERSION) {
                return Lookup.miss(
                        "calibration cache " + file + " has version " + root.path("version") + ", expected " + VERSION);
            }
            String cachedKey = text(root, "key");
            if (!cachedKey.equals(key)) {
                return Lookup.miss("calibration cache " + file + " is stale: " + describeMismatch(cachedKey, key));
            }
            Calibration c = parse(root);
            if (algorithm.needsHistogram() && !c.hasHistograms() && !c.tensors().isEmpty()) {
                return Lookup.miss("calibration cache " + file + " holds min/max only (collected with "
                        + c.options().algorithm() + "); " + algorithm + " needs histograms");
            }
            return Lookup.hit(c);
        } catch (CorruptCacheException | RuntimeException e) {
            return Lookup.miss("calibration cache " + file + " is corrupt (" + OneLine.of(e) + ")");
        }
    }

    private static final class CorruptCacheException extends Exception {
        CorruptCacheException(String message) {
            super(message);
        }
    }

    private static Calibration parse(JsonNode root) throws CorruptCacheException {
        JsonNode o = object(root, "options");
        CalibrationOptions options;
        try {
            options = new CalibrationOptions(
                    CalibrationAlgorithm.fromCliName(text(o, "algorithm")),
                    number(o, "percentile"),
                    DType.valueOf(text(o, "activations")),
                    (int) integer(o, "bins"));
        } catch (IllegalArgumentException e) {
            throw new CorruptCacheException("bad options: " + e.getMessage());
        }
        long samples = integer(root, "samples");
        if (samples < 0 || samples > Integer.MAX_VALUE) {
            throw new CorruptCacheException("bad sample count " + samples);
        }
        JsonNode tensors = root.get("tensors");
        if (tensors == null || !tensors.isArray()) {
            throw new CorruptCacheException("no 'tensors' array");
        }
        Map<String, float[]> minMax = new LinkedHashMap<>();
        Map<String, Histogram> histograms = new LinkedHashMap<>();
        Map<String, Histogram> magnitudes = new LinkedHashMap<>();
        for (JsonNode t : tensors) {
            String name = text(t, "name");
            float min = floatValue(t, "min");
            float max = floatValue(t, "max");
            if (minMax.put(name, new float[] {min, max}) != null) {
                throw new CorruptCacheException("tensor '" + name + "' appears twice");
            }
            if (t.get("counts") == null && t.get("abs_counts") == null) {
                continue;
            }
            long[] counts = counts(t, "counts", name, options.bins());
            long[] absCounts = counts(t, "abs_counts", name, options.bins());
            try {
                histograms.put(name, Histogram.of(min, max, counts));
                magnitudes.put(name, Histogram.of(0f, Math.max(-min, Math.abs(max)), absCounts));
            } catch (IllegalArgumentException e) {
                throw new CorruptCacheException("tensor '" + name + "': " + e.getMessage());
            }
        }
        if (!histograms.isEmpty()
                && histograms.size()
                        != minMax.values().stream()
                                .filter(r -> Float.isFinite(r[0]) && Float.isFinite(r[1]))
                                .count()) {
            throw new CorruptCacheException("some finite tensors lack histograms");
        }
        return Calibration.restore(options, (int) samples, minMax, histograms, magnitudes);
    }

    private static long[] counts(JsonNode tensor, String field, String name, int bins) throws CorruptCacheException {
        JsonNode counts = tensor.get(field);
        if (counts == null || !counts.isArray() || counts.size() != bins) {
            throw new CorruptCacheException("tensor '" + name + "' has " + (counts == null ? 0 : counts.size()) + " "
                    + field + ", expected " + bins);
        }
        long[] c = new long[bins];
        for (int i = 0; i < bins; i++) {
            JsonNode v = counts.get(i);
            if (!v.canConvertToExactIntegral() || !v.canConvertToLong() || v.asLong() < 0) {
                throw new CorruptCacheException("tensor '" + name + "' has a bad count " + v + " in " + field);
            }
            c[i] = v.asLong();
        }
        return c;
    }

    private static JsonNode object(JsonNode n, String field) throws CorruptCacheException {
        JsonNode v = n.get(field);
        if (v == null || !v.isObject()) {
            throw new CorruptCacheException("no '" + field + "' object");
        }
        return v;
    }

    private static String text(JsonNode n, String field) throws CorruptCacheException {
        JsonNode v = n.get(field);
        if (v == null || !v.isTextual()) {
            throw new CorruptCacheException("no '" + field + "' string");
        }
        return v.asText();
    }

    private static long integer(JsonNode n, String field) throws CorruptCacheException {
        JsonNode v = n.get(field);
        if (v == null || !v.canConvertToExactIntegral() || !v.canConvertToLong()) {
            throw new CorruptCacheException("no '" + field + "' integer");
        }
        return v.asLong();
    }

    private static double number(JsonNode n, String field) throws CorruptCacheException {
        JsonNode v = n.get(field);
        if (v == null || !v.isNumber()) {
            throw new CorruptCacheException("no '" + field + "' number");
        }
        return Double.parseDouble(v.decimalValue().toString());
    }

    /** A float written as a JSON number (exact via its decimal text) or as "NaN"/"Infinity"/"-Infinity". */
    private static float floatValue(JsonNode n, String field) throws CorruptCacheException {
        JsonNode v = n.get(field);
        if (v != null && v.isNumber()) {
            return Float.parseFloat(v.decimalValue().toString());
        }
        if (v != null && v.isTextual()) {
            switch (v.asText()) {
                case "NaN":
                    return Float.NaN;
                case "Infinity":
                    return Float.POSITIVE_INFINITY;
                case "-Infinity":
                    return Float.NEGATIVE_INFINITY;
                default:
                    break;
            }
        }
        throw new CorruptCacheException("no '" + field + "' number");
    }

    /** Says which lines of two keys made by {@link #key} differ; generic for other keys. */
    static String describeMismatch(String cached, String wanted) {
        List<String> parts = new ArrayList<>();
        if (!linesStarting(cached, "model ").equals(linesStarting(wanted, "model "))) {
            parts.add("the model changed");
        }
        if (!linesStarting(cached, "preprocessing=").equals(linesStarting(wanted, "preprocessing="))) {
            parts.add("the preprocessing changed");
        }
        List<String> cf = linesStarting(cached, "file ");
        List<String> wf = linesStarting(wanted, "file ");
        if (!cf.equals(wf)) {
            parts.add("the calibration set changed (" + cf.size() + " files cached, " + wf.size() + " given)");
        }
        return parts.isEmpty() ? "its key differs" : String.join(", ", parts);
    }

    private static List<String> linesStarting(String key, String prefix) {
        return key.lines().filter(l -> l.startsWith(prefix)).toList();
    }

    /**
     * Writes the calibration under this key, atomically (temporary file in the same directory,
     * then a move over the target). A failure leaves any previous file in place.
     */
    public static void save(Path file, String key, Calibration c) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        root.put("format", FORMAT);
        root.put("version", VERSION);
        root.put("key", key);
        root.put("samples", c.samples());
        CalibrationOptions o = c.options();
        ObjectNode opts = root.putObject("options");
        opts.put("algorithm", o.algorithm().cliName());
        opts.put("percentile", o.percentile());
        opts.put("activations", o.activations().name());
        opts.put("bins", c.hasHistograms() ? c.histogram(firstWithHistogram(c)).bins() : o.bins());
        ArrayNode tensors = root.putArray("tensors");
        for (String name : c.tensors()) {
            float[] mm = c.minMax(name);
            ObjectNode t = tensors.addObject();
            t.put("name", name);
            putFloat(t, "min", mm[0]);
            putFloat(t, "max", mm[1]);
            Histogram h = c.histogram(name);
            if (h != null) {
                putCounts(t.putArray("counts"), h);
                putCounts(t.putArray("abs_counts"), c.magnitudeHistogram(name));
            }
        }
        AtomicFiles.write(file, out -> JSON.writeValue(out, root));
    }

    private static void putCounts(ArrayNode a, Histogram h) {
        for (int k = 0; k < h.bins(); k++) {
            a.add(h.count(k));
        }
    }

    private static String firstWithHistogram(Calibration c) {
        return c.tensors().stream()
                .filter(t -> c.histogram(t) != null)
                .findFirst()
                .orElseThrow();
    }

    private static void putFloat(ObjectNode n, String field, float v) {
        if (Float.isFinite(v)) {
            n.put(field, v);
        } else {
            n.put(field, Float.isNaN(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity");
        }
    }
}
