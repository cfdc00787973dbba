package dev.layerprobe.host.analyze;

import dev.layerprobe.dump.DumpFormatException;
import dev.layerprobe.dump.layout.DumpLayouts;
import dev.layerprobe.dump.layout.DumpedLayer;
import dev.layerprobe.dump.layout.LayerDump;
import dev.layerprobe.dump.mapping.LayerMapper;
import dev.layerprobe.dump.mapping.LayerMapping;
import dev.layerprobe.dump.mapping.MapFile;
import dev.layerprobe.dump.mapping.MappingTarget;
import dev.layerprobe.dump.mapping.Relayout;
import dev.layerprobe.host.compare.MetricResult;
import dev.layerprobe.host.input.InputException;
import dev.layerprobe.host.report.Report;
import dev.layerprobe.simulator.CompileOptions;
import dev.layerprobe.simulator.Layer;
import dev.layerprobe.simulator.LayerValue;
import dev.layerprobe.simulator.NpuProgram;
import dev.layerprobe.simulator.Placement;
import dev.layerprobe.simulator.Simulator;
import dev.layerprobe.simulator.SimulatorException;
import dev.layerprobe.simulator.graph.ValueInfo;
import dev.layerprobe.simulator.tensor.Tensor;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * {@code layerprobe compare A B}: two dump folders, in any supported layout, layer by layer, with
 * the same table, diagnosis and report files as {@code analyze}.
 *
 * <p>The rows are the model's layers when a model is given (its compiled program: names, op types,
 * inputs and, for a static input size, shapes), otherwise A's layers in A's order, each taken to
 * feed the next. Both dumps are mapped onto the rows ({@link LayerMapper}); B is compared with A in
 * the {@code simu_err} column when A holds integer codes (a simulator or device run: a correct
 * device is bit-exact) and in the {@code golden_err} column when A holds floats (a golden run).
 * The root cause is the first row where B departs from A while every row feeding it agrees:
 * codes not bit-exact, or for floats a cos below the wrong threshold. Reads one layer of each dump
 * at a time.
 */
public final class DumpComparison {
    private final CompareOptions o;
    private final PrintWriter out;

    public DumpComparison(CompareOptions options, PrintWriter out) {
        this.o = options;
        this.out = out;
    }

