package dev.layerprobe.dump.vendor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.dump.DumpFormatException;
import dev.layerprobe.dump.vendor.VendorTable.Column;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The two forms of RKNN-Toolkit2's error_analysis.txt, parsed by header words. */
class RknnErrorAnalysisTest {
    @TempDir
    Path tmp;

    @Test
    void toolkit2FormWithCosAndEucPerCellAndPartialRows() throws Exception {
        Path f = write("""
                # simulator_error: calculate the output error of each layer of the simulator (compared to the 'golden' value).
                #              entire: output error of each layer between 'golden' and 'simulator'.
                # runtime_error: calculate the output error of each layer of the runtime.

                layer_name           simulator_error                     runtime_error
                                  entire            single            entire            single_sim
                                cos      euc      cos      euc      cos      euc      cos      euc
                ---------------------------------------------------------------------------------------
                [Input] input      1.00000 | 0.0    1.00000 | 0.0    0.99995 | 0.1627  0.99995 | 0.1627
                [Conv] conv_1      0.99999 | 1.0755  0.99990 | 1.0001
                [Conv] conv_2
                [Relu] relu_2      0.99998 | 1.0397  1.00000 | 0.7689  0.97000 | 9.4931  0.96000 | 8.3477
                """);
        VendorTable t = RknnErrorAnalysis.read(f);
        assertEquals(List.of(Column.ENTIRE, Column.PER_LAYER, Column.GOLDEN_ERR, Column.SIMU_ERR), t.columns());
        assertEquals("cos | euc per cell", t.form());
        assertEquals(4, t.rows().size());
        VendorTable.Row conv = t.rows().get(1);
        assertEquals("conv_1", conv.name());
        assertEquals("Conv", conv.op());
        assertEquals(0.99990, conv.cells().get(Column.PER_LAYER).cos());
        assertEquals(1.0001, conv.cells().get(Column.PER_LAYER).euc());
        assertFalse(conv.cells().containsKey(Column.GOLDEN_ERR), "a row with only the simulator's columns");
        assertTrue(t.rows().get(2).cells().isEmpty(), "a fused layer prints no numbers");
        VendorTable.Row relu = t.rows().get(3);
        assertEquals(0.97, relu.cells().get(Column.GOLDEN_ERR).cos(), "runtime_error entire is golden vs runtime");
        assertEquals(0.96, relu.cells().get(Column.SIMU_ERR).cos(), "single_sim is simulator vs runtime");
    }

    @Test
    void toolkit1FormWithOneCosinePerCell() throws Exception {
        Path f = write("""
                layer_name    simulator_error        runtime_error
                              entire   single        entire   single_sim
                -------------------------------------------------------
                [Conv] a      0.999990 0.999980      0.999000 0.998000
                [Relu] b      0.990000 0.995000
                """);
        VendorTable t = RknnErrorAnalysis.read(f);
        assertEquals("cos per cell", t.form());
        assertEquals(0.999, t.rows().get(0).cells().get(Column.GOLDEN_ERR).cos());
        assertTrue(Double.isNaN(t.rows().get(0).cells().get(Column.ENTIRE).euc()));
        assertEquals(2, t.rows().get(1).cells().size());
    }

    @Test
    void olderFormNamesTheFourColumnsInAnyOrder() throws Exception {
        Path f = write("""
                layer_name   entire   per_layer   golden_err   simu_err
                ----
                [Conv] a     0.9      0.8         0.7          nan
                """);
        VendorTable t = RknnErrorAnalysis.read(f);
        assertEquals(List.of(Column.ENTIRE, Column.PER_LAYER, Column.GOLDEN_ERR, Column.SIMU_ERR), t.columns());
        assertEquals(0.7, t.rows().get(0).cells().get(Column.GOLDEN_ERR).cos());
        assertTrue(Double.isNaN(t.rows().get(0).cells().get(Column.SIMU_ERR).cos()));
    }

    @Test
    void aFileThatIsNoSuchTableIsRefusedWithItsName() throws Exception {
        Path f = write("hello world\n----\n[Conv] a 1.0\n");
        DumpFormatException e = assertThrows(DumpFormatException.class, () -> RknnErrorAnalysis.read(f));
        assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("no header"), e.getMessage());
        Path g = write("layer_name entire\n----\n[Conv] a 1.0 0.5\n");
        e = assertThrows(DumpFormatException.class, () -> RknnErrorAnalysis.read(g));
        assertTrue(e.getMessage().contains("line 3") && e.getMessage().contains("more cells"), e.getMessage());
        Path h = write("layer_name entire\n----\n[Conv] a abc\n");
        e = assertThrows(DumpFormatException.class, () -> RknnErrorAnalysis.read(h));
        assertTrue(e.getMessage().contains("'abc' is not a number"), e.getMessage());
    }

    private Path write(String text) throws Exception {
        Path f = Files.createTempFile(tmp, "error_analysis", ".txt");
        Files.writeString(f, text);
        return f;
    }
}
