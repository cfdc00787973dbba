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
import java.util.function.IntConsumer;

/**
 * {@code layerprobe analyze} from start to end: the {@link AnalysisPipeline} runs and compares, then
 * the layer table and the diagnosis ({@link DiagnosisPrinter}) are printed, report.json, report.csv and
 * report.html written, and a closing line says where everything is. Dumps of the first input are
 * under {@code report/dumps/}. One run per instance at a time; not thread-safe.
 */
public final class Analysis {
    private final AnalysisOptions o;
    private final PrintWriter out;
    private final IntConsumer inputDone;

    public Analysis(AnalysisOptions options, PrintWriter out) {
        this(options, out, i -> {});
    }

    /** @param inputDone told each input's index as its comparisons join the report (see {@link AnalysisPipeline}) */
    public Analysis(AnalysisOptions options, PrintWriter out, IntConsumer inputDone) {
        this.o = options;
        this.out = out;
        this.inputDone = inputDone;
    }

    /** Runs the analysis, prints it and writes its report; see {@link AnalysisPipeline#run()} for the failures. */
    public Report run()
            throws InputException, LayerProbeException, GoldenException, AgentException, AgentSetupException,
                    IOException {
        AnalysisResult r = new AnalysisPipeline(o, out, inputDone).run();
        Report report = r.report();
        ReportFiles.printTable(report, out);
        new DiagnosisPrinter(out).printAnalysis(report, r.quantized(), r.hostRequant(), r.inputs());
        ReportFiles.write(report, o.reportDir());
        out.println("Report: " + o.reportDir().resolve("report.json") + ", report.csv, "
                + o.reportDir().resolve("report.html") + "; dumps in " + r.dumps()
                + "; " + (r.quantized() ? "quantized model " : "compiled float model ") + r.deviceModel());
        out.flush();
        return report;
    }
}
