package dev.layerprobe.core.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFilesTest {
    @TempDir
    Path dir;

    @Test
    void replacesTheFileAndLeavesNoTemporaryFile() throws IOException {
        Path f = dir.resolve("sub/report.json");
        AtomicFiles.writeString(f, "old");
        AtomicFiles.writeString(f, "new");
        assertEquals("new", Files.readString(f));
        assertEquals(1, count(f.getParent()));
    }

    @Test
    void aFailedWriteKeepsTheOldFileWhole() throws IOException {
        Path f = dir.resolve("model.onnx");
        AtomicFiles.writeString(f, "complete");
        IOException e = assertThrows(
                IOException.class,
                () -> AtomicFiles.write(f, out -> {
                    out.write("half".getBytes(StandardCharsets.UTF_8));
                    throw new IOException("disk full");
                }));
        assertEquals("disk full", e.getMessage());
        assertEquals("complete", Files.readString(f));
        assertEquals(1, count(dir));
    }

    @Test
    void sha256OfBytesFileAndStreamAgree() throws IOException {
        byte[] b = "abc".getBytes(StandardCharsets.US_ASCII);
        String known = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assertEquals(known, Sha256.hexOf(b));
        Path f = dir.resolve("abc");
        AtomicFiles.write(f, b);
        assertEquals(known, Sha256.hexOf(f));
    }

    private static long count(Path d) throws IOException {
        try (Stream<Path> s = Files.list(d)) {
            return s.count();
        }
    }
}
