package dev.layerprobe.host.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.dump.layout.FixedPointOptions;
import dev.layerprobe.host.dump.DemoRun;
import dev.layerprobe.host.dump.VendorDumpWriters;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code layerprobe compare} on the demo's runs written in vendor layouts: the device run carries
 * the demo's injected DepthToSpace fault, which compare must find whatever the layout.
 */
class CompareCommandTest {
    @TempDir
    Path tmp;

    @Test
    void goldenAgainstRknnRuntimeDumpFindsTheFault() throws Exception {
        Path rknn = tmp.resolve("rknn_dump");
        VendorDumpWriters.rknnRuntime(rknn, VendorDumpWriters.read(DemoRun.dir().resolve("dumps/runtime")));
        Path report = tmp.resolve("report");
        CliRun r = CliRun.of(
                "compare",
                DemoRun.dir().resolve("dumps/golden").toString(),
                rknn.toString(),
                "--report",
                report.toString());
        assertEquals(0, r.exit(), r.err() + r.out());
        assertTrue(r.out().contains("B first departs from A at layer '" + DemoRun.faultLayer() + "'"), r.out());
        assertTrue(r.out().contains("<- runtime fault"), r.out());
        JsonNode json =
                new ObjectMapper().readTree(report.resolve("report.json").toFile());
        assertEquals(DemoRun.faultLayer(), json.at("/root_cause/runtime/layer").asText());
        assertTrue(json.at("/mapping/other").asText().contains("rknn-runtime"), json.toString());
        assertTrue(json.at("/mapping/mapped/0").asText().contains("->"), json.toString());
        assertTrue(Files.exists(report.resolve("report.csv")));
        String html = Files.readString(report.resolve("report.html"));
        assertTrue(html.contains("Layer mapping") && html.contains("rknn-runtime"), "the mapping is in report.html");
    }

    @Test
    void simulatorAgainstTidlCodesWithAMappingFileIsBitExactUpToTheFault() throws Exception {
        Path tidl = tmp.resolve("tidl");
        Map<String, FixedPointOptions.LayerQuant> quant = VendorDumpWriters.tidl(
                tidl, VendorDumpWriters.read(DemoRun.dir().resolve("dumps/runtime")));
        StringBuilder map = new StringBuilder("layers:\n");
        quant.forEach((name, q) -> map.append("  \"")
                .append(name)
                .append("\": {scale: ")
                .append(String.format(Locale.ROOT, "%.10g", q.scale()))
                .append(", zero_point: ")
                .append(q.zeroPoint())
                .append(", dtype: ")
                .append(q.dtype().name().toLowerCase(Locale.ROOT))
                .append("}\n"));
        Path mapFile = tmp.resolve("map.yaml");
        Files.writeString(mapFile, map);
        Path report = tmp.resolve("report");
        CliRun r = CliRun.of(
                "compare",
                DemoRun.dir().resolve("dumps/simulator").toString(),
                tidl.toString(),
                "--map",
                mapFile.toString(),
                "--report",
                report.toString());
        assertEquals(0, r.exit(), r.err() + r.out());
        JsonNode json =
                new ObjectMapper().readTree(report.resolve("report.json").toFile());
        assertEquals(DemoRun.faultLayer(), json.at("/root_cause/runtime/layer").asText(), r.out());
        assertTrue(json.at("/root_cause/runtime/evidence").asText().contains("of codes differ"), r.out());
        // Every layer before the fault is bit-exact in codes.
        for (JsonNode l : json.get("layers")) {
            if (l.get("name").asText().equals(DemoRun.faultLayer())) {
                break;
            }
            if (!l.get("simu_err").isNull() && l.at("/simu_err/bit_exact").isNumber()) {
                assertEquals(
                        1.0,
                        l.at("/simu_err/bit_exact").asDouble(),
                        l.get("name").asText());
            }
        }
    }

    @Test
    void goldenAgainstVitisNhwcDumpWithTheModelFindsTheFault() throws Exception {
        Path vitis = tmp.resolve("vitis");
        VendorDumpWriters.vitisPowerOfTwo(
                vitis, VendorDumpWriters.read(DemoRun.dir().resolve("dumps/runtime")));
        Path report = tmp.resolve("report");
        CliRun r = CliRun.of(
                "compare",
                DemoRun.dir().resolve("dumps/golden").toString(),
                vitis.toString(),
                "--model",
                DemoRun.dir().resolve("demo_pose.onnx").toString(),
                "--report",
                report.toString());
        assertEquals(0, r.exit(), r.err() + r.out());
        assertTrue(r.out().contains("channels-last layers converted to NCHW"), r.out());
        JsonNode json =
                new ObjectMapper().readTree(report.resolve("report.json").toFile());
        assertEquals(DemoRun.faultLayer(), json.at("/root_cause/runtime/layer").asText(), r.out());
        assertEquals("DepthToSpace", json.at("/root_cause/runtime/op").asText());
    }

