package dev.layerprobe.agent.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.core.LayerProbeException;
import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.profile.DeviceProfile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The exec backend drives a command, reads what it dumps, and reports its failures in one line. */
class ExecBackendTest {
    @TempDir
    Path tmp;

    private Path config(String command, String args, String extra) throws Exception {
        Path c = tmp.resolve("agent.yaml");
        Files.writeString(
                c,
                "exec:\n  command: " + command + "\n  args: " + args + "\n  layout: rknn-runtime\n"
                        + "  timeout_seconds: 2\n  work_root: " + tmp + "\n" + extra);
        return c;
    }

    @Test
    void streamsWhatTheRuntimeDumpsUnderTheModelsLayerNames() throws Exception {
        // The "runtime" copies its input to an RKNN runtime dump of the Relu's output 'y'.
        Path c = config("/bin/cp", "[\"{input}\", \"{dumps}/000_Relu_y_shape_1_4_float.npy\"]", "");
        Backend b = new ExecBackendProvider().create(DeviceProfile.DEFAULT, c);
        assertEquals(ExecBackend.NAME, b.name());
        assertFalse(b.capabilities().contains(Capability.RUN_LAYER));
        List<String> names = new ArrayList<>();
        List<LayerValue> values = new ArrayList<>();
        try (LoadedModel m = b.load(TinyModels.relu(), "id")) {
            m.run(Map.of("x", Tensor.ofFloats(new int[] {1, 4}, new float[] {-1, 2, -3, 4})), (l, v) -> {
                names.add(l.name());
                values.add(v);
            });
        }
        assertEquals(List.of("y"), names);
        assertArrayEquals(new float[] {-1, 2, -3, 4}, values.get(0).real().floats());
        try (var left = Files.list(tmp)) {
            assertEquals(1, left.count(), "only the config file is left: working folders are removed");
        }
    }

    @Test
    void aFailingRuntimeIsAnErrorWithTheEndOfItsOutput() throws Exception {
        Path c = config("/bin/sh", "[\"-c\", \"echo NPU driver not loaded; exit 3\"]", "");
        Backend b = new ExecBackendProvider().create(DeviceProfile.DEFAULT, c);
        try (LoadedModel m = b.load(TinyModels.relu(), "id")) {
            LayerProbeException e = assertThrows(
                    LayerProbeException.class, () -> m.run(Map.of("x", Tensor.zeros(new int[] {1, 4})), (l, v) -> {}));
            assertTrue(
                    e.getMessage().contains("exited with 3") && e.getMessage().contains("NPU driver not loaded"),
                    e.getMessage());
        }
    }

    @Test
    void aHangingRuntimeIsKilledAtTheTimeout() throws Exception {
        Path c = config("/bin/sleep", "[\"30\"]", "");
        Backend b = new ExecBackendProvider().create(DeviceProfile.DEFAULT, c);
        long t0 = System.nanoTime();
        try (LoadedModel m = b.load(TinyModels.relu(), "id")) {
            LayerProbeException e = assertThrows(
                    LayerProbeException.class, () -> m.run(Map.of("x", Tensor.zeros(new int[] {1, 4})), (l, v) -> {}));
            assertTrue(e.getMessage().contains("did not finish within 2 s"), e.getMessage());
        }
        assertTrue((System.nanoTime() - t0) / 1e9 < 20, "killed, not waited for");
    }

    @Test
    void badConfigsAreRefusedNamingTheKey() throws Exception {
        LayerProbeException none = assertThrows(
                LayerProbeException.class, () -> new ExecBackendProvider().create(DeviceProfile.DEFAULT, null));
        assertTrue(none.getMessage().contains("--backend-config"), none.getMessage());

        Path typo = config("/bin/true", "[]", "  dumpdir: x\n");
        LayerProbeException e = assertThrows(
                LayerProbeException.class, () -> new ExecBackendProvider().create(DeviceProfile.DEFAULT, typo));
        assertTrue(e.getMessage().contains("exec.dumpdir") && e.getMessage().contains("dump_dir"), e.getMessage());

        Path layout = tmp.resolve("l.yaml");
        Files.writeString(layout, "exec:\n  command: /bin/true\n  layout: rknn\n");
        e = assertThrows(
                LayerProbeException.class, () -> new ExecBackendProvider().create(DeviceProfile.DEFAULT, layout));
        assertTrue(e.getMessage().contains("rknn-runtime"), e.getMessage());

        LayerProbeException sim = assertThrows(
                LayerProbeException.class, () -> new SimBackendProvider().create(DeviceProfile.DEFAULT, typo));
        assertTrue(sim.getMessage().contains("takes no config file"), sim.getMessage());
    }
}
