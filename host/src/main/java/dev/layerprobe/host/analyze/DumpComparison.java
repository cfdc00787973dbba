package dev.layerprobe.host.analyze;

import dev.layerprobe.core.LayerProbeException;
import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.dump.DumpFormatException;
import dev.layerprobe.dump.layout.DumpLayouts;
import dev.layerprobe.dump.layout.DumpedLayer;
import dev.layerprobe.dump.layout.LayerDump;
import dev.layerprobe.dump.layout.RknnSnapshotLayout;
import dev.layerprobe.dump.mapping.LayerMapper;
import dev.layerprobe.dump.mapping.LayerMapping;
import dev.layerprobe.dump.mapping.MapFile;
import dev.layerprobe.dump.mapping.MappingTarget;
import dev.layerprobe.dump.mapping.Relayout;
import dev.layerprobe.dump.vendor.RknnErrorAnalysis;
import dev.layerprobe.dump.vendor.VendorTable;
import dev.layerprobe.host.compare.MetricResult;
import dev.layerprobe.host.input.InputException;
import dev.layerprobe.host.report.DiagnosisPrinter;
import dev.layerprobe.host.report.Report;
import dev.layerprobe.host.report.ReportWriter;
import dev.layerprobe.simulator.CompileOptions;
import dev.layerprobe.simulator.Layer;
import dev.layerprobe.simulator.NpuProgram;
import dev.layerprobe.simulator.Placement;
import dev.layerprobe.simulator.Simulator;
import dev.layerprobe.simulator.SimulatorException;
import dev.layerprobe.simulator.graph.ValueInfo;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code layerprobe compare A B}: two dump folders, in any supported layout, layer by layer, with
 * the same table, diagnosis and report files as {@code analyze}.
 *
 * <p>The rows are the model's layers when a model is given (its compiled program: names, op types,
 * inputs and, for a static input size, shapes), otherwise A's layers in A's order, each taken to
 * feed the next. Both dumps are mapped onto the rows ({@link LayerMapper}). B is compared with A in
 * the column that names the pair: {@code simu_err} when A is a simulator's run (integer codes, or an
 * RKNN snapshot's {@code simulator} side), {@code entire} for an RKNN snapshot's golden side against
 * its simulator side, otherwise {@code golden_err} (A holds floats: a golden run). With a third dump
 * of the simulator's run ({@link CompareOptions#simulator()}, a whole RKNN snapshot) A is the golden
 * run and B the device's, and the columns are filled as {@code analyze} fills them: {@code entire}
 * golden vs simulator, {@code simu_err} simulator vs device, {@code golden_err} golden vs device.
 *
 * <p>The root cause is the first row where B departs while every row feeding it agrees, judged in
 * {@code simu_err} where it has a value, else in {@code golden_err} (in {@code entire} for golden
 * against simulator): codes not bit-exact, or for floats a cos below the wrong threshold. Reads one
 * layer of each dump at a time.
 *
 * <p>A vendor tool's own per-layer table (RKNN-Toolkit2's {@code error_analysis.txt}, given or found
 * at the root of an RKNN snapshot the dumps belong to) is mapped onto the rows as the dumps are, and
 * its figures are put beside ours in every report file, with the figures where the two fall in
 * different threshold bands listed.
 */
public final class DumpComparison {
    /** Which column a two-dump comparison fills. */
    private enum Pair {
        ENTIRE,
        SIMU_ERR,
        GOLDEN_ERR,
        BY_VALUES
    }

    private final CompareOptions o;
    private final PrintWriter out;
    private boolean threeWay;
    private Pair pair = Pair.BY_VALUES;

    public DumpComparison(CompareOptions options, PrintWriter out) {
        this.o = options;
        this.out = out;
    }

