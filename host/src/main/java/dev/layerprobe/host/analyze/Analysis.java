package dev.layerprobe.host.analyze;

import dev.layerprobe.agent.AgentSetupException;
import dev.layerprobe.core.LayerProbeException;
import dev.layerprobe.host.client.AgentException;
import dev.layerprobe.host.golden.GoldenException;
import dev.layerprobe.host.input.InputException;
import dev.layerprobe.host.report.DiagnosisPrinter;
import dev.layerprobe.host.report.Report;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.function.IntConsumer;

/**
 * {@code layerprobe analyze} from start to end: the {@link AnalysisPipeline} runs and compares, then
 * the layer table and the diagnosis ({@link DiagnosisPrinter}) are printed, report.json, report.csv and
 * report.html written, and a closing line says where everything is. Dumps of the first input are
 * under {@code report/dumps/}. One run per instance at a time; not thread-safe.
 */
public final class Analysis {
    private final AnalysisOptions o;
    private final DatasetOptions d;
    private final PrintWriter out;
    private final IntConsumer inputDone;

    public Analysis(AnalysisOptions options, PrintWriter out) {
        this(options, out, i -> {});
    }

    /** @param inputDone told each input's index as its comparisons join the report (see {@link AnalysisPipeline}) */
    public Analysis(AnalysisOptions options, PrintWriter out, IntConsumer inputDone) {
        this(options, DatasetOptions.DEFAULT, out, inputDone);
    }

    /** @param dataset how the inputs are gone over (dumps, labels, resume, slice) */
    public Analysis(AnalysisOptions options, DatasetOptions dataset, PrintWriter out, IntConsumer inputDone) {
        this.o = options;
        this.d = dataset;
        this.out = out;
        this.inputDone = inputDone;
    }

    /**
     * Runs the analysis, prints it and writes its report; see {@link AnalysisPipeline#run()} for the
     * failures.
     *
     * @return the report, or null for a slice of the inputs ({@link DatasetOptions#shard()}), whose
     *     results stay in its state for {@code layerprobe merge}
     */
    public Report run()
            throws InputException, LayerProbeException, GoldenException, AgentException, AgentSetupException,
                    IOException {
        AnalysisResult r = new AnalysisPipeline(o, d, out, inputDone).run();
        if (r.report() == null) {
            out.println("Shard " + d.shard() + " done: its inputs' results are in "
                    + o.reportDir().resolve(RunState.FOLDER) + "; combine the shards with layerprobe merge");
            out.flush();
            return null;
        }
        return print(r, o.reportDir(), out);
    }

    /** Prints an analysis's table and diagnosis, and writes its report files into {@code dir}. */
    static Report print(AnalysisResult r, Path dir, PrintWriter out) throws IOException {
        Report report = r.report();
        ReportFiles.printTable(report, out);
        new DiagnosisPrinter(out).printAnalysis(report, r.quantized(), r.hostRequant(), r.inputs());
        ReportFiles.write(report, dir);
        out.println("Report: " + dir.resolve("report.json") + ", report.csv, " + dir.resolve("report.html")
                + (report.inputs() == null ? "" : ", inputs.csv") + "; dumps in " + r.dumps()
                + "; " + (r.quantized() ? "quantized model " : "compiled float model ") + r.deviceModel());
        out.flush();
        return report;
    }
}
