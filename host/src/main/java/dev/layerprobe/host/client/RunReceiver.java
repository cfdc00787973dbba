package dev.layerprobe.host.client;

import com.google.protobuf.ByteString;
import dev.layerprobe.core.io.Sha256;
import dev.layerprobe.proto.v1.DeviceAgentGrpc;
import dev.layerprobe.proto.v1.LayerChunk;
import dev.layerprobe.proto.v1.LayerEnd;
import dev.layerprobe.proto.v1.LayerHeader;
import dev.layerprobe.proto.v1.RunEvent;
import dev.layerprobe.proto.v1.RunRequest;
import dev.layerprobe.proto.v1.RunSummary;
import io.grpc.Context;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Iterator;
import java.util.concurrent.TimeUnit;

/**
 * One {@code Run} call, receiving: reads the agent's events from gRPC's blocking iterator on the
 * calling thread, checks the framing of every layer (a header; chunks in order from byte 0 and
 * within the header's size, see {@link LayerProgress}; an end whose sha256 matches the bytes, which
 * are hashed as they arrive), then the closing summary, and forwards each event to a
 * {@link LayerSink} as it arrives. So the sink runs on the thread that called {@link AgentClient#run}
 * and never gets {@code end} for a layer that failed its checksum, and no more than the current
 * chunk is held. One instance per call; not thread-safe.
 */
final class RunReceiver {
    private final String target;
    private final LayerSink sink;
    /** The layer between its header and its end, or null between layers. */
    private LayerProgress layer;

    private MessageDigest digest;

    private RunReceiver(String target, LayerSink sink) {
        this.target = target;
        this.sink = sink;
    }

    /**
     * Makes the call and receives it up to the summary.
     *
     * @param stub a stub with the client's inbound message limit
     * @param deadline for the whole run, all layers included
     * @return the agent's summary, after the sink has had it
     * @throws AgentException with code CHECKSUM when a layer's bytes do not match its sha256,
     *     PROTOCOL when the stream is out of order, SINK when the sink fails, or the mapped gRPC failure
     */
    static RunSummary call(
            DeviceAgentGrpc.DeviceAgentBlockingStub stub,
            Duration deadline,
            String target,
            RunRequest request,
            LayerSink sink)
            throws AgentException {
        // Cancelling this context ends the server stream when we stop early (sink or checksum
        // failure), so the agent does not keep producing layers nobody reads.
        Context.CancellableContext ctx = Context.current().withCancellation();
        Context previous = ctx.attach();
        try {
            Iterator<RunEvent> events = stub.withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS)
                    .run(request);
            return new RunReceiver(target, sink).consume(events);
        } catch (StatusRuntimeException e) {
            throw AgentException.fromStatus(e, target, "Run", deadline);
        } catch (IOException e) {
            throw new AgentException(
                    AgentException.Code.SINK,
                    "writing the layers of run on " + target + " failed: " + e.getMessage(),
                    e);
        } finally {
            ctx.detach(previous);
            ctx.cancel(null);
        }
    }

    private RunSummary consume(Iterator<RunEvent> events) throws AgentException, IOException {
        while (events.hasNext()) {
            RunEvent e = events.next();
            switch (e.getEventCase()) {
                case HEADER -> header(e.getHeader());
                case CHUNK -> chunk(e.getChunk());
                case END -> end(e.getEnd());
                case SUMMARY -> {
                    if (layer != null) {
                        throw protocol("summary arrived inside " + WireTensors.describe(layer.layer()));
                    }
                    sink.summary(e.getSummary());
                    return e.getSummary();
                }
                default -> throw protocol("empty run event");
            }
        }
        throw protocol(
                layer != null
                        ? "the stream ended inside " + WireTensors.describe(layer.layer())
                        : "the stream ended without a summary");
    }

    private void header(LayerHeader h) throws AgentException, IOException {
        if (layer != null) {
            throw protocol("header of layer '" + h.getName() + "' arrived before the end of "
                    + WireTensors.describe(layer.layer()));
        }
        layer = new LayerProgress(h, 0);
        digest = Sha256.newDigest();
        sink.begin(h);
    }

    private void chunk(LayerChunk c) throws AgentException, IOException {
        if (layer == null || c.getIndex() != layer.layer().getIndex()) {
            throw protocol("chunk of layer #" + c.getIndex() + " arrived "
                    + (layer == null ? "outside a layer" : "inside " + WireTensors.describe(layer.layer())));
        }
        LayerHeader h = layer.layer();
        ByteString data = c.getData();
        switch (layer.take(c.getOffset(), data.size())) {
            case WRONG_OFFSET ->
                throw protocol("chunk of " + WireTensors.describe(h) + " at offset " + c.getOffset() + ", expected "
                        + layer.position());
            case PAST_END ->
                throw protocol(WireTensors.describe(h) + " sent " + (layer.position() + data.size())
                        + " bytes, its header says " + h.getSizeBytes());
            case CONTINUES -> {
                byte[] bytes = ChunkBytes.of(data);
                digest.update(bytes);
                sink.chunk(h, c.getOffset(), bytes);
            }
        }
    }

    private void end(LayerEnd end) throws AgentException, IOException {
        if (layer == null || end.getIndex() != layer.layer().getIndex()) {
            throw protocol("end of layer #" + end.getIndex() + " arrived "
                    + (layer == null ? "outside a layer" : "inside " + WireTensors.describe(layer.layer())));
        }
        LayerHeader h = layer.layer();
        if (!layer.complete()) {
            throw protocol(WireTensors.describe(h) + " ended after " + layer.position() + " bytes, its header says "
                    + h.getSizeBytes());
        }
        String got = Sha256.hex(digest);
        if (!got.equalsIgnoreCase(end.getSha256())) {
            throw new AgentException(
                    AgentException.Code.CHECKSUM,
                    WireTensors.describe(h) + " from " + target
                            + " is corrupt: sha256 of the received bytes is " + got + ", the device sent "
                            + (end.getSha256().isEmpty() ? "none" : end.getSha256()),
                    null);
        }
        layer = null;
        sink.end(h, got);
    }

    private AgentException protocol(String what) {
        return AgentException.brokenProtocol(target, "Run protocol", what);
    }
}
