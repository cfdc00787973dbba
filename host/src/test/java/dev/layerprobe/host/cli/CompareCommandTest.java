package dev.layerprobe.host.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.layerprobe.dump.layout.FixedPointOptions;
import dev.layerprobe.host.dump.DemoRun;
import dev.layerprobe.host.dump.VendorDumpWriters;
import java.nio.file.Files;
import java.nio.file.Path;
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
        CliRun r = CliRun.of("compare", DemoRun.dir().resolve("dumps/golden").toString(), rknn.toString(),
                "--report", report.toString());
        assertEquals(0, r.exit(), r.err() + r.out());
        assertTrue(r.out().contains("B first departs from A at layer '" + DemoRun.faultLayer() + "'"), r.out());
        assertTrue(r.out().contains("<- runtime fault"), r.out());
        JsonNode json = new ObjectMapper().readTree(report.resolve("report.json").toFile());
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
        Map<String, FixedPointOptions.LayerQuant> quant =
                VendorDumpWriters.tidl(tidl, VendorDumpWriters.read(DemoRun.dir().resolve("dumps/runtime")));
        StringBuilder map = new StringBuilder("layers:\n");
        quant.forEach((name, q) -> map.append("  \"").append(name).append("\": {scale: ")
                .append(String.format(Locale.ROOT, "%.10g", q.scale())).append(", zero_point: ").append(q.zeroPoint())
                .append(", dtype: ").append(q.dtype().name().toLowerCase(Locale.ROOT)).append("}\n"));
        Path mapFile = tmp.resolve("map.yaml");
        Files.writeString(mapFile, map);
        Path report = tmp.resolve("report");
        CliRun r = CliRun.of("compare", DemoRun.dir().resolve("dumps/simulator").toString(), tidl.toString(),
                "--map", mapFile.toString(), "--report", report.toString());
        assertEquals(0, r.exit(), r.err() + r.out());
        JsonNode json = new ObjectMapper().readTree(report.resolve("report.json").toFile());
        assertEquals(DemoRun.faultLayer(), json.at("/root_cause/runtime/layer").asText(), r.out());
        assertTrue(json.at("/root_cause/runtime/evidence").asText().contains("of codes differ"), r.out());
        // Every layer before the fault is bit-exact in codes.
        for (JsonNode l : json.get("layers")) {
            if (l.get("name").asText().equals(DemoRun.faultLayer())) {
                break;
            }
            if (!l.get("simu_err").isNull() && l.at("/simu_err/bit_exact").isNumber()) {
                assertEquals(1.0, l.at("/simu_err/bit_exact").asDouble(), l.get("name").asText());
            }
        }
    }

    @Test
    void goldenAgainstVitisNhwcDumpWithTheModelFindsTheFault() throws Exception {
        Path vitis = tmp.resolve("vitis");
        VendorDumpWriters.vitisPowerOfTwo(vitis, VendorDumpWriters.read(DemoRun.dir().resolve("dumps/runtime")));
        Path report = tmp.resolve("report");
        CliRun r = CliRun.of("compare", DemoRun.dir().resolve("dumps/golden").toString(), vitis.toString(),
                "--model", DemoRun.dir().resolve("demo_pose.onnx").toString(), "--report", report.toString());
        assertEquals(0, r.exit(), r.err() + r.out());
        assertTrue(r.out().contains("channels-last layers converted to NCHW"), r.out());
        JsonNode json = new ObjectMapper().readTree(report.resolve("report.json").toFile());
        assertEquals(DemoRun.faultLayer(), json.at("/root_cause/runtime/layer").asText(), r.out());
        assertEquals("DepthToSpace", json.at("/root_cause/runtime/op").asText());
    }

    @Test
    void snapshotSidesWithoutOpsTakeTheOpTypesOfTheOtherDump() throws Exception {
        Path golden = tmp.resolve("snapshot/golden");
        VendorDumpWriters.rknnSnapshot(golden, VendorDumpWriters.read(DemoRun.dir().resolve("dumps/golden")));
        Path rknn = tmp.resolve("rknn_dump");
        VendorDumpWriters.rknnRuntime(rknn, VendorDumpWriters.read(DemoRun.dir().resolve("dumps/runtime")));
        Path report = tmp.resolve("report");
        CliRun r = CliRun.of("compare", golden.toString(), rknn.toString(), "--report", report.toString());
        assertEquals(0, r.exit(), r.err() + r.out());
        JsonNode json = new ObjectMapper().readTree(report.resolve("report.json").toFile());
        assertEquals(DemoRun.faultLayer(), json.at("/root_cause/runtime/layer").asText(), r.out());
        assertEquals("DepthToSpace", json.at("/root_cause/runtime/op").asText(), r.out());

        CliRun root = CliRun.of("compare", tmp.resolve("snapshot").toString(), rknn.toString(), "--report",
                tmp.resolve("r2").toString());
        assertEquals(3, root.exit(), root.err());
        assertTrue(root.oneLineError() && root.err().contains("name one of its sides"), root.err());
    }

    @Test
    void aFolderThatIsNoDumpIsAOneLineError() throws Exception {
        Path empty = tmp.resolve("empty");
        Files.createDirectories(empty);
        Files.writeString(empty.resolve("notes.md"), "nothing here");
        CliRun r = CliRun.of("compare", empty.toString(), empty.toString(), "--report", tmp.resolve("r").toString());
        assertEquals(3, r.exit(), r.err());
        assertTrue(r.oneLineError(), r.err());
        assertTrue(r.err().contains("not a dump in any known layout"), r.err());

        CliRun missing = CliRun.of("compare", tmp.resolve("nope").toString(), empty.toString());
        assertEquals(3, missing.exit(), missing.err());
        assertTrue(missing.oneLineError() && missing.err().contains("dump folder not found: "), missing.err());
        CliRun file = CliRun.of("compare", empty.toString(), empty.resolve("notes.md").toString());
        assertEquals(3, file.exit(), file.err());
        assertTrue(file.oneLineError() && file.err().contains("not a dump folder: "), file.err());
    }

    @Test
    void aMappingFileNamingAnUnknownLayerIsAOneLineError() throws Exception {
        Path rknn = tmp.resolve("rknn_dump");
        List<VendorDumpWriters.Named> run = VendorDumpWriters.read(DemoRun.dir().resolve("dumps/runtime"));
        VendorDumpWriters.rknnRuntime(rknn, run.subList(0, 3));
        Path mapFile = tmp.resolve("map.yaml");
        Files.writeString(mapFile, "layers:\n  " + run.get(0).name() + ": no_such_layer\n");
        CliRun r = CliRun.of("compare", DemoRun.dir().resolve("dumps/golden").toString(), rknn.toString(),
                "--map", mapFile.toString(), "--report", tmp.resolve("r").toString());
        assertEquals(3, r.exit(), r.err());
        assertTrue(r.oneLineError(), r.err());
        assertTrue(r.err().contains("no_such_layer"), r.err());
    }
}
