package dev.layerprobe.agent.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.agent.ManualClock;
import dev.layerprobe.proto.v1.DumpFormat;
import dev.layerprobe.proto.v1.LayerHeader;
import dev.layerprobe.proto.v1.RunInfo;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunStoreTest {
    @TempDir
    Path dir;

    private static String store(RunStore s, int bytes) throws Exception {
        RunStore.Writer w = s.begin("model", DumpFormat.NATIVE);
        w.beginLayer(LayerHeader.newBuilder()
                .setIndex(0)
                .setName("l")
                .setSizeBytes(bytes)
                .build());
        w.write(ByteBuffer.allocate(bytes));
        w.endLayer("sha");
        return w.commit().getRunId();
    }

    private static List<String> ids(RunStore s) {
        return s.list().stream().map(RunInfo::getRunId).toList();
    }

    @Test
    void theOldestRunsGoWhenTheTotalPassesTheLimitButNeverTheOneJustStored() throws Exception {
        ManualClock clock = new ManualClock();
        RunStore s = RunStore.open(dir, new RunStore.Retention(250, Duration.ofHours(1)), clock);
        String a = store(s, 100);
        clock.advance(Duration.ofMillis(1));
        String b = store(s, 100);
        clock.advance(Duration.ofMillis(1));
        assertEquals(List.of(b, a), ids(s), "newest first");
        String c = store(s, 100);
        assertEquals(List.of(c, b), ids(s));
        assertFalse(Files.exists(dir.resolve(a)), "an evicted run's files are deleted");
        String big = store(s, 1000);
        assertEquals(List.of(big), ids(s), "a run over the limit is still kept, alone");
    }

    @Test
    void runsOlderThanTheAgeLimitGoAndUnfinishedOnesNeverShow() throws Exception {
        ManualClock clock = new ManualClock();
        RunStore s = RunStore.open(dir, new RunStore.Retention(1 << 20, Duration.ofMinutes(10)), clock);
        String old = store(s, 10);
        clock.advance(Duration.ofMinutes(11));
        RunStore.Writer unfinished = s.begin("model", DumpFormat.NATIVE);
        String fresh = store(s, 10);
        assertEquals(List.of(fresh), ids(s));
        assertTrue(Files.isDirectory(dir.resolve(unfinished.runId())));

        // A restart drops what never finished (as after a crash) and keeps what did.
        RunStore reopened = RunStore.open(dir, new RunStore.Retention(1 << 20, Duration.ofMinutes(10)), clock);
        assertEquals(List.of(fresh), ids(reopened));
        assertFalse(Files.exists(dir.resolve(unfinished.runId())));
        assertFalse(Files.exists(dir.resolve(old)));
    }

    @Test
    void anAbortedRunLeavesNothing() throws Exception {
        RunStore s = RunStore.open(dir, RunStore.Retention.DEFAULT);
        RunStore.Writer w = s.begin("model", DumpFormat.NATIVE);
        w.beginLayer(LayerHeader.newBuilder()
                .setIndex(0)
                .setName("l")
                .setSizeBytes(4)
                .build());
        w.write(ByteBuffer.allocate(2));
        w.close();
        assertTrue(s.list().isEmpty());
        assertFalse(Files.exists(dir.resolve(w.runId())));
        assertTrue(s.get(w.runId()).isEmpty());
    }

    /**
     * A run aborting (deleting its directory) while the agent closes its temporary store (deleting
     * the whole tree): each deleter finds entries the other removed, which must not be an error.
     */
    @Test
    void closingATemporaryStoreWhileRunsAbortDeletesEverythingWithoutFailing() throws Exception {
        for (int round = 0; round < 30; round++) {
            RunStore s = RunStore.temporary(new RunStore.Retention(1 << 30, Duration.ofHours(1)));
            List<RunStore.Writer> open = new java.util.ArrayList<>();
            for (int r = 0; r < 4; r++) {
                RunStore.Writer w = s.begin("model", DumpFormat.NATIVE);
                for (int l = 0; l < 50; l++) {
                    w.beginLayer(LayerHeader.newBuilder()
                            .setIndex(l)
                            .setName("l" + l)
                            .setSizeBytes(16)
                            .build());
                    w.write(ByteBuffer.allocate(16));
                    w.endLayer("sha");
                }
                open.add(w);
            }
            java.util.concurrent.CompletableFuture<Void> aborts =
                    java.util.concurrent.CompletableFuture.runAsync(() -> open.forEach(RunStore.Writer::abort));
            s.close();
            aborts.get();
            assertFalse(Files.exists(s.dir()), "round " + round + ": " + s.dir() + " is left");
        }
    }
}
