package dev.layerprobe.agent.service;

import com.google.protobuf.CodedOutputStream;
import dev.layerprobe.proto.v1.LayerChunk;
import dev.layerprobe.proto.v1.RunEvent;
import io.grpc.Drainable;
import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import io.grpc.protobuf.ProtoUtils;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;

/**
 * A {@code RunEvent} carrying one {@link LayerChunk} of a stored layer, whose bytes are read from
 * the layer's file while the transport serializes the message rather than before.
 *
 * <p>Over Netty, gRPC serializes a message inside {@code onNext} by draining its stream. Draining
 * this one reads the file's bytes ({@link LayerFile}) straight into a pooled direct buffer, which
 * goes to the transport as it is ({@link FramerBuffers}): the kernel's copy out of its page cache
 * is the only one on the agent, as in a plain socket copy. Where gRPC's framer takes no buffers,
 * the bytes are read into a small buffer the call reuses and written on piece by piece (the framer
 * copies them into its own buffers): no array per chunk, so no zeroing of 1 MiB and no humongous
 * allocation per message, and every copy stays within the CPU's cache. A transport that
 * keeps the stream and reads it later (the in-process one hands it to the client as it is) gets
 * the bytes read into an array of their own by {@link #detach()}, which the call invokes as soon
 * as {@code onNext} returns, while it still holds the file open.
 *
 * <p>The bytes on the wire are exactly those of the equivalent {@code RunEvent} message: the
 * chunk's {@code index} and {@code offset}, then {@code data} (its last field) whose bytes follow.
 * Not thread-safe beyond what {@link #detach()} and a late reader need: both synchronize here.
 */
final class FileChunk {
    /** Netty's shared pool: buffers return to it when the transport has written them. */
    private static final ByteBufAllocator ALLOCATOR = PooledByteBufAllocator.DEFAULT;

    private final LayerFile file;
    private final long position;
    private final int length;
    private final byte[] prefix;
    private final byte[] scratch;
    private byte[] bytes;
    private boolean drained;

    /**
     * @param scratch the call's buffer for reading the file in pieces; used only while draining
     *     inside {@code onNext}, before {@link #detach()}
     */
    FileChunk(LayerFile file, int index, long position, int length, byte[] scratch) {
        this.file = file;
        this.position = position;
        this.length = length;
        this.scratch = scratch;
        this.prefix = prefix(index, position, length);
    }

    /** The serialized RunEvent up to the first byte of {@code data}. */
    private static byte[] prefix(int index, long position, int length) {
        byte[] meta = LayerChunk.newBuilder()
                .setIndex(index)
                .setOffset(position)
                .build()
                .toByteArray();
        int dataField = CodedOutputStream.computeTagSize(LayerChunk.DATA_FIELD_NUMBER)
                + CodedOutputStream.computeUInt32SizeNoTag(length);
        int chunkSize = meta.length + dataField + length;
        int size = CodedOutputStream.computeTagSize(RunEvent.CHUNK_FIELD_NUMBER)
                + CodedOutputStream.computeUInt32SizeNoTag(chunkSize)
                + meta.length
                + dataField;
        byte[] p = new byte[size];
        CodedOutputStream out = CodedOutputStream.newInstance(p);
        try {
            out.writeTag(RunEvent.CHUNK_FIELD_NUMBER, com.google.protobuf.WireFormat.WIRETYPE_LENGTH_DELIMITED);
            out.writeUInt32NoTag(chunkSize);
            out.writeRawBytes(meta);
            out.writeTag(LayerChunk.DATA_FIELD_NUMBER, com.google.protobuf.WireFormat.WIRETYPE_LENGTH_DELIMITED);
            out.writeUInt32NoTag(length);
            out.checkNoSpaceLeft();
        } catch (IOException e) {
            throw new IllegalStateException("a chunk prefix does not fit its computed size", e);
        }
        return p;
    }

    /**
     * Reads the bytes into an array of their own unless the transport has already drained them,
     * so that whoever reads the message later does not need the file.
     */
    synchronized void detach() throws IOException {
        if (!drained && bytes == null) {
            bytes = readAll();
        }
    }