    @Test
    void snapshotSidesWithoutOpsTakeTheOpTypesOfTheOtherDump() throws Exception {
        Path golden = tmp.resolve("snapshot/golden");
        VendorDumpWriters.rknnSnapshot(
                golden, VendorDumpWriters.read(DemoRun.dir().resolve("dumps/golden")));
        Path rknn = tmp.resolve("rknn_dump");
        VendorDumpWriters.rknnRuntime(rknn, VendorDumpWriters.read(DemoRun.dir().resolve("dumps/runtime")));
        Path report = tmp.resolve("report");
        CliRun r = CliRun.of("compare", golden.toString(), rknn.toString(), "--report", report.toString());
        assertEquals(0, r.exit(), r.err() + r.out());
        JsonNode json =
                new ObjectMapper().readTree(report.resolve("report.json").toFile());
        assertEquals(DemoRun.faultLayer(), json.at("/root_cause/runtime/layer").asText(), r.out());
        assertEquals("DepthToSpace", json.at("/root_cause/runtime/op").asText(), r.out());

        CliRun root = CliRun.of(
                "compare",
                tmp.resolve("snapshot").toString(),
                rknn.toString(),
                "--report",
                tmp.resolve("r2").toString());
        assertEquals(3, root.exit(), root.err());
        assertTrue(root.oneLineError() && root.err().contains("name one of its sides"), root.err());
    }

    /**
     * A snapshot as RKNN-Toolkit2 writes it (the map at the root, text sides, whole-model results in
     * {@code entire_qnt/}) from the demo's real runs: the simulator side is the demo's int8 run, the
     * runtime side the same run with one layer scrambled, and error_analysis.txt carries RKNN's own
     * cosines of those runs, except one planted where RKNN and LayerProbe disagree.
     */
    @Test
    void wholeRknnSnapshotComparesInAllThreeFormsWithRknnsFiguresBesideOurs() throws Exception {
        List<VendorDumpWriters.Named> golden =
                VendorDumpWriters.read(DemoRun.dir().resolve("dumps/golden"));
        List<VendorDumpWriters.Named> sim = VendorDumpWriters.read(DemoRun.dir().resolve("dumps/simulator")).stream()
                .map(n -> new VendorDumpWriters.Named(
                        n.name(), n.op(), LayerValue.of(n.value().real().toFloat())))
                .toList();
        int k = 6;
        String broken = sim.get(k).name();
        List<VendorDumpWriters.Named> runtime = new ArrayList<>(sim);
        float[] v = sim.get(k).value().real().toFloat().floats();
        float[] scrambled = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            scrambled[i] = -v[v.length - 1 - i];
        }
        runtime.set(
                k,
                new VendorDumpWriters.Named(
                        broken,
                        sim.get(k).op(),
                        LayerValue.of(Tensor.ofFloats(sim.get(k).value().shape(), scrambled))));
        Path root = tmp.resolve("snapshot");
        VendorDumpWriters.rknnSnapshotRoot(root, golden, sim, runtime);
        List<VendorDumpWriters.ErrorRow> rknn = new ArrayList<>();
        for (int i = 0; i < sim.size(); i++) {
            double entire =
                    VendorDumpWriters.cos(golden.get(i).value(), sim.get(i).value());
            double goldenErr = i == k
                    ? 0.99990
                    : VendorDumpWriters.cos(
                            golden.get(i).value(), runtime.get(i).value());
            double singleSim =
                    VendorDumpWriters.cos(sim.get(i).value(), runtime.get(i).value());
            boolean last = i == sim.size() - 1; // a row with the simulator's columns only
            rknn.add(new VendorDumpWriters.ErrorRow(
                    sim.get(i).name(),
                    sim.get(i).op(),
                    entire,
                    entire,
                    last ? Double.NaN : goldenErr,
                    last ? Double.NaN : singleSim));
        }
        VendorDumpWriters.rknnErrorAnalysis(root.resolve("error_analysis.txt"), rknn, true);
        double rknnSingleSim = Math.floor(
                        VendorDumpWriters.cos(sim.get(k).value(), runtime.get(k).value()) * 1e5)
                / 1e5;

