package dev.layerprobe.agent.service;

import com.google.protobuf.UnsafeByteOperations;
import dev.layerprobe.agent.store.RunStore;
import dev.layerprobe.core.io.Sha256;
import dev.layerprobe.proto.v1.LayerChunk;
import dev.layerprobe.proto.v1.LayerEnd;
import dev.layerprobe.proto.v1.LayerHeader;
import dev.layerprobe.proto.v1.RunEvent;
import dev.layerprobe.simulator.Layer;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.security.MessageDigest;

/**
 * The outbound side of one {@code Run} call, flow-controlled the grpc-java way: a producer thread
 * (the worker running the model) calls {@link #send} and blocks until the transport is ready, and
 * the call's on-ready handler wakes it. {@code onNext} is only ever called while
 * {@code isReady()}, so at most one message beyond the transport's own small buffer is queued, and
 * the producer, blocked inside the model's layer callback, holds at most one layer.
 *
 * <p>Cancellation (client cancel, deadline, server shutdown) makes every later {@link #send} throw
 * a private unchecked exception that unwinds the model run from inside its observer callback.
 *
 * <p>Thread-safety: the constructor must run on the call's thread, before the service method
 * returns (gRPC only accepts handlers then). Afterwards one producer thread sends; the handlers
 * run on gRPC's threads.
 */
final class RunStream {
    /** A backstop only: wake-ups come from the handlers, but a missed one must not hang a run. */
    private static final long WAIT_SLICE_MILLIS = 200;

    private final ServerCallStreamObserver<RunEvent> out;
    private final Context context;
    private final Object lock = new Object();
    private boolean cancelled;
    /** Counts on-ready calls, so a producer can tell whether one came since it last looked. */
    private long readySignals;

    RunStream(ServerCallStreamObserver<RunEvent> out, Context context) {
        this.out = out;
        this.context = context;
        out.setOnReadyHandler(this::signal);
        out.setOnCancelHandler(() -> {
            synchronized (lock) {
                cancelled = true;
                lock.notifyAll();
            }
        });
    }

    private void signal() {
        // May be spurious (ready again by the time the producer looks): the producer re-checks isReady().
        synchronized (lock) {
            readySignals++;
            lock.notifyAll();
        }
    }

    /** Whether the call is over from the client's side: cancelled or past its deadline. */
    boolean isCancelled() {
        synchronized (lock) {
            return cancelled || context.isCancelled();
        }
    }

    /** Throws the abort exception if the call was cancelled; cheap, for checks between layers. */
    void abortIfCancelled() {
        synchronized (lock) {
            checkOpen();
        }
    }

    /** Sends one event once the transport is ready; throws the abort exception if the call ends first. */
    void send(RunEvent event) {
        awaitReady();
        out.onNext(event);
    }

    /**
     * Sends a layer: header, chunks of at most {@code chunkBytes} (whole elements), end with the
     * sha256 of all its bytes; each part is stored in {@code stored} (when not null) before it is sent.
     *
     * @return the layer's size in bytes
     */
    long sendLayer(Layer layer, int[] shape, LayerPayload payload, int chunkBytes, RunStore.Writer stored)
            throws IOException {
        LayerHeader.Builder h = LayerHeader.newBuilder()
                .setIndex(layer.index())
                .setName(layer.name())
                .setOp(layer.op())
                .setDtype(payload.dtype())
                .setSizeBytes(payload.sizeBytes())
                .addAllFusedNodes(layer.fusedNodes())
                .setPlacement(layer.placement().label());
        for (int d : shape) {
            h.addShape(d);
        }
        if (payload.quant() != null) {
            h.setQuant(payload.quant());
        }
        LayerHeader header = h.build();
        if (stored != null) {
            stored.beginLayer(header);
        }
        send(RunEvent.newBuilder().setHeader(header).build());
        MessageDigest digest = Sha256.newDigest();
        int perChunk = Math.max(1, chunkBytes / payload.elementBytes());
        for (int first = 0; first < payload.elements(); first += perChunk) {
            // Encoded only once the transport is ready, so no encoded chunk waits in memory.
            awaitReady();
            // The array itself is hashed and stored: a read-only view of it would be copied by both.
            byte[] data = payload.chunkArray(first, perChunk);
            if (stored != null) {
                stored.write(ByteBuffer.wrap(data));
            }
            digest.update(data);
            out.onNext(RunEvent.newBuilder()
                    .setChunk(LayerChunk.newBuilder()
                            .setIndex(layer.index())
                            .setOffset((long) first * payload.elementBytes())
                            .setData(UnsafeByteOperations.unsafeWrap(data)))
                    .build());
        }
        String sha = Sha256.hex(digest);
        if (stored != null) {
            stored.endLayer(sha);
        }
        send(RunEvent.newBuilder()
                .setEnd(LayerEnd.newBuilder().setIndex(layer.index()).setSha256(sha))
                .build());
        return payload.sizeBytes();
    }

    void complete() {
        if (!isCancelled()) {
            out.onCompleted();
        }
    }

    void fail(Status status) {
        if (!isCancelled()) {
            out.onError(status.asRuntimeException());
        }
    }

    private void awaitReady() {
        while (true) {
            long seen;
            synchronized (lock) {
                checkOpen();
                seen = readySignals;
            }
            // isReady() is asked outside our lock: the transport may hold its own lock while it
            // runs the on-ready handler, which takes ours. The signal count taken before asking
            // closes the window in which a ready signal could be missed.
            if (out.isReady()) {
                return;
            }
            synchronized (lock) {
                while (readySignals == seen) {
                    checkOpen();
                    try {
                        lock.wait(WAIT_SLICE_MILLIS);
                    } catch (InterruptedException e) {
                        // Workers are interrupted only when the agent shuts down and cancels its calls.
                        Thread.currentThread().interrupt();
                        cancelled = true;
                        throw new RunAborted();
                    }
                }
            }
        }
    }

    private void checkOpen() {
        if (cancelled || context.isCancelled()) {
            throw new RunAborted();
        }
    }

    /** Thrown by a callback to unwind a model run whose call has ended; carries no stack trace. */
    private static final class RunAborted extends RuntimeException {
        RunAborted() {
            super("run cancelled by the client or its deadline", null, false, false);
        }
    }
}