    /**
     * Hands the whole message (prefix and data) to the framer in one direct buffer filled from the
     * file, for a {@code target} that {@link FramerBuffers#accepts} it.
     */
    private synchronized void handOver(OutputStream target) throws IOException {
        int size = prefix.length + length;
        ByteBuf buf = ALLOCATOR.directBuffer(size, size);
        try {
            buf.writeBytes(prefix);
            if (bytes != null) {
                buf.writeBytes(bytes);
            } else {
                file.read(position, buf, length);
            }
        } catch (IOException | RuntimeException e) {
            buf.release();
            throw e;
        }
        FramerBuffers.add(target, buf);
        drained = true;
    }

    private synchronized void writeData(OutputStream target) throws IOException {
        if (bytes != null) {
            target.write(bytes);
        } else {
            for (long at = position, end = position + length; at < end; ) {
                int n = (int) Math.min(scratch.length, end - at);
                file.read(at, scratch, 0, n);
                target.write(scratch, 0, n);
                at += n;
            }
        }
        drained = true;
    }

    private synchronized byte[] data() {
        if (bytes == null) {
            try {
                bytes = readAll();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return bytes;
    }

    private byte[] readAll() throws IOException {
        byte[] b = new byte[length];
        file.read(position, b, 0, length);
        return b;
    }

    /**
     * PullDump's response marshaller: {@link FileChunk}s as described above, anything else as the
     * {@code RunEvent} it is. Parses RunEvents, for a transport that asks.
     */
    static final class Marshaller implements MethodDescriptor.Marshaller<Object> {
        private static final MethodDescriptor.Marshaller<RunEvent> EVENTS =
                ProtoUtils.marshaller(RunEvent.getDefaultInstance());

        @Override
        public InputStream stream(Object value) {
            if (value instanceof FileChunk c) {
                // Of unknown length, the framer drains it into its buffer chain, which takes buffers.
                return FramerBuffers.AVAILABLE ? new Stream(c) : new KnownLengthStream(c);
            }
            return EVENTS.stream((RunEvent) value);
        }

        @Override
        public Object parse(InputStream stream) {
            return EVENTS.parse(stream);
        }
    }

    /** The message's bytes when gRPC's framer cannot take buffers: it copies them in after their length. */
    private static final class KnownLengthStream extends Stream implements KnownLength {
        KnownLengthStream(FileChunk chunk) {
            super(chunk);
        }
    }

    /**
     * The message's bytes: handed over in a buffer, drained from the file, or read from the detached
     * array.
     */
    private static class Stream extends InputStream implements Drainable {
        private final FileChunk chunk;
        private int at;

        Stream(FileChunk chunk) {
            this.chunk = chunk;
        }

        private int size() {
            return chunk.prefix.length + chunk.length;
        }

        @Override
        public int drainTo(OutputStream target) throws IOException {
            int left = size() - at;
            if (at == 0 && FramerBuffers.accepts(target)) {
                chunk.handOver(target);
            } else if (at == 0) {
                target.write(chunk.prefix);
                chunk.writeData(target);
            } else {
                byte[] rest = new byte[left];
                readNBytes(rest, 0, left);
                target.write(rest);
            }
            at = size();
            return left;
        }

        @Override
        public final int available() {
            return size() - at;
        }

        @Override
        public int read() {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (len == 0) {
                return 0;
            }
            if (at >= size()) {
                return -1;
            }
            int n = Math.min(len, size() - at);
            int p = chunk.prefix.length;
            int fromPrefix = Math.max(0, Math.min(n, p - at));
            if (fromPrefix > 0) {
                System.arraycopy(chunk.prefix, at, b, off, fromPrefix);
            }
            if (n > fromPrefix) {
                System.arraycopy(chunk.data(), at + fromPrefix - p, b, off + fromPrefix, n - fromPrefix);
            }
            at += n;
            return n;
        }
    }
}
