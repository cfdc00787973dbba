package dev.layerprobe.host.client;

import com.google.protobuf.ByteOutput;
import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;

/**
 * A received chunk's bytes as an array without copying them again when the message's parser
 * already gave the chunk an array of its own: gRPC parses a message from its own buffer with
 * protobuf's aliasing off, so each {@code bytes} field is a fresh array of exactly its size, and
 * {@link ByteString#toByteArray()} would copy it a second time. Anything else (a slice of a larger
 * array, a buffer) is copied.
 */
final class ChunkBytes {
    private ChunkBytes() {}

    /** The bytes of {@code s}; the caller may keep the array but must not write to it. */
    static byte[] of(ByteString s) {
        Capture c = new Capture();
        try {
            UnsafeByteOperations.unsafeWriteTo(s, c);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // Capture throws none
        }
        return c.whole != null && c.whole.length == s.size() ? c.whole : s.toByteArray();
    }

    /** Keeps the array a byte string hands over whole, if it does; sees nothing else. */
    private static final class Capture extends ByteOutput {
        byte[] whole;
        private int calls;

        @Override
        public void writeLazy(byte[] value, int offset, int length) {
            whole = ++calls == 1 && offset == 0 && length == value.length ? value : null;
        }

        /** Any other way of handing bytes over: they are not one whole array. */
        private void other() {
            calls++;
            whole = null;
        }

        @Override
        public void write(byte[] value, int offset, int length) {
            other();
        }

        @Override
        public void write(byte value) {
            other();
        }

        @Override
        public void write(ByteBuffer value) {
            other();
        }

        @Override
        public void writeLazy(ByteBuffer value) {
            other();
        }
    }
}