    /**
     * Compares, prints the table and the diagnosis, and writes the report files.
     *
     * @throws InputException for dumps, a map file or a report folder that cannot be used
     * @throws LayerProbeException when the model cannot be compiled
     * @throws IOException when a dump cannot be read (a {@link DumpFormatException} when it is malformed)
     *     or the report cannot be written
     */
    public Report run() throws InputException, LayerProbeException, IOException {
        ReportFiles.check(o.reportDir());
        MapFile map = (o.map() == null ? MapFile.NONE : MapFile.load(o.map()))
                .withDefaults(o.scale(), o.zeroPoint(), o.fixPos());
        LayerDump a = open(o.reference(), o.layoutA(), map);
        LayerDump b = open(o.other(), o.layoutB(), map);
        LayerDump s = o.simulator() == null ? null : open(o.simulator(), null, map);
        threeWay = s != null;
        String nameA = threeWay ? "golden" : "A";
        String nameB = threeWay ? "runtime" : "B";
        out.println(
                nameA + ": " + a.dir() + " (" + a.layout() + ", " + a.layers().size() + " layers)");
        out.println(
                nameB + ": " + b.dir() + " (" + b.layout() + ", " + b.layers().size() + " layers)");
        if (threeWay) {
            out.println("simulator: " + s.dir() + " (" + s.layout() + ", "
                    + s.layers().size() + " layers)");
        } else {
            pair = pair(a, b);
        }

        List<Layer> layers;
        List<MappingTarget> targets;
        if (o.model() != null) {
            NpuProgram program = Simulator.compile(o.model(), CompileOptions.DEFAULT);
            layers = program.layers();
            Map<String, int[]> shapes = shapes(program);
            targets = layers.stream()
                    .map(l -> new MappingTarget(l.name(), l.op(), shapes.get(l.name())))
                    .toList();
        } else {
            layers = new ArrayList<>();
            targets = new ArrayList<>();
            String previous = null;
            for (DumpedLayer d : a.layers()) {
                String op = d.op() == null ? "" : d.op();
                layers.add(new Layer(
                        layers.size(),
                        d.name(),
                        op,
                        previous == null ? List.of() : List.of(previous),
                        List.of(d.name()),
                        List.of(),
                        List.of(),
                        Map.of(),
                        Placement.NPU,
                        null));
                targets.add(new MappingTarget(d.name(), d.op(), d.shape()));
                previous = d.name();
            }
        }
        LayerMapping mapA = mapping(a, targets, map);
        LayerMapping mapB = mapping(b, targets, map);
        LayerMapping mapS = s == null ? null : mapping(s, targets, map);
        Map<String, LayerMapping.Entry> inA = mapA.byTarget();
        Map<String, LayerMapping.Entry> inB = mapB.byTarget();
        Map<String, LayerMapping.Entry> inS = mapS == null ? Map.of() : mapS.byTarget();
        VendorTable vendorTable = vendorTable(a, b, s);
        LayerMapping mapVendor = vendorTable == null ? null : vendorMapping(vendorTable, targets, map);
        if (o.model() == null) {
            // Without a model, op types come from the dumps: A's where its layout records them, else B's,
            // else the vendor table's (RKNN's text snapshots record none, its table does).
            Map<String, LayerMapping.Entry> inVendor = mapVendor == null ? Map.of() : mapVendor.byTarget();
            for (int i = 0; i < layers.size(); i++) {
                Layer l = layers.get(i);
                LayerMapping.Entry eb = inB.get(l.name());
                LayerMapping.Entry ev = inVendor.get(l.name());
                String op = eb != null && eb.from().op() != null
                        ? eb.from().op()
                        : ev != null ? ev.from().op() : null;
                if (l.op().isEmpty() && op != null) {
                    layers.set(
                            i,
                            new Layer(
                                    l.index(),
                                    l.name(),
                                    op,
                                    l.inputs(),
                                    l.outputs(),
                                    l.fusedNodes(),
                                    l.fusedOps(),
                                    l.attributes(),
                                    l.placement(),
                                    l.outputQuant()));
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
            LayerMapping.Entry es = inS.get(l.name());
            if (eb == null) {
                missing.add(l.name());
            }
            if (ea == null || (eb == null && es == null)) {
                continue;
            }
            int[] shape = targets.get(i).shape();
            LayerValue va = load(a, ea, shape);
            int[] like = shape != null ? shape : va.shape();
            LayerValue vb = eb == null ? null : load(b, eb, like);
            if (threeWay) {
                LayerValue vs = es == null ? null : load(s, es, like);
                if (vs != null) {
                    c.addEntire(va.real(), vs);
                }
                if (vs != null && vb != null) {
                    codes |= vs.isQuantized();
                    c.addSimuErr(vs, vb);
                }
                if (vb != null) {
                    c.addGoldenErr(va.real(), vb);
                }
                continue;
            }
            if (vb == null) {
                continue;
            }
            switch (pair) {
                case ENTIRE -> c.addEntire(va.real(), vb);
                case SIMU_ERR -> c.addSimuErr(va, vb);
                case GOLDEN_ERR -> c.addGoldenErr(va.real(), vb);
                default -> {
                    if (va.isQuantized()) {
                        codes = true;
                        c.addSimuErr(va, vb);
                    } else {
                        c.addGoldenErr(va.real(), vb);
                    }
                }
            }
        }

        Report.RuntimeFault fault =
                RuntimeLocalizer.locate(rows, this::column, this::agrees, (r, m) -> evidence(r, m, rows));
        String reference = threeWay ? "the simulator" : nameA;
        String verdict = fault != null
                ? nameB + " departs from " + reference + " at " + fault.layer() + DiagnosisPrinter.opLabel(fault)
                : nameB + " agrees with " + reference + " on every mapped layer";
        List<Report.Layer> reportRows = new ArrayList<>(ReportFiles.rows(rows));
        Report.VendorSource vendor = vendorTable == null ? null : vendorFigures(vendorTable, mapVendor, reportRows);
        Report.Mapping mapping = new Report.Mapping(
                a.dir() + " (" + a.layout() + ")",
                b.dir() + " (" + b.layout() + ")",
                mapA.entries().stream().map(LayerMapping.Entry::describe).toList(),
                mapB.entries().stream().map(LayerMapping.Entry::describe).toList(),
                mapA.unmappedDump().stream().map(DumpedLayer::name).toList(),
                mapB.unmappedDump().stream().map(DumpedLayer::name).toList(),
                missing,
                s == null ? null : s.dir() + " (" + s.layout() + ")",
                mapS == null
                        ? null
                        : mapS.entries().stream()
                                .map(LayerMapping.Entry::describe)
                                .toList(),
                vendor);
        Report.Device device =
                new Report.Device(b.dir().toString(), "dump (" + b.layout() + ")", "", List.of(), Map.of());
        String model = o.model() != null
                ? o.model().getFileName().toString()
                : a.dir().getFileName() + " vs " + b.dir().getFileName()
                        + (s == null ? "" : " (and " + s.dir().getFileName() + ")");
        Report report = new Report(
                model,
                device,
                reportRows,
                new Report.RootCause(fault, List.of()),
                ReportFiles.summary(reportRows, this::column, o.warnCos(), o.wrongCos(), verdict),
                mapping);

        ReportFiles.printTable(report, out);
        new DiagnosisPrinter(out).printComparison(report, mapB, codes, reference, nameB);
        ReportFiles.write(report, o.reportDir());
        out.println("Report: " + o.reportDir().resolve("report.json") + ", report.csv, "
                + o.reportDir().resolve("report.html"));
        out.flush();
        return report;
    }

    /** The column two dumps fill, from what the RKNN snapshot sides they are say; else by their values. */
    private static Pair pair(LayerDump a, LayerDump b) {
        String sideA = a.layout().equals(RknnSnapshotLayout.NAME) ? RknnSnapshotLayout.sideOf(a.dir()) : null;
        String sideB = b.layout().equals(RknnSnapshotLayout.NAME) ? RknnSnapshotLayout.sideOf(b.dir()) : null;
        if ("simulator".equals(sideA)) {
            return Pair.SIMU_ERR;
        }
        if ("golden".equals(sideA)) {
            return "simulator".equals(sideB) ? Pair.ENTIRE : Pair.GOLDEN_ERR;
        }
        return Pair.BY_VALUES;
    }

    /** The vendor table given, or the one at the root of an RKNN snapshot a dump belongs to, or null. */
    private VendorTable vendorTable(LayerDump... dumps) throws IOException {
        if (o.vendorReport() != null) {
            return RknnErrorAnalysis.read(o.vendorReport());
        }
        for (LayerDump d : dumps) {
            if (d == null || !d.layout().equals(RknnSnapshotLayout.NAME)) {
                continue;
            }
            java.nio.file.Path root = RknnSnapshotLayout.rootOf(d.dir());
            if (root != null && Files.isRegularFile(root.resolve(RknnSnapshotLayout.ERROR_ANALYSIS))) {
                return RknnErrorAnalysis.read(root.resolve(RknnSnapshotLayout.ERROR_ANALYSIS));
            }
        }
        return null;
    }

    /** Maps the vendor's rows with figures onto the table's layers as the dumps are mapped. */
    private static LayerMapping vendorMapping(VendorTable t, List<MappingTarget> targets, MapFile map)
            throws InputException {
        List<DumpedLayer> named = new ArrayList<>();
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (VendorTable.Row r : t.rows()) {
            // Rows without figures (layers fused into the next) have nothing to show; leaving them out
            // keeps them from taking a layer in the order pass.
            if (!r.cells().isEmpty() && seen.add(r.name())) {
                named.add(new DumpedLayer(named.size(), r.name(), r.op(), null, false, null));
            }
        }
        try {
            return LayerMapper.map(named, targets, map.names());
        } catch (IllegalArgumentException e) {
            throw new InputException(e.getMessage());
        }
    }

    /**
     * Puts the vendor's figures into {@code rows} beside ours, and lists where the two fall in
     * different threshold bands.
     */
    private Report.VendorSource vendorFigures(VendorTable t, LayerMapping m, List<Report.Layer> rows) {
        Map<String, VendorTable.Row> byName = new HashMap<>();
        for (VendorTable.Row r : t.rows()) {
            if (!r.cells().isEmpty()) {
                byName.putIfAbsent(r.name(), r);
            }
        }
        Map<String, LayerMapping.Entry> byTarget = m.byTarget();
        int compared = 0;
        List<Report.VendorDifference> differences = new ArrayList<>();
        for (int i = 0; i < rows.size(); i++) {
            Report.Layer l = rows.get(i);
            LayerMapping.Entry e = byTarget.get(l.name());
            if (e == null) {
                continue;
            }
            VendorTable.Row r = byName.get(e.from().name());
            Report.Vendor v = new Report.Vendor(
                    t.tool(),
                    t.source().toString(),
                    r.name(),
                    r.op(),
                    figure(r, VendorTable.Column.ENTIRE),
                    figure(r, VendorTable.Column.PER_LAYER),
                    figure(r, VendorTable.Column.SIMU_ERR),
                    figure(r, VendorTable.Column.GOLDEN_ERR));
            rows.set(i, l.withVendor(v));
            MetricResult[] ours = {l.entire(), l.perLayer(), l.simuErr(), l.goldenErr()};
            for (int c = 0; c < 4; c++) {
                Report.VendorFigure f = v.column(ReportWriter.COLUMNS.get(c));
                if (ours[c] == null || f == null || f.cos() == null) {
                    continue;
                }
                compared++;
                if (band(ours[c].cos()) != band(f.cos())) {
                    differences.add(
                            new Report.VendorDifference(l.name(), ReportWriter.COLUMNS.get(c), ours[c].cos(), f.cos()));
                }
            }
        }
        return new Report.VendorSource(
                t.tool(),
                t.source().toString(),
                t.form(),
                t.rows().size(),
                m.entries().stream().map(LayerMapping.Entry::describe).toList(),
                m.unmappedDump().stream().map(DumpedLayer::name).toList(),
                compared,
                differences);
    }

    private static Report.VendorFigure figure(VendorTable.Row r, VendorTable.Column c) {
        VendorTable.Cell cell = r.cells().get(c);
        return cell == null ? null : new Report.VendorFigure(cell.cos(), Double.isNaN(cell.euc()) ? null : cell.euc());
    }

    /** 0 at or above the warn threshold, 1 between wrong and warn, 2 below wrong (or NaN). */
    private int band(double cos) {
        return Double.isNaN(cos) || cos < o.wrongCos() ? 2 : cos < o.warnCos() ? 1 : 0;
    }

    private static LayerDump open(java.nio.file.Path dir, String layout, MapFile map)
            throws IOException, InputException {
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

    /** The column a row departs in: simu_err where it has a value, else golden_err (entire for golden vs simulator). */
    private MetricResult column(LayerComparison c) {
        MetricResult m = c.simuErr() != null ? c.simuErr() : c.goldenErr();
        return m == null && pair == Pair.ENTIRE ? c.entire() : m;
    }

    private MetricResult column(Report.Layer l) {
        MetricResult m = l.simuErr() != null ? l.simuErr() : l.goldenErr();
        return m == null && pair == Pair.ENTIRE ? l.entire() : m;
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
        String against = !threeWay ? "A" : r.simuErr() != null ? "the simulator" : "golden";
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "cos %.5f against %s", m.cos(), against));
        if (m.hasCodes()) {
            b.append(String.format(
                    Locale.ROOT, ", %.1f%% of codes differ (up to %d LSB)", 100 * (1 - m.bitExact()), m.maxLsb()));
        } else {
            b.append(String.format(Locale.ROOT, " (below %.2f), max |diff| %.4g", o.wrongCos(), m.maxAbs()));
        }
        List<String> inputs = new ArrayList<>();
        for (String in : r.layer.inputs()) {
            for (LayerComparison p : rows) {
                MetricResult pm = column(p);
                if (p.layer.outputs().contains(in) && pm != null) {
                    inputs.add(String.format(
                            Locale.ROOT,
                            "'%s' cos %.5f%s",
                            in,
                            pm.cos(),
                            pm.hasCodes() && pm.bitExact() >= 1.0 ? " bit-exact" : ""));
                }
            }
        }
        b.append(
                inputs.isEmpty()
                        ? ", with no compared input"
                        : ", while its input" + (inputs.size() > 1 ? "s agree: " : " agrees: ")
                                + String.join(", ", inputs));
        return b.toString();
    }
}
