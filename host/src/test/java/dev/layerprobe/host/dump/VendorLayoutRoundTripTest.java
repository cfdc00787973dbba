package dev.layerprobe.host.dump;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.dump.layout.DumpLayouts;
import dev.layerprobe.dump.layout.FixedPointOptions;
import dev.layerprobe.dump.layout.LayerDump;
import dev.layerprobe.dump.layout.ManifestLayout;
import dev.layerprobe.dump.layout.RknnRuntimeLayout;
import dev.layerprobe.dump.layout.RknnSnapshotLayout;
import dev.layerprobe.dump.layout.TidlTraceLayout;
import dev.layerprobe.dump.layout.VitisDumpLayout;
import dev.layerprobe.dump.mapping.LayerMapper;
import dev.layerprobe.dump.mapping.LayerMapping;
import dev.layerprobe.dump.mapping.MappingTarget;
import dev.layerprobe.dump.mapping.Relayout;
import dev.layerprobe.dump.npy.Npy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * For every layout: a simulator run (the demo's int8 run, and its float golden run) written in the
 * layout, detected, read back and mapped onto the original layers, equals the original bit for bit
 * (float layouts) or exactly in codes (fixed-point layouts).
 */
class VendorLayoutRoundTripTest {
    static List<VendorDumpWriters.Named> sim;
    static List<VendorDumpWriters.Named> golden;

    @TempDir
    Path tmp;

    @BeforeAll
    static void run() throws Exception {
        sim = VendorDumpWriters.read(DemoRun.dir().resolve("dumps/simulator"));
        golden = VendorDumpWriters.read(DemoRun.dir().resolve("dumps/golden"));
        assertTrue(sim.stream().filter(n -> n.value().isQuantized()).count() > 20, "the demo run is quantized");
    }

    @Test
    void layerProbeLayoutKeepsCodesAndFloats() throws Exception {
        LayerDump d = DumpLayouts.open(DemoRun.dir().resolve("dumps/simulator"), null, FixedPointOptions.NONE);
        assertEquals(ManifestLayout.NAME, d.layout());
        assertReadBack(sim, d, true);
    }

    @Test
    void plainNpyFolderIsBitForBit() throws Exception {
        Path dir = tmp.resolve("npy");
        Files.createDirectories(dir);
        for (int i = 0; i < golden.size(); i++) {
            Npy.write(
                    dir.resolve(String.format("%04d_%s.npy", i, golden.get(i).name())),
                    golden.get(i).value().real());
        }
        LayerDump d = DumpLayouts.open(dir, null, FixedPointOptions.NONE);
        assertEquals(ManifestLayout.NPY, d.layout());
        // A plain folder names layers after their files: the order pass maps them back.
        assertReadBack(golden, d, false);
    }

    @Test
    void rknnSnapshotTextIsBitForBit() throws Exception {
        Path dir = tmp.resolve("snapshot/runtime");
        VendorDumpWriters.rknnSnapshot(dir, sim);
        VendorDumpWriters.rknnSnapshot(tmp.resolve("snapshot/golden"), golden);
        LayerDump d = DumpLayouts.open(dir, null, FixedPointOptions.NONE);
        assertEquals(RknnSnapshotLayout.NAME, d.layout());
        assertReadBack(floats(sim), d, false);
        assertReadBack(golden, DumpLayouts.open(tmp.resolve("snapshot/golden"), null, FixedPointOptions.NONE), false);
    }

    @Test
    void rknnSnapshotRootMapAppliesToEverySideAndNpyCopiesKeepTheShape() throws Exception {
        Path root = tmp.resolve("snapshot");
        VendorDumpWriters.rknnSnapshotRoot(root, golden, floats(sim), floats(sim));
        assertFalse(
                Files.exists(root.resolve("golden").resolve(RknnSnapshotLayout.MAP_FILE)),
                "the map is at the root only");
        for (String side : List.of("simulator", "runtime")) {
            LayerDump d = DumpLayouts.open(root.resolve(side), null, FixedPointOptions.NONE);
            assertEquals(RknnSnapshotLayout.NAME, d.layout(), side);
            assertReadBack(floats(sim), d, false);
        }
        LayerDump g = DumpLayouts.open(root.resolve("golden"), null, FixedPointOptions.NONE);
        assertTrue(
                g.layers().get(0).file().startsWith(RknnSnapshotLayout.NPY_DIR),
                g.layers().get(0).file());
        assertArrayEquals(
                golden.get(0).value().shape(), g.read(g.layers().get(0)).shape(), "npy/ keeps the shape");
        assertReadBack(golden, g, false);

        // A side holds only what was dumped: a tensor the board fused away is not a layer of it.
        String gone = g.layers()
                .get(3)
                .file()
                .replace(RknnSnapshotLayout.NPY_DIR + "/", "")
                .replace(".npy", ".txt");
        Files.delete(root.resolve("runtime").resolve(gone));
        assertEquals(
                sim.size() - 1,
                DumpLayouts.open(root.resolve("runtime"), null, FixedPointOptions.NONE)
                        .layers()
                        .size());

        IOException whole = assertThrows(IOException.class, () -> DumpLayouts.detect(root));
        assertTrue(whole.getMessage().contains("whole RKNN snapshot"), whole.getMessage());
        IOException qnt = assertThrows(IOException.class, () -> DumpLayouts.detect(root.resolve("entire_qnt")));
        assertTrue(qnt.getMessage().contains("not a dump in any known layout"), qnt.getMessage());
    }

    @Test
    void tidlTracesInTheNamingTiDocumentsAreBitForBit() throws Exception {
        Path dir = tmp.resolve("tidl_documented");
        VendorDumpWriters.tidlDocumented(dir, golden);
        assertTrue(Files.exists(dir.resolve(
                TidlTraceLayout.documentedName(100, golden.get(0).value().shape()) + "_float.bin")));
        LayerDump d = DumpLayouts.open(dir, null, FixedPointOptions.NONE);
        assertEquals(TidlTraceLayout.NAME, d.layout());
        assertEquals(golden.get(0).name(), d.layers().get(0).name(), "names from the layer info file");
        assertReadBack(golden, d, false);
    }

    @Test
    void tidlSubgraphsEachTakeTheirOwnLayerInfo() throws Exception {
        Path dir = tmp.resolve("tidl_two");
        VendorDumpWriters.tidlTwoSubgraphs(dir, golden, 10);
        LayerDump d = DumpLayouts.open(dir, null, FixedPointOptions.NONE);
        assertEquals(
                golden.stream().map(VendorDumpWriters.Named::name).toList(),
                d.layers().stream().map(l -> l.name()).toList(),
                "data ids repeat across subgraphs, names do not");
        assertReadBack(golden, d, false);
    }

    @Test
    void tidlPerCoreTracesAreRefusedInOneLineUnlessStitchedOnesAreBeside() throws Exception {
        Path dir = tmp.resolve("tidl_cores");
        VendorDumpWriters.tidlDocumented(dir, golden);
        try (var files = Files.list(dir)) {
            for (Path f : files.filter(p -> p.getFileName().toString().startsWith("tidl_trace"))
                    .toList()) {
                Files.copy(f, dir.resolve("C7X_1_" + f.getFileName()));
                Files.move(f, dir.resolve("C7X_2_" + f.getFileName()));
            }
        }
        IOException e = assertThrows(IOException.class, () -> DumpLayouts.open(dir, null, FixedPointOptions.NONE));
        assertTrue(
                e.getMessage().contains("per-core TIDL traces")
                        && e.getMessage().contains("stitch")
                        && e.getMessage().contains("[1, 2]")
                        && !e.getMessage().contains("\n"),
                e.getMessage());

        VendorDumpWriters.tidlDocumented(dir, golden);
        assertReadBack(golden, DumpLayouts.open(dir, null, FixedPointOptions.NONE), false);
    }

    @Test
    void rknnRuntimeNpyIsBitForBitAndSkipsReDumpedInputs() throws Exception {
        Path dir = tmp.resolve("rknn");
        VendorDumpWriters.rknnRuntime(dir, sim);
        LayerDump d = DumpLayouts.open(dir, null, FixedPointOptions.NONE);
        assertEquals(RknnRuntimeLayout.NAME, d.layout());
        assertEquals(sim.size(), d.layers().size(), "inputs dumped again under later operators are not layers");
        assertNotNull(d.layers().get(1).op());
        assertReadBack(floats(sim), d, false);
    }

    @Test
    void tidlTracesKeepCodesExactly() throws Exception {
        Path dir = tmp.resolve("tidl");
        Map<String, FixedPointOptions.LayerQuant> quant = VendorDumpWriters.tidl(dir, sim);
        FixedPointOptions options = new FixedPointOptions(quant, null, 0, null);
        LayerDump d = DumpLayouts.open(dir, null, options);
        assertEquals(TidlTraceLayout.NAME, d.layout());
        assertReadBack(sim, d, true);
    }

    @Test
    void vitisDumpKeepsCodesExactlyAndConvertsNhwc() throws Exception {
        Path dir = tmp.resolve("vitis");
        List<String> written = VendorDumpWriters.vitis(dir, sim);
        List<VendorDumpWriters.Named> int8 =
                sim.stream().filter(n -> written.contains(n.name())).toList();
        LayerDump d = DumpLayouts.open(dir, null, FixedPointOptions.NONE);
        assertEquals(VitisDumpLayout.NAME, d.layout());
        LayerMapping m = assertReadBack(int8, d, true);
        assertTrue(m.entries().stream().anyMatch(LayerMapping.Entry::nhwc), "channels-last layers are converted");
    }

    private static List<VendorDumpWriters.Named> floats(List<VendorDumpWriters.Named> run) {
        return run.stream()
                .map(n -> new VendorDumpWriters.Named(
                        n.name(), n.op(), LayerValue.of(n.value().real().toFloat())))
                .toList();
    }

    /** Reads every layer back, maps it onto the original and checks values (and codes) are identical. */
    private static LayerMapping assertReadBack(List<VendorDumpWriters.Named> original, LayerDump d, boolean codes)
            throws Exception {
        List<MappingTarget> targets = original.stream()
                .map(n -> new MappingTarget(n.name(), n.op(), n.value().shape()))
                .toList();
        LayerMapping m = LayerMapper.map(d.layers(), targets, Map.of());
        assertTrue(m.unmappedDump().isEmpty(), "unmapped: " + m.unmappedDump());
        assertTrue(m.unmatchedTargets().isEmpty(), "unmatched: " + m.unmatchedTargets());
        for (VendorDumpWriters.Named n : original) {
            LayerMapping.Entry e = m.forTarget(n.name()).orElseThrow();
            LayerValue back = Relayout.toTarget(d.read(e.from()), n.value().shape(), e.nhwc(), n.name());
            assertArrayEquals(n.value().shape(), back.shape(), n.name());
            if (codes && n.value().isQuantized()) {
                assertTrue(back.isQuantized(), n.name() + " reads back as codes");
                assertArrayEquals(n.value().codes().codes(), back.codes().codes(), n.name());
                assertEquals(
                        n.value().codes().params().type(), back.codes().params().type(), n.name());
            } else {
                float[] a = n.value().real().toFloat().floats();
                float[] b = back.real().toFloat().floats();
                assertEquals(a.length, b.length, n.name());
                for (int i = 0; i < a.length; i++) {
                    if (Float.floatToRawIntBits(a[i]) != Float.floatToRawIntBits(b[i])) {
                        assertFalse(true, n.name() + "[" + i + "]: " + a[i] + " read back as " + b[i]);
                    }
                }
            }
        }
        return m;
    }
}