    public Report run() throws Exception {
        ReportFiles.check(o.reportDir());
        MapFile map = (o.map() == null ? MapFile.NONE : MapFile.load(o.map()))
                .withDefaults(o.scale(), o.zeroPoint(), o.fixPos());
        LayerDump a = open(o.reference(), o.layoutA(), map);
        LayerDump b = open(o.other(), o.layoutB(), map);
        out.println("A: " + a.dir() + " (" + a.layout() + ", " + a.layers().size() + " layers)");
        out.println("B: " + b.dir() + " (" + b.layout() + ", " + b.layers().size() + " layers)");

        List<Layer> layers;
        List<MappingTarget> targets;
        if (o.model() != null) {
            NpuProgram program = Simulator.compile(o.model(), CompileOptions.DEFAULT);
            layers = program.layers();
            Map<String, int[]> shapes = shapes(program);
            targets = layers.stream().map(l -> new MappingTarget(l.name(), l.op(), shapes.get(l.name()))).toList();
        } else {
            layers = new ArrayList<>();
            targets = new ArrayList<>();
            String previous = null;
            for (DumpedLayer d : a.layers()) {
                String op = d.op() == null ? "" : d.op();
                layers.add(new Layer(layers.size(), d.name(), op, previous == null ? List.of() : List.of(previous),
                        List.of(d.name()), List.of(), List.of(), Map.of(), Placement.NPU, null));
                targets.add(new MappingTarget(d.name(), d.op(), d.shape()));
                previous = d.name();
            }
        }
        LayerMapping mapA = mapping(a, targets, map);
        LayerMapping mapB = mapping(b, targets, map);
        Map<String, LayerMapping.Entry> inA = mapA.byTarget();
        Map<String, LayerMapping.Entry> inB = mapB.byTarget();
        if (o.model() == null) {
            // Without a model, op types come from the dumps: A's where its layout records them, else B's.
            for (int i = 0; i < layers.size(); i++) {
                Layer l = layers.get(i);
                LayerMapping.Entry eb = inB.get(l.name());
                if (l.op().isEmpty() && eb != null && eb.from().op() != null) {
                    layers.set(i, new Layer(l.index(), l.name(), eb.from().op(), l.inputs(), l.outputs(), l.fusedNodes(),
                            l.fusedOps(), l.attributes(), l.placement(), l.outputQuant()));
                }
            }
        }

        List<LayerComparison> rows = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        boolean codes = false;
        for (int i = 0; i < layers.size(); i++) {
            Layer l = layers.get(i);
            LayerComparison c = new LayerComparison(l, o.atol(), o.rtol());
            rows.add(c);
            LayerMapping.Entry ea = inA.get(l.name());
            LayerMapping.Entry eb = inB.get(l.name());
            if (eb == null) {
                missing.add(l.name());
            }
            if (ea == null || eb == null) {
                continue;
            }
            int[] shape = targets.get(i).shape();
            LayerValue va = load(a, ea, shape);
            LayerValue vb = load(b, eb, shape != null ? shape : va.shape());
            if (va.isQuantized()) {
                codes = true;
                c.addSimuErr(va, vb);
            } else {
                c.addGoldenErr(va.real(), vb);
            }
        }

        Report.RuntimeFault fault = RuntimeLocalizer.locate(rows, DumpComparison::column, this::agrees,
                (r, m) -> evidence(r, m, rows));
        String verdict = fault != null
                ? "B departs from A at " + fault.layer() + " (" + fault.op() + ")"
                : "B agrees with A on every mapped layer";
        List<Report.Layer> reportRows = ReportFiles.rows(rows);
        Report.Mapping mapping = new Report.Mapping(a.dir() + " (" + a.layout() + ")", b.dir() + " (" + b.layout() + ")",
                mapA.entries().stream().map(LayerMapping.Entry::describe).toList(),
                mapB.entries().stream().map(LayerMapping.Entry::describe).toList(),
                mapA.unmappedDump().stream().map(DumpedLayer::name).toList(),
                mapB.unmappedDump().stream().map(DumpedLayer::name).toList(), missing);
        Report.Device device = new Report.Device(b.dir().toString(), "dump (" + b.layout() + ")", "", List.of(),
                Map.of());
        String model = o.model() != null ? o.model().getFileName().toString()
                : a.dir().getFileName() + " vs " + b.dir().getFileName();
        Report report = new Report(model, device, reportRows, new Report.RootCause(fault, List.of()),
                ReportFiles.summary(reportRows, DumpComparison::column, o.warnCos(), o.wrongCos(), verdict), mapping);

        ReportFiles.printTable(report, out);
        printDiagnosis(report, mapB, codes);
        ReportFiles.write(report, o.reportDir());
        out.println("Report: " + o.reportDir().resolve("report.json") + ", report.csv, "
                + o.reportDir().resolve("report.html"));
        out.flush();
        return report;
    }

    private static LayerDump open(java.nio.file.Path dir, String layout, MapFile map) throws IOException, InputException {
        try {
            return DumpLayouts.open(dir, layout, map.fixedPoint());
        } catch (IllegalArgumentException e) {
            throw new InputException(e.getMessage());
        }
    }

    private static LayerMapping mapping(LayerDump d, List<MappingTarget> targets, MapFile map) throws InputException {
        try {
            return LayerMapper.map(d.layers(), targets, map.names());
        } catch (IllegalArgumentException e) {
            throw new InputException(e.getMessage());
        }
    }

    private static LayerValue load(LayerDump d, LayerMapping.Entry e, int[] shape) throws IOException {
        LayerValue v = d.read(e.from());
        try {
            return Relayout.toTarget(v, shape, e.nhwc(), "layer '" + e.from().name() + "' of " + d.dir());
        } catch (IllegalArgumentException x) {
            throw new DumpFormatException(x.getMessage());
        }
    }