        // golden vs runtime: golden_err, where RKNN's planted figure disagrees with ours at the broken layer
        JsonNode json = compare(
                "golden_runtime",
                "departs from A at " + broken,
                root.resolve("golden").toString(),
                root.resolve("runtime").toString());
        JsonNode row = json.at("/layers/" + k);
        assertTrue(row.get("simu_err").isNull() && row.at("/golden_err/cos").asDouble() < 0.5, row.toString());
        assertEquals(rknnSingleSim, row.at("/vendor/simu_err/cos").asDouble(), 1e-12, row.toString());
        assertEquals(0.9999, row.at("/vendor/golden_err/cos").asDouble(), 1e-12);
        assertEquals("rknn-toolkit2", row.at("/vendor/tool").asText());
        assertEquals(List.of(broken + " golden_err"), differences(json));
        assertEquals("input", json.at("/mapping/vendor/unmapped/0").asText(), "RKNN's [Input] row is no layer here");
        assertTrue(
                json.at("/layers/" + (sim.size() - 1) + "/vendor/golden_err").isNull(), "a row without runtime cells");

        // simulator vs runtime: simu_err, and RKNN's single_sim agrees everywhere
        json = compare(
                "simulator_runtime",
                "departs from A at " + broken,
                root.resolve("simulator").toString(),
                root.resolve("runtime").toString());
        row = json.at("/layers/" + k);
        assertTrue(row.get("golden_err").isNull() && row.at("/simu_err/cos").asDouble() < 0.5, row.toString());
        assertEquals(List.of(), differences(json));
        assertEquals(sim.size() - 1, json.at("/mapping/vendor/compared").asInt(), "simu_err of every row but the last");

        // the whole snapshot: the three columns as analyze fills them
        json = compare("root", "runtime first departs from the simulator at layer '" + broken + "'", root.toString());
        row = json.at("/layers/" + k);
        assertTrue(row.at("/entire/cos").asDouble() > 0.99, row.toString());
        assertTrue(
                row.at("/simu_err/cos").asDouble() < 0.5
                        && row.at("/golden_err/cos").asDouble() < 0.5,
                row.toString());
        assertEquals(
                row.at("/entire/cos").asDouble(), row.at("/vendor/entire/cos").asDouble(), 1e-5);
        assertTrue(json.at("/layers/" + (k - 1) + "/simu_err/cos").asDouble() > 0.99999, "the layer before agrees");
        assertEquals(List.of(broken + " golden_err"), differences(json));
        assertEquals(3 * sim.size() - 2, json.at("/mapping/vendor/compared").asInt(), "entire, simu_err, golden_err");
        assertTrue(
                json.at("/mapping/simulator").asText().contains("simulator (rknn-snapshot)"),
                json.at("/mapping").toString());

