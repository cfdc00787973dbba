package dev.layerprobe.agent.service;

import java.io.EOFException;
import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.nio.MappedByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A stored layer's file, read by copying from a memory mapping of it, one window at a time.
 *
 * <p>Copying out of a mapping of the page cache measured about seven times faster than
 * {@code pread} into a heap buffer (which the JDK routes through a temporary direct buffer), and
 * reading is most of what the agent spends per byte of a pull besides the socket itself. A window
 * is unmapped as soon as the reads move past it and when the file is closed, not left to the
 * garbage collector, so that a deleted run's disk space comes back and address space stays small.
 * Every access holds this object's lock, so nothing reads a window after it is unmapped; a read
 * after {@link #close()} fails. Stored runs are never written again, so a mapping never sees the
 * file shrink.
 */
final class LayerFile implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(LayerFile.class.getName());
    /** Bytes mapped at a time. */
    static final long WINDOW_BYTES = 64L << 20;

    private static final Unmapper UNMAPPER = Unmapper.find();

    private final FileChannel channel;
    private final long size;
    private final long windowBytes;
    private MappedByteBuffer window;
    private long windowStart;
    private boolean closed;

    /** Takes ownership of {@code channel}. */
    LayerFile(FileChannel channel) throws IOException {
        this(channel, WINDOW_BYTES);
    }

    LayerFile(FileChannel channel, long windowBytes) throws IOException {
        this.channel = channel;
        this.size = channel.size();
        this.windowBytes = windowBytes;
    }

    /** The file's size in bytes. */
    long size() {
        return size;
    }

    /** Copies the file's bytes {@code [position, position + len)} into {@code dst[off..]}. */
    synchronized void read(long position, byte[] dst, int off, int len) throws IOException {
        if (closed) {
            throw new ClosedChannelException();
        }
        if (position < 0 || position + len > size) {
            throw new EOFException("the stored layer's file has " + size + " bytes, a read asked for bytes " + position
                    + " to " + (position + len));
        }
        while (len > 0) {
            if (window == null || position < windowStart || position >= windowStart + window.capacity()) {
                map(position - position % windowBytes);
            }
            int at = (int) (position - windowStart);
            int n = Math.min(len, window.capacity() - at);
            window.get(at, dst, off, n);
            position += n;
            off += n;
            len -= n;
        }
    }

    private void map(long start) throws IOException {
        unmap();
        window = channel.map(FileChannel.MapMode.READ_ONLY, start, Math.min(windowBytes, size - start));
        windowStart = start;
    }

    private void unmap() {
        if (window != null) {
            UNMAPPER.unmap(window);
            window = null;
        }
    }

    /** Unmaps and closes the file. Idempotent. */
    @Override
    public synchronized void close() throws IOException {
        if (!closed) {
            closed = true;
            unmap();
            channel.close();
        }
    }

    /**
     * Unmaps a mapping now, through {@code sun.misc.Unsafe.invokeCleaner} (module jdk.unsupported,
     * the only way Java 17 offers); where that is missing, the mapping goes when it is collected.
     */
    private record Unmapper(Object unsafe, Method invokeCleaner) {
        static Unmapper find() {
            try {
                Class<?> c = Class.forName("sun.misc.Unsafe");
                Field f = c.getDeclaredField("theUnsafe");
                f.setAccessible(true);
                return new Unmapper(f.get(null), c.getMethod("invokeCleaner", java.nio.ByteBuffer.class));
            } catch (ReflectiveOperationException | RuntimeException e) {
                LOG.log(Level.FINE, "no sun.misc.Unsafe.invokeCleaner: mappings are released by the collector", e);
                return new Unmapper(null, null);
            }
        }

        void unmap(MappedByteBuffer b) {
            if (invokeCleaner != null) {
                try {
                    invokeCleaner.invoke(unsafe, b);
                } catch (ReflectiveOperationException | RuntimeException e) {
                    LOG.log(Level.FINE, "unmapping a stored layer failed; the collector will", e);
                }
            }
        }
    }
}
