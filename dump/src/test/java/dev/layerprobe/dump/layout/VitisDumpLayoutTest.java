package dev.layerprobe.dump.layout;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.core.tensor.LayerValue;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Vitis AI dumps split into subgraph folders, and fix positions turned into scales. */
class VitisDumpLayoutTest {
    @TempDir
    Path tmp;

    @Test
    void readsSubgraphFoldersInFixPosOrderWithEachTensorOnce() throws Exception {
        Path sg0 = Files.createDirectories(tmp.resolve("subgraph_0/output"));
        Path sg1 = Files.createDirectories(tmp.resolve("subgraph_1/output"));
        Files.write(sg0.resolve("conv1_out.bin"), new byte[] {1, -2, 3, -4});
        Files.write(sg1.resolve("conv1_out.bin"), new byte[] {9, 9, 9, 9}); // the same tensor as subgraph 1's input
        Files.write(sg1.resolve("head_out.bin"), new byte[] {5, 6});
        Files.writeString(tmp.resolve(VitisDumpLayout.FIX_POS_FILE), "head/out 1 1x1x1x2\nconv1/out 2 1x1x2x2\n");

        assertEquals(VitisDumpLayout.NAME, DumpLayouts.detect(tmp).name());
        LayerDump d = DumpLayouts.open(tmp, null, FixedPointOptions.NONE);
        assertEquals(
                List.of("head_out", "conv1_out"),
                d.layers().stream().map(DumpedLayer::name).toList());
        assertTrue(d.layers().get(0).nhwc());
        LayerValue conv = d.read(d.layers().get(1));
        assertArrayEquals(new int[] {1, -2, 3, -4}, conv.codes().codes());
        assertEquals(0.25f, conv.codes().params().scale(0));
        assertArrayEquals(new int[] {1, 1, 2, 2}, conv.shape());
    }
}
