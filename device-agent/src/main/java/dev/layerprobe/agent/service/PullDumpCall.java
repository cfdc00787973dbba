package dev.layerprobe.agent.service;

import dev.layerprobe.proto.v1.LayerEnd;
import dev.layerprobe.proto.v1.LayerHeader;
import dev.layerprobe.proto.v1.RunEvent;
import dev.layerprobe.proto.v1.StoredLayer;
import io.grpc.stub.ServerCallStreamObserver;
import java.io.EOFException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One {@code PullDump} call: streams a stored layer from a byte offset as the transport becomes
 * ready, without a thread of its own. The on-ready handler sends the header, then reads and sends
 * one chunk per message while {@code isReady()}, then the end with the sha256 stored with the layer
 * (the whole layer's, computed once when the run was stored, never on this path). gRPC runs the
 * handler serially and may call it spuriously; {@code done} and the state make extra calls harmless.
 * A cancelled call closes the file. Chunks go out as {@link FileChunk}s, read from the file while
 * the transport serializes them: over Netty straight into the buffers it sends, elsewhere through
 * one small buffer per call.
 */
final class PullDumpCall implements Runnable {
    private static final Logger LOG = Logger.getLogger(PullDumpCall.class.getName());
    /**
     * The pieces a chunk is read from its file in where the transport takes no buffers: small
     * enough to stay in a core's cache.
     */
    static final int SCRATCH_BYTES = 128 << 10;

    private final ServerCallStreamObserver<Object> out;
    private final StoredLayer layer;
    private final LayerFile file;
    private final int chunkBytes;
    private final byte[] scratch;
    private long position;
    private boolean headerSent;
    private boolean done;

    private PullDumpCall(
            ServerCallStreamObserver<Object> out, StoredLayer layer, LayerFile file, long offset, int chunkBytes) {
        this.out = out;
        this.layer = layer;
        this.file = file;
        this.position = offset;
        this.chunkBytes = chunkBytes;
        this.scratch = new byte[Math.min(chunkBytes, SCRATCH_BYTES)];
    }

    /** Installs the handlers; must run before the service method returns. Takes ownership of {@code file}. */
    static void start(
            ServerCallStreamObserver<Object> out, StoredLayer layer, FileChannel file, long offset, int chunkBytes)
            throws IOException {
        LayerFile mapped;
        try {
            mapped = new LayerFile(file);
        } catch (IOException e) {
            file.close();
            throw e;
        }
        PullDumpCall call = new PullDumpCall(out, layer, mapped, offset, chunkBytes);
        // gRPC's default (32 KiB) reports "not ready" as soon as one 1 MiB chunk is queued, so the
        // transport would drain before the next is read: a stall per chunk. A few chunks queued keep
        // the socket busy while memory per call stays bounded.
        out.setOnReadyThreshold(4 * chunkBytes);
        out.setOnCancelHandler(call::cancelled);
        out.setOnReadyHandler(call);
    }

    @Override
    public synchronized void run() {
        try {
            while (!done && out.isReady()) {
                sendNext();
            }
        } catch (IOException | RuntimeException e) {
            finish();
            LOG.log(Level.WARNING, "pull of stored layer '" + layer.getHeader().getName() + "' failed", e);
            try {
                out.onError(StatusMapper.toStatus(e).asRuntimeException());
            } catch (IllegalStateException closed) {
                // gRPC closed the call itself (a message it could not frame): nothing left to tell.
                LOG.log(Level.FINE, "pull already closed", closed);
            }
        }
    }

    private void sendNext() throws IOException {
        LayerHeader h = layer.getHeader();
        if (!headerSent) {
            // Checked here, before anything is sent: a chunk's file is read while gRPC frames it,
            // where a short read could only fail the call as INTERNAL.
            if (file.size() < h.getSizeBytes()) {
                throw new EOFException("stored layer '" + h.getName() + "' has " + file.size() + " of its "
                        + h.getSizeBytes() + " bytes on disk");
            }
            headerSent = true;
            out.onNext(RunEvent.newBuilder().setHeader(h).build());
        } else if (position < h.getSizeBytes()) {
            int n = (int) Math.min(chunkBytes, h.getSizeBytes() - position);
            FileChunk chunk = new FileChunk(file, h.getIndex(), position, n, scratch);
            out.onNext(chunk);
            chunk.detach();
            position += n;
        } else {
            out.onNext(RunEvent.newBuilder()
                    .setEnd(LayerEnd.newBuilder().setIndex(h.getIndex()).setSha256(layer.getSha256()))
                    .build());
            finish();
            out.onCompleted();
        }
    }

    private synchronized void cancelled() {
        finish();
    }

    private void finish() {
        done = true;
        try {
            file.close();
        } catch (IOException e) {
            LOG.log(Level.FINE, "closing a stored layer failed", e);
        }
    }
}
