package dev.layerprobe.agent.service;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.protobuf.ByteString;
import dev.layerprobe.proto.v1.LayerChunk;
import dev.layerprobe.proto.v1.RunEvent;
import io.grpc.Drainable;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.InputStream;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A chunk read from a layer's file is byte for byte the RunEvent it stands for, however it is read. */
class FileChunkTest {
    @TempDir
    Path tmp;

    private byte[] data;

    private LayerFile layer(int bytes) throws Exception {
        data = new byte[bytes];
        new Random(3).nextBytes(data);
        Path f = tmp.resolve("layer.bin");
        Files.write(f, data);
        return new LayerFile(FileChannel.open(f));
    }

    private static byte[] expected(int index, long offset, byte[] bytes) {
        return RunEvent.newBuilder()
                .setChunk(LayerChunk.newBuilder()
                        .setIndex(index)
                        .setOffset(offset)
                        .setData(ByteString.copyFrom(bytes)))
                .build()
                .toByteArray();
    }

    @Test
    @SuppressWarnings("try") // closes the file inside the block on purpose, to check reads after close
    void readsAtAnyPositionMatchTheFile() throws Exception {
        try (LayerFile f = layer(1 << 20)) {
            Random r = new Random(5);
            for (int i = 0; i < 200; i++) {
                int at = r.nextInt(data.length);
                int len = r.nextInt(Math.min(300_000, data.length - at) + 1);
                byte[] got = new byte[len + 2];
                f.read(at, got, 1, len);
                assertArrayEquals(
                        Arrays.copyOfRange(data, at, at + len),
                        Arrays.copyOfRange(got, 1, len + 1),
                        "bytes " + at + ".." + (at + len));
            }
            assertThrows(EOFException.class, () -> f.read(data.length - 10, new byte[20], 0, 20));
            f.close();
            assertThrows(ClosedChannelException.class, () -> f.read(0, new byte[1], 0, 1));
        }
    }

    @Test
    void drainedAndReadChunksAreTheSerializedRunEvent() throws Exception {
        try (LayerFile f = layer(700_000)) {
            byte[] scratch = new byte[50_000];
            FileChunk.Marshaller m = new FileChunk.Marshaller();
            // PullDump never sends an empty chunk (proto3 would leave out its empty data field).
            int[][] cases = {{0, 0, 300_000}, {7, 123_457, 400_000}, {2, 699_999, 1}, {300, 5, 17}};
            for (int[] c : cases) {
                byte[] want = expected(c[0], c[1], Arrays.copyOfRange(data, c[1], c[1] + c[2]));

                // As Netty's transport does: drained while onNext runs.
                FileChunk drained = new FileChunk(f, c[0], c[1], c[2], scratch);
                InputStream s = m.stream(drained);
                assertEquals(want.length, s.available());
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                assertEquals(want.length, ((Drainable) s).drainTo(out));
                drained.detach();
                assertArrayEquals(want, out.toByteArray());

                // As the in-process transport does: read later, after detach, byte by byte and in runs.
                FileChunk kept = new FileChunk(f, c[0], c[1], c[2], scratch);
                InputStream later = m.stream(kept);
                kept.detach();
                ByteArrayOutputStream read = new ByteArrayOutputStream();
                for (int i = 0; i < 5; i++) {
                    read.write(later.read());
                }
                read.write(later.readAllBytes());
                assertArrayEquals(want, read.toByteArray());
                assertEquals(RunEvent.parseFrom(want), m.parse(m.stream(kept)));
            }
        }
    }
}
