package dev.layerprobe.host.compare;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Every statistic of one comparison of a reference {@code a} with a candidate {@code b}, computed
 * by {@link Metrics}; see there for definitions and the zero and NaN conventions. Immutable.
 *
 * @param count elements compared
 * @param cos cosine similarity, in [-1, 1]
 * @param euc ‖a−b‖₂
 * @param relEuc ‖a−b‖₂ / ‖a‖₂
 * @param mse mean of (a−b)²
 * @param sqnrDb 10·log10(Σa² / Σ(a−b)²), +inf when a = b
 * @param maxAbs max |a−b|
 * @param meanAbs mean |a−b|
 * @param allclose fraction of elements with |a−b| ≤ atol + rtol·|a|
 * @param atol the absolute tolerance used for {@code allclose}
 * @param rtol the relative tolerance used for {@code allclose}
 * @param nanCount elements where a or b is NaN (they make the sums NaN and are never close)
 * @param bitExact fraction of equal integer codes, or null when codes were not compared
 * @param maxLsb largest |code difference|, or null when codes were not compared
 * @param spread the per-input cos (mean and worst) when inputs were marked, else null
 */
public record MetricResult(
        long count,
        double cos,
        double euc,
        double relEuc,
        double mse,
        double sqnrDb,
        double maxAbs,
        double meanAbs,
        double allclose,
        double atol,
        double rtol,
        long nanCount,
        Double bitExact,
        Long maxLsb,
        InputSpread spread) {

    /** A result without a per-input spread. */
    public MetricResult(
            long count,
            double cos,
            double euc,
            double relEuc,
            double mse,
            double sqnrDb,
            double maxAbs,
            double meanAbs,
            double allclose,
            double atol,
            double rtol,
            long nanCount,
            Double bitExact,
            Long maxLsb) {
        this(
                count, cos, euc, relEuc, mse, sqnrDb, maxAbs, meanAbs, allclose, atol, rtol, nanCount, bitExact, maxLsb,
                null);
    }

    /** True when more than one input was compared and their own cosines are known. */
    public boolean hasSpread() {
        return spread != null && spread.inputs() > 1;
    }

    /** True when integer codes were compared ({@link #bitExact()} and {@link #maxLsb()} are set). */
    public boolean hasCodes() {
        return bitExact != null;
    }

    /**
     * The statistics as an ordered map for JSON and CSV, keyed in snake_case ({@code cos},
     * {@code rel_euc}, {@code sqnr_db}, ...). Values are numbers, except that NaN becomes null and
     * ±infinity the strings {@code "inf"} / {@code "-inf"}, since JSON has neither;
     * {@code bit_exact} and {@code max_lsb} are present only when codes were compared;
     * {@code cos_mean}, {@code cos_worst}, {@code worst_input} and {@code inputs} only over more
     * than one input (the pooled statistics are then over all inputs together).
     */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("count", count);
        m.put("cos", json(cos));
        m.put("euc", json(euc));
        m.put("rel_euc", json(relEuc));
        m.put("mse", json(mse));
        m.put("sqnr_db", json(sqnrDb));
        m.put("max_abs", json(maxAbs));
        m.put("mean_abs", json(meanAbs));
        m.put("allclose", json(allclose));
        m.put("atol", atol);
        m.put("rtol", rtol);
        m.put("nan_count", nanCount);
        if (hasCodes()) {
            m.put("bit_exact", json(bitExact));
            m.put("max_lsb", maxLsb);
        }
        if (hasSpread()) {
            m.putAll(spread.toMap());
        }
        return m;
    }

    /** A JSON-safe form of a double: itself if finite, null for NaN, "inf"/"-inf" for infinities. */
    public static Object json(double v) {
        if (Double.isNaN(v)) {
            return null;
        }
        if (Double.isInfinite(v)) {
            return v > 0 ? "inf" : "-inf";
        }
        return v;
    }

    @Override
    public String toString() {
        return String.format(
                java.util.Locale.ROOT,
                "cos=%.6f rel_euc=%.4g sqnr=%.2fdB max_abs=%.4g%s",
                cos,
                relEuc,
                sqnrDb,
                maxAbs,
                hasCodes() ? String.format(java.util.Locale.ROOT, " bit_exact=%.4f max_lsb=%d", bitExact, maxLsb) : "");
    }
}
