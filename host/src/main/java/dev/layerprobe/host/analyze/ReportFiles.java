package dev.layerprobe.host.analyze;

import dev.layerprobe.host.compare.MetricResult;
import dev.layerprobe.host.input.InputException;
import dev.layerprobe.host.report.ConsoleTable;
import dev.layerprobe.host.report.HtmlReport;
import dev.layerprobe.host.report.Report;
import dev.layerprobe.host.report.ReportWriter;
import dev.layerprobe.simulator.Layer;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * What {@code analyze} and {@code compare} share once the comparisons are made: the report's rows
 * and summary, the console table, and the files ({@code report.json}, {@code report.csv},
 * {@code report.html}). Stateless.
 */
final class ReportFiles {
    private ReportFiles() {}

    /** One report row per comparison, in execution order. */
    static List<Report.Layer> rows(List<LayerComparison> comparisons) {
        List<Report.Layer> layers = new ArrayList<>();
        for (LayerComparison c : comparisons) {
            Layer l = c.layer;
            layers.add(new Report.Layer(
                    l.name(),
                    l.opLabel(),
                    c.shape(),
                    l.placement() == null ? null : l.placement().label(),
                    c.entire(),
                    c.perLayer(),
                    c.simuErr(),
                    c.goldenErr(),
                    l.fusedNodes()));
        }
        return layers;
    }

    /**
     * Counts the layers below the thresholds by the column that says what the user gets.
     *
     * @param last the column counted for a row (null: the row is not counted)
     */
    static Report.Summary summary(
            List<Report.Layer> layers,
            Function<Report.Layer, MetricResult> last,
            double warnCos,
            double wrongCos,
            String verdict) {
        int warnings = 0;
        int wrong = 0;
        for (Report.Layer l : layers) {
            MetricResult m = last.apply(l);
            if (m != null && m.cos() < warnCos) {
                warnings++;
            }
            if (m != null && m.cos() < wrongCos) {
                wrong++;
            }
        }
        return new Report.Summary(layers.size(), warnings, wrong, warnCos, wrongCos, verdict);
    }

    /** Prints the per-layer table. */
    static void printTable(Report r, PrintWriter out) {
        new ConsoleTable().print(r, out);
    }

    /**
     * Creates the report folder, or finds it there. A path that exists and is not a folder (or lies
     * under a file) is the user's input error, named as such, rather than an I/O error about it.
     */
    static void prepare(Path dir) throws IOException, InputException {
        check(dir);
        Files.createDirectories(dir);
    }

    /** What {@link #prepare} checks, without creating anything. */
    static void check(Path dir) throws InputException {
        for (Path p = dir.toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.exists(p)) {
                if (!Files.isDirectory(p)) {
                    throw new InputException("--report " + dir + ": "
                            + (p.equals(dir.toAbsolutePath())
                                    ? "it exists and is not a folder"
                                    : p + " exists and is not a folder")
                            + "; give a folder (new or existing)");
                }
                break;
            }
        }
    }

    /** Writes report.json, report.csv and report.html into {@code dir}, and inputs.csv for an analysis. */
    static void write(Report r, Path dir) throws IOException {
        Files.createDirectories(dir);
        if (r.inputs() != null) {
            ReportWriter.writeInputsCsv(r.inputs(), dir.resolve("inputs.csv"));
        }
        ReportWriter.writeJson(r, dir.resolve("report.json"));
        ReportWriter.writeCsv(r, dir.resolve("report.csv"));
        HtmlReport.write(r, dir.resolve("report.html"));
    }
}