    /** The output shape of every layer, from one run on zeros when the model's input size is static. */
    private static Map<String, int[]> shapes(NpuProgram program) throws SimulatorException {
        Map<String, int[]> shapes = new HashMap<>();
        Map<String, Tensor> feeds = new HashMap<>();
        for (ValueInfo in : program.inputs()) {
            for (int d : in.shape()) {
                if (d <= 0) {
                    return shapes; // a dynamic size: the dumps' own shapes are used
                }
            }
            feeds.put(in.name(), Tensor.zeros(in.shape()));
        }
        program.run(feeds, (layer, v) -> shapes.put(layer.name(), v.shape()));
        return shapes;
    }

    private static MetricResult column(LayerComparison c) {
        return c.simuErr() != null ? c.simuErr() : c.goldenErr();
    }

    private static MetricResult column(Report.Layer l) {
        return l.simuErr() != null ? l.simuErr() : l.goldenErr();
    }

    private boolean agrees(MetricResult m) {
        if (m == null) {
            return true;
        }
        if (m.hasCodes()) {
            return m.bitExact() >= 1.0;
        }
        return m.cos() >= o.wrongCos();
    }

    private String evidence(LayerComparison r, MetricResult m, List<LayerComparison> rows) {
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "cos %.5f against A", m.cos()));
        if (m.hasCodes()) {
            b.append(String.format(Locale.ROOT, ", %.1f%% of codes differ (up to %d LSB)", 100 * (1 - m.bitExact()),
                    m.maxLsb()));
        } else {
            b.append(String.format(Locale.ROOT, " (below %.2f), max |diff| %.4g", o.wrongCos(), m.maxAbs()));
        }
        List<String> inputs = new ArrayList<>();
        for (String in : r.layer.inputs()) {
            for (LayerComparison p : rows) {
                MetricResult pm = column(p);
                if (p.layer.outputs().contains(in) && pm != null) {
                    inputs.add(String.format(Locale.ROOT, "'%s' cos %.5f%s", in, pm.cos(),
                            pm.hasCodes() && pm.bitExact() >= 1.0 ? " bit-exact" : ""));
                }
            }
        }
        b.append(inputs.isEmpty() ? ", with no compared input" : ", while its input" + (inputs.size() > 1 ? "s agree: "
                : " agrees: ") + String.join(", ", inputs));
        return b.toString();
    }

    private void printDiagnosis(Report r, LayerMapping mapB, boolean codes) {
        out.println();
        out.println("Diagnosis:");
        Report.RuntimeFault f = r.rootCause().runtime();
        if (f != null) {
            out.println("  B first departs from A at layer '" + f.layer() + "' (" + f.op() + "): " + f.evidence() + ".");
        } else {
            out.println("  B agrees with A on every mapped layer ("
                    + (codes ? "codes bit-exact" : String.format(Locale.ROOT, "cos >= %.2f", o.wrongCos())) + ").");
        }
        Map<LayerMapping.Method, Long> by = mapB.countByMethod();
        out.println("  Mapping: " + mapB.entries().size() + " of B's layers mapped ("
                + by.entrySet().stream().map(e -> e.getValue() + " by " + e.getKey().label())
                        .collect(Collectors.joining(", ")) + ")"
                + (mapB.entries().stream().anyMatch(LayerMapping.Entry::nhwc) ? ", channels-last layers converted to NCHW"
                : "") + ".");
        Report.Mapping m = r.mapping();
        if (!m.unmapped().isEmpty()) {
            out.println("  Unmapped layers of B (" + m.unmapped().size() + "): " + abbreviate(m.unmapped()));
        }
        if (!m.missing().isEmpty()) {
            out.println("  Layers without a value in B (" + m.missing().size() + "): " + abbreviate(m.missing()));
        }
        out.println("  Verdict: " + r.summary().verdict() + ".");
    }

    private static String abbreviate(List<String> names) {
        int n = Math.min(8, names.size());
        return String.join(", ", names.subList(0, n)) + (names.size() > n ? ", ... (all in report.json)" : "");
    }
}