        // RKNN-Toolkit2 1.x's table (a cosine per cell), given explicitly from elsewhere
        Path elsewhere = tmp.resolve("elsewhere.txt");
        VendorDumpWriters.rknnErrorAnalysis(elsewhere, rknn, false);
        json = compare(
                "toolkit1",
                "departs from the simulator at layer '" + broken + "'",
                root.toString(),
                "--vendor-report",
                elsewhere.toString());
        assertEquals("cos per cell", json.at("/mapping/vendor/form").asText());
        assertEquals(
                elsewhere.toString(), json.at("/layers/" + k + "/vendor/source").asText());
        assertTrue(json.at("/layers/" + k + "/vendor/entire/euc").isNull(), "1.x prints no distance");
        assertEquals(
                rknnSingleSim, json.at("/layers/" + k + "/vendor/simu_err/cos").asDouble(), 1e-12);
    }

    /** Runs compare into {@code tmp/<report>}, checks its output and that RKNN's figures are in all three files. */
    private JsonNode compare(String report, String expected, String... args) throws Exception {
        Path dir = tmp.resolve(report);
        List<String> all = new ArrayList<>(List.of("compare"));
        all.addAll(List.of(args));
        all.addAll(List.of("--report", dir.toString()));
        CliRun r = CliRun.of(all.toArray(String[]::new));
        assertEquals(0, r.exit(), r.err() + r.out());
        assertTrue(r.out().contains(expected), r.out());
        assertTrue(r.out().contains("rknn-toolkit2's own figures"), r.out());
        JsonNode json = new ObjectMapper().readTree(dir.resolve("report.json").toFile());
        String broken = json.at("/root_cause/runtime/layer").asText();
        List<String> csv = Files.readAllLines(dir.resolve("report.csv"));
        List<String> head = List.of(csv.get(0).split(","));
        int col = head.indexOf("vendor.simu_err.cos");
        assertTrue(col > 0 && head.contains("vendor.golden_err.cos") && head.contains("vendor.layer"), csv.get(0));
        int k = json.at("/layers").findValuesAsText("name").indexOf(broken);
        assertEquals(
                json.at("/layers/" + k + "/vendor/simu_err/cos").asDouble(),
                Double.parseDouble(csv.get(k + 1).split(",", -1)[col]),
                1e-12,
                csv.get(k + 1));
        String html = Files.readString(dir.resolve("report.html"));
        assertTrue(
                html.contains("rknn-toolkit2<br>simu_err") && html.contains("rknn-toolkit2's own figures"),
                "RKNN's figures are in report.html");
        assertEquals(!json.at("/mapping/vendor/differences").isEmpty(), html.contains("id=\"vendor-differences\""));
        return json;
    }

    private static List<String> differences(JsonNode json) {
        List<String> out = new ArrayList<>();
        json.at("/mapping/vendor/differences")
                .forEach(d ->
                        out.add(d.get("layer").asText() + " " + d.get("column").asText()));
        return out;
    }

    @Test
    void tidlTracesInEitherNamingFindTheDemosFault() throws Exception {
        List<VendorDumpWriters.Named> runtime =
                VendorDumpWriters.read(DemoRun.dir().resolve("dumps/runtime"));
        Path documented = tmp.resolve("tidl_documented");
        VendorDumpWriters.tidlDocumented(documented, runtime);
        Path subgraphs = tmp.resolve("tidl_subgraphs");
        VendorDumpWriters.tidlTwoSubgraphs(subgraphs, runtime, 12);
        for (Path tidl : List.of(documented, subgraphs)) {
            Path report = tmp.resolve("report_" + tidl.getFileName());
            CliRun r = CliRun.of(
                    "compare",
                    DemoRun.dir().resolve("dumps/golden").toString(),
                    tidl.toString(),
                    "--report",
                    report.toString());
            assertEquals(0, r.exit(), r.err() + r.out());
            assertTrue(r.out().contains("B first departs from A at layer '" + DemoRun.faultLayer() + "'"), r.out());
            assertTrue(r.out().contains("(tidl, 25 layers)") && r.out().contains("25 by exact name"), r.out());
        }
        Path cores = tmp.resolve("tidl_cores");
        Files.createDirectories(cores);
        try (var files = Files.list(documented)) {
            for (Path f : files.toList()) {
                Files.copy(
                        f,
                        cores.resolve((f.getFileName().toString().startsWith("tidl_trace") ? "C7X_1_" : "")
                                + f.getFileName()));
            }
        }
        CliRun r = CliRun.of(
                "compare",
                DemoRun.dir().resolve("dumps/golden").toString(),
                cores.toString(),
                "--report",
                tmp.resolve("r_cores").toString());
        assertEquals(3, r.exit(), r.err());
        assertTrue(r.oneLineError() && r.err().contains("stitch them"), r.err());
    }

    @Test
    void aFolderThatIsNoDumpIsAOneLineError() throws Exception {
        Path empty = tmp.resolve("empty");
        Files.createDirectories(empty);
        Files.writeString(empty.resolve("notes.md"), "nothing here");
        CliRun r = CliRun.of(
                "compare",
                empty.toString(),
                empty.toString(),
                "--report",
                tmp.resolve("r").toString());
        assertEquals(3, r.exit(), r.err());
        assertTrue(r.oneLineError(), r.err());
        assertTrue(r.err().contains("not a dump in any known layout"), r.err());

        CliRun missing = CliRun.of("compare", tmp.resolve("nope").toString(), empty.toString());
        assertEquals(3, missing.exit(), missing.err());
        assertTrue(missing.oneLineError() && missing.err().contains("dump folder not found: "), missing.err());
        CliRun file =
                CliRun.of("compare", empty.toString(), empty.resolve("notes.md").toString());
        assertEquals(3, file.exit(), file.err());
        assertTrue(file.oneLineError() && file.err().contains("not a dump folder: "), file.err());
        CliRun one = CliRun.of("compare", empty.toString());
        assertEquals(3, one.exit(), one.err());
        assertTrue(one.oneLineError() && one.err().contains("one RKNN snapshot folder"), one.err());
    }

    @Test
    void aMappingFileNamingAnUnknownLayerIsAOneLineError() throws Exception {
        Path rknn = tmp.resolve("rknn_dump");
        List<VendorDumpWriters.Named> run = VendorDumpWriters.read(DemoRun.dir().resolve("dumps/runtime"));
        VendorDumpWriters.rknnRuntime(rknn, run.subList(0, 3));
        Path mapFile = tmp.resolve("map.yaml");
        Files.writeString(mapFile, "layers:\n  " + run.get(0).name() + ": no_such_layer\n");
        CliRun r = CliRun.of(
                "compare",
                DemoRun.dir().resolve("dumps/golden").toString(),
                rknn.toString(),
                "--map",
                mapFile.toString(),
                "--report",
                tmp.resolve("r").toString());
        assertEquals(3, r.exit(), r.err());
        assertTrue(r.oneLineError(), r.err());
        assertTrue(r.err().contains("no_such_layer"), r.err());
    }
}
