package dev.layerprobe.agent.service;

import com.google.protobuf.UnsafeByteOperations;
import dev.layerprobe.proto.v1.LayerChunk;
import dev.layerprobe.proto.v1.LayerEnd;
import dev.layerprobe.proto.v1.LayerHeader;
import dev.layerprobe.proto.v1.RunEvent;
import dev.layerprobe.proto.v1.StoredLayer;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One {@code PullDump} call: streams a stored layer from a byte offset as the transport becomes
 * ready, without a thread of its own. The on-ready handler sends the header, then reads and sends
 * one chunk per message while {@code isReady()}, then the end with the sha256 stored with the layer
 * (the whole layer's, computed once when the run was stored, never on this path). gRPC runs the
 * handler serially and may call it spuriously; {@code done} and the state make extra calls harmless.
 * A cancelled call closes the file.
 */
final class PullDumpCall implements Runnable {
    private static final Logger LOG = Logger.getLogger(PullDumpCall.class.getName());

    private final ServerCallStreamObserver<RunEvent> out;
    private final StoredLayer layer;
    private final FileChannel file;
    private final int chunkBytes;
    private long position;
    private boolean headerSent;
    private boolean done;

    private PullDumpCall(ServerCallStreamObserver<RunEvent> out, StoredLayer layer, FileChannel file, long offset,
            int chunkBytes) {
        this.out = out;
        this.layer = layer;
        this.file = file;
        this.position = offset;
        this.chunkBytes = chunkBytes;
    }

    /** Installs the handlers; must run before the service method returns. Takes ownership of {@code file}. */
    static void start(ServerCallStreamObserver<RunEvent> out, StoredLayer layer, FileChannel file, long offset,
            int chunkBytes) {
        PullDumpCall call = new PullDumpCall(out, layer, file, offset, chunkBytes);
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
            out.onError(StatusMapper.toStatus(e).asRuntimeException());
        }
    }

    private void sendNext() throws IOException {
        LayerHeader h = layer.getHeader();
        if (!headerSent) {
            headerSent = true;
            out.onNext(RunEvent.newBuilder().setHeader(h).build());
        } else if (position < h.getSizeBytes()) {
            int n = (int) Math.min(chunkBytes, h.getSizeBytes() - position);
            // A fresh array per message, wrapped rather than copied: a transport may keep the message
            // after onNext returns (the in-process one hands the object itself to the client).
            byte[] data = new byte[n];
            ByteBuffer b = ByteBuffer.wrap(data);
            while (b.hasRemaining()) {
                if (file.read(b, position + b.position()) < 0) {
                    throw new EOFException("stored layer '" + h.getName() + "' ends at " + (position + b.position())
                            + " of " + h.getSizeBytes() + " bytes");
                }
            }
            out.onNext(RunEvent.newBuilder().setChunk(LayerChunk.newBuilder().setIndex(h.getIndex())
                    .setOffset(position).setData(UnsafeByteOperations.unsafeWrap(data))).build());
            position += n;
        } else {
            out.onNext(RunEvent.newBuilder().setEnd(LayerEnd.newBuilder().setIndex(h.getIndex())
                    .setSha256(layer.getSha256())).build());
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

    /** The status for a pull that cannot start, for the service's checks. */
    static Status badOffset(StoredLayer layer, long offset) {
        return Status.OUT_OF_RANGE.withDescription("offset " + offset + " is outside layer '"
                + layer.getHeader().getName() + "' of " + layer.getHeader().getSizeBytes() + " bytes");
    }
}
