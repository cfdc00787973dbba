package dev.layerprobe.dump.npy;

import dev.layerprobe.core.io.Sha256;
import dev.layerprobe.core.tensor.DType;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;

/**
 * Writes one .npy file as its data arrives: the header first (the shape is known up front), then
 * chunks of little-endian C-order bytes, so a streamed layer never has to be held whole. Also
 * computes the sha256 of the data bytes (not the header), the checksum dumps and the wire use.
 *
 * <p>{@link #close()} fails if fewer or more bytes were written than the shape needs, so a short
 * stream cannot pass as a complete file. Not thread-safe: one writer per stream.
 */
public final class NpyWriter implements AutoCloseable {
    private final Path file;
    private final OutputStream out;
    private final MessageDigest sha;
    private final long expected;
    private long written;
    private String sha256;
    private boolean closed;

    private NpyWriter(Path file, OutputStream out, long expected) {
        this(file, out, expected, Sha256.newDigest(), 0);
    }

    private NpyWriter(Path file, OutputStream out, long expected, MessageDigest sha, long written) {
        this.file = file;
        this.out = out;
        this.expected = expected;
        this.sha = sha;
        this.written = written;
    }

    /**
     * Continues a file an interrupted writer left behind: when {@code file} exists with the header
     * this type and shape need and at most the data they declare, its data bytes are kept (and
     * hashed, so {@link #sha256()} covers the whole file) and writing appends after them;
     * otherwise the file is started afresh as by {@link #open(Path, DType, int[])}.
     * {@link #written()} tells how many data bytes are already there.
     */
    public static NpyWriter append(Path file, DType dtype, int[] shape) throws IOException {
        byte[] header = Npy.header(dtype, shape);
        long n = 1;
        for (int d : shape) {
            n = Math.multiplyExact(n, (long) d);
        }
        long expected = n * dtype.bytes();
        if (!Files.isRegularFile(file)
                || Files.size(file) < header.length
                || Files.size(file) - header.length > expected) {
            return open(file, dtype, shape);
        }
        MessageDigest sha = Sha256.newDigest();
        long have = 0;
        boolean sameHeader;
        try (var in = Files.newInputStream(file)) {
            sameHeader = java.util.Arrays.equals(in.readNBytes(header.length), header);
            byte[] buf = new byte[1 << 16];
            for (int r; sameHeader && (r = in.read(buf)) > 0; ) {
                sha.update(buf, 0, r);
                have += r;
            }
        }
        if (!sameHeader) {
            return open(file, dtype, shape);
        }
        OutputStream out = new BufferedOutputStream(Files.newOutputStream(file, StandardOpenOption.APPEND), 1 << 16);
        return new NpyWriter(file, out, expected, sha, have);
    }

    /** Creates (or replaces) {@code file} and writes the header for an array of this type and shape. */
    public static NpyWriter open(Path file, DType dtype, int[] shape) throws IOException {
        byte[] header = Npy.header(dtype, shape);
        long n = 1;
        for (int d : shape) {
            n = Math.multiplyExact(n, (long) d);
        }
        OutputStream out = new BufferedOutputStream(Files.newOutputStream(file), 1 << 16);
        try {
            out.write(header);
        } catch (IOException e) {
            out.close();
            throw new IOException("cannot write " + file + ": " + e.getMessage(), e);
        }
        return new NpyWriter(file, out, n * dtype.bytes());
    }

    /** As {@link #open(Path, DType, int[])} with a numpy type string such as {@code <f4}. */
    public static NpyWriter open(Path file, String descr, int[] shape) throws IOException {
        return open(file, Npy.dtypeOf(descr), shape);
    }

    /** Appends a whole chunk of data bytes. */
    public void write(byte[] chunk) throws IOException {
        write(chunk, 0, chunk.length);
    }

    /** Appends {@code chunk[off, off+len)}. */
    public void write(byte[] chunk, int off, int len) throws IOException {
        if (closed) {
            throw new IllegalStateException("npy writer for " + file + " is closed");
        }
        if (written + len > expected) {
            throw new IOException(
                    file + ": " + (written + len) + " data bytes written, the header declares " + expected);
        }
        out.write(chunk, off, len);
        sha.update(chunk, off, len);
        written += len;
    }

    /** Data bytes written so far. */
    public long written() {
        return written;
    }

    /** Data bytes the header declares. */
    public long expected() {
        return expected;
    }

    /** The lowercase hex sha256 of the data bytes; available after a successful {@link #close()}. */
    public String sha256() {
        if (sha256 == null) {
            throw new IllegalStateException("sha256 is known only after close()");
        }
        return sha256;
    }

    public Path file() {
        return file;
    }

    /**
     * Closes the file as it is, however short, so that {@link #append} can continue it later (an
     * interrupted transfer). The writer has no sha256 afterwards. Idempotent.
     */
    public void suspend() throws IOException {
        if (!closed) {
            closed = true;
            out.close();
        }
    }

    /** Flushes and closes; throws if the data is shorter than the header declares. Idempotent. */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        out.close();
        if (written != expected) {
            throw new IOException(file + ": only " + written + " of " + expected + " data bytes were written");
        }
        sha256 = Sha256.hex(sha);
    }

    @Override
    public String toString() {
        return "NpyWriter(" + file + ", " + written + "/" + expected + " bytes" + (closed ? ", closed" : "") + ")";
    }
}
