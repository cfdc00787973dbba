package dev.layerprobe.host.report;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import dev.layerprobe.core.io.AtomicFiles;
import dev.layerprobe.host.compare.MetricResult;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Writes a {@link Report} as {@code report.json} and {@code report.csv}.
 *
 * <p>JSON: pretty-printed, snake_case keys; metrics as {@link MetricResult#toMap()} objects, so
 * NaN is written as {@code null} and an infinite value (the SQNR of a bit-exact layer) as the
 * string {@code "inf"} (or {@code "-inf"}), since JSON has no infinities and a large finite stand-in
 * would read as a real measurement.
 *
 * <p>CSV (RFC 4180): one row per layer; columns {@code name, op, shape, placement}, then
 * {@code <column>.<metric>} for each of the four columns and each of {@link #CSV_METRICS}. An
 * absent column or metric is an empty cell; NaN is {@code nan}, infinities {@code inf}/{@code -inf}
 * (what numpy and pandas parse). When any layer carries a vendor tool's own figures
 * ({@link Report.Vendor}), {@code vendor.layer} and {@code vendor.<column>.cos},
 * {@code vendor.<column>.euc} follow for each of the four columns; a layer without them has empty
 * cells there. Stateless and thread-safe.
 */
public final class ReportWriter {
    /** The metric keys written to CSV, per column, in order. */
    public static final List<String> CSV_METRICS = List.of(
            "cos",
            "euc",
            "rel_euc",
            "mse",
            "sqnr_db",
            "max_abs",
            "mean_abs",
            "allclose",
            "bit_exact",
            "max_lsb",
            "cos_mean",
            "cos_worst",
            "worst_input");
    /** The four comparison columns, in report order. */
    public static final List<String> COLUMNS = List.of("entire", "per_layer", "simu_err", "golden_err");

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .registerModule(new SimpleModule("layerprobe-metrics")
                    .addSerializer(MetricResult.class, new StdSerializer<MetricResult>(MetricResult.class) {
                        @Override
                        public void serialize(MetricResult m, JsonGenerator gen, SerializerProvider p)
                                throws IOException {
                            p.defaultSerializeValue(m.toMap(), gen);
                        }
                    })
                    .addSerializer(InputResult.class, new StdSerializer<InputResult>(InputResult.class) {
                        @Override
                        public void serialize(InputResult r, JsonGenerator gen, SerializerProvider p)
                                throws IOException {
                            p.defaultSerializeValue(r.toMap(), gen);
                        }
                    }));

    private ReportWriter() {}

    /** The mapper used for report.json, for callers that embed the report elsewhere (HTML). */
    public static ObjectMapper json() {
        return JSON.copy();
    }

    /** Writes report.json atomically: a reader or a killed process never sees half a report. */
    public static void writeJson(Report r, Path file) throws IOException {
        AtomicFiles.write(file, out -> JSON.writeValue(out, r));
    }

    public static String toJson(Report r) throws IOException {
        return JSON.writeValueAsString(r);
    }

    /** Writes report.csv atomically, as {@link #writeJson}. */
    public static void writeCsv(Report r, Path file) throws IOException {
        AtomicFiles.write(file, out -> {
            Writer w = new java.io.BufferedWriter(new java.io.OutputStreamWriter(out, StandardCharsets.UTF_8));
            writeCsv(r, w);
            w.flush();
        });
    }

    public static void writeCsv(Report r, Writer w) throws IOException {
        StringBuilder head = new StringBuilder("name,op,shape,placement");
        for (String c : COLUMNS) {
            for (String m : CSV_METRICS) {
                head.append(',').append(c).append('.').append(m);
            }
        }
        boolean vendor = r.layers().stream().anyMatch(l -> l.vendor() != null);
        if (vendor) {
            head.append(",vendor.layer");
            for (String c : COLUMNS) {
                head.append(",vendor.")
                        .append(c)
                        .append(".cos,vendor.")
                        .append(c)
                        .append(".euc");
            }
        }
        w.write(head.append("\r\n").toString());
        for (Report.Layer l : r.layers()) {
            StringBuilder row = new StringBuilder();
            row.append(cell(l.name()))
                    .append(',')
                    .append(cell(l.op()))
                    .append(',')
                    .append(cell(shape(l.shape())))
                    .append(',')
                    .append(cell(l.placement()));
            for (MetricResult m : new MetricResult[] {l.entire(), l.perLayer(), l.simuErr(), l.goldenErr()}) {
                Map<String, Object> values = m == null ? Map.of() : m.toMap();
                for (String k : CSV_METRICS) {
                    row.append(',').append(number(values, k));
                }
            }
            if (vendor) {
                Report.Vendor v = l.vendor();
                row.append(',').append(cell(v == null ? null : v.layer()));
                for (String c : COLUMNS) {
                    Report.VendorFigure f = v == null ? null : v.column(c);
                    row.append(',')
                            .append(f == null || f.cos() == null ? "" : f.cos().toString())
                            .append(',')
                            .append(f == null || f.euc() == null ? "" : f.euc().toString());
                }
            }
            w.write(row.append("\r\n").toString());
        }
    }

    /** The columns of inputs.csv, in order. */
    public static final List<String> INPUT_COLUMNS = List.of(
            "index",
            "file",
            "agent",
            "label",
            "golden_top1",
            "simulator_top1",
            "device_top1",
            "simulator_cos",
            "device_cos",
            "simu_err_cos",
            "first_wrong");

    /**
     * Writes inputs.csv atomically: one row per input, in input order, with {@link #INPUT_COLUMNS}
     * (RFC 4180; an unknown value is an empty cell, NaN {@code nan}).
     */
    public static void writeInputsCsv(List<InputResult> inputs, Path file) throws IOException {
        AtomicFiles.write(file, out -> {
            Writer w = new java.io.BufferedWriter(new java.io.OutputStreamWriter(out, StandardCharsets.UTF_8));
            w.write(String.join(",", INPUT_COLUMNS) + "\r\n");
            for (InputResult r : inputs) {
                String row = String.join(
                        ",",
                        Integer.toString(r.index()),
                        cell(r.file()),
                        cell(r.agent()),
                        r.label() == null ? "" : r.label().toString(),
                        top1(r.goldenTop()),
                        top1(r.simulatorTop()),
                        top1(r.deviceTop()),
                        cos(r.simulatorCos()),
                        cos(r.deviceCos()),
                        cos(r.simuErrCos()),
                        cell(r.firstWrong()));
                w.write(row + "\r\n");
            }
            w.flush();
        });
    }

    private static String top1(int[] top) {
        return top == null || top.length == 0 ? "" : Integer.toString(top[0]);
    }

    private static String cos(Double c) {
        return c == null ? "" : Double.toString(c).toLowerCase(Locale.ROOT);
    }

    /** {@code 1x3x224x224}; empty for null. */
    static String shape(int[] s) {
        if (s == null) {
            return "";
        }
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length; i++) {
            b.append(i == 0 ? "" : "x").append(s[i]);
        }
        return b.toString();
    }

    private static String number(Map<String, Object> values, String key) {
        if (!values.containsKey(key)) {
            return "";
        }
        Object v = values.get(key);
        if (v == null) {
            return "nan";
        }
        return v instanceof Double d ? Double.toString(d).toLowerCase(Locale.ROOT) : v.toString();
    }

    private static String cell(String s) {
        if (s == null) {
            return "";
        }
        if (s.contains(",") || s.contains("\"") || s.contains("\n") || s.contains("\r")) {
            return '"' + s.replace("\"", "\"\"") + '"';
        }
        return s;
    }
}
