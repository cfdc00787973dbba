package dev.layerprobe.host.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import dev.layerprobe.proto.v1.LayerChunk;
import org.junit.jupiter.api.Test;

class ChunkBytesTest {
    private static byte[] bytes(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * 7 + 3);
        }
        return b;
    }

    @Test
    void aParsedChunkHandsOverItsOwnArray() throws Exception {
        byte[] sent = bytes(5000);
        byte[] wire = LayerChunk.newBuilder()
                .setIndex(3)
                .setData(ByteString.copyFrom(sent))
                .build()
                .toByteArray();
        ByteString parsed = LayerChunk.parseFrom(wire).getData();
        byte[] got = ChunkBytes.of(parsed);
        assertArrayEquals(sent, got);
        assertSame(got, ChunkBytes.of(parsed), "the parser's array itself, not a copy");
    }

    @Test
    void aWholeArrayIsNotCopiedAndASliceIs() {
        byte[] a = bytes(64);
        assertSame(a, ChunkBytes.of(UnsafeByteOperations.unsafeWrap(a)));
        ByteString slice = UnsafeByteOperations.unsafeWrap(a).substring(8, 40);
        byte[] got = ChunkBytes.of(slice);
        assertNotSame(a, got);
        assertArrayEquals(java.util.Arrays.copyOfRange(a, 8, 40), got);
        ByteString joined = ByteString.copyFrom(bytes(10)).concat(ByteString.copyFrom(bytes(300)));
        assertArrayEquals(joined.toByteArray(), ChunkBytes.of(joined));
        assertArrayEquals(new byte[0], ChunkBytes.of(ByteString.EMPTY));
    }
}
