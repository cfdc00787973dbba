package dev.layerprobe.host.client;

import com.google.protobuf.ByteOutput;
import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import dev.layerprobe.host.client.wire.InPlaceParser;
import dev.layerprobe.proto.v1.DeviceAgentGrpc;
import dev.layerprobe.proto.v1.LayerHeader;
import dev.layerprobe.proto.v1.PullDumpRequest;
import dev.layerprobe.proto.v1.RunEvent;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * One {@code PullDump} call, receiving: checks that the agent sends the layer asked for (its header,
 * then chunks in order from the requested offset to the layer's size, see {@link LayerProgress},
 * then an end) and hands each chunk's bytes to an {@link AgentClient.ByteSink} without copying
 * them. The caller's thread waits for the result.
 *
 * <p>Chunks are handled on the transport's thread as they are parsed (a direct executor): no
 * hand-off to another thread per chunk, and the sink's pace is the stream's pace, as the
 * flow-control window allows. The response marshaller parses each chunk in place over the received
 * buffers ({@link InPlaceParser}), which is safe because gRPC releases them only after
 * {@code onNext}, and so the sink, has returned. The first failure (a broken stream, a failing
 * sink) cancels the call and is the one reported; later events are ignored. gRPC calls the
 * observer serially; one instance per call.
 */
final class PullDumpReceiver implements StreamObserver<RunEvent> {
    private final CompletableFuture<String> result = new CompletableFuture<>();
    private final String target;
    private final LayerProgress layer;
    private final ByteOutput out;
    private final ClientCall<?, ?> call;
    private String sha;
    private Exception failure;

    private PullDumpReceiver(
            String target, LayerHeader layer, long offset, AgentClient.ByteSink sink, ClientCall<?, ?> call) {
        this.target = target;
        this.layer = new LayerProgress(layer, offset);
        this.out = new SinkOutput(sink);
        this.call = call;
    }

    /**
     * Makes the call and receives the layer.
     *
     * @param request names {@code layer} and the offset to start from
     * @param deadline for the whole pull
     * @return the sha256 the agent stored for the whole layer; the caller, who holds the bytes
     *     before the offset, checks it
     * @throws AgentException SINK when the sink fails, PROTOCOL when the stream is out of order,
     *     CANCELLED when the waiting thread is interrupted, or the mapped gRPC failure (a dropped
     *     connection is UNAVAILABLE)
     */
    static String call(
            Channel channel,
            Duration deadline,
            String target,
            PullDumpRequest request,
            LayerHeader layer,
            AgentClient.ByteSink sink)
            throws AgentException {
        ClientCall<PullDumpRequest, RunEvent> call = channel.newCall(
                DeviceAgentGrpc.getPullDumpMethod().toBuilder()
                        .setResponseMarshaller(new InPlaceParser())
                        .build(),
                CallOptions.DEFAULT
                        .withExecutor(Runnable::run)
                        .withMaxInboundMessageSize(AgentClient.MAX_INBOUND_MESSAGE_BYTES)
                        .withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS));
        PullDumpReceiver receiver = new PullDumpReceiver(target, layer, request.getOffset(), sink, call);
        ClientCalls.asyncServerStreamingCall(call, request, receiver);
        try {
            return receiver.result.get();
        } catch (InterruptedException e) {
            call.cancel("interrupted", e);
            Thread.currentThread().interrupt();
            throw new AgentException(AgentException.Code.CANCELLED, "PullDump from " + target + " interrupted", e);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof AgentException a) {
                throw a;
            }
            if (c instanceof StatusRuntimeException s) {
                throw AgentException.fromStatus(s, target, "PullDump", deadline);
            }
            if (c instanceof IOException io) {
                throw new AgentException(
                        AgentException.Code.SINK,
                        "writing " + WireTensors.describe(layer) + " pulled from " + target + " failed: "
                                + io.getMessage(),
                        io);
            }
            throw new AgentException(AgentException.Code.PROTOCOL, "PullDump from " + target + " failed: " + c, c);
        }
    }

    @Override
    public void onNext(RunEvent e) {
        if (failure != null) {
            return;
        }
        LayerHeader h = layer.layer();
        try {
            switch (e.getEventCase()) {
                case HEADER -> {
                    if (e.getHeader().getIndex() != h.getIndex()
                            || e.getHeader().getSizeBytes() != h.getSizeBytes()) {
                        throw protocol("header of " + WireTensors.describe(e.getHeader()));
                    }
                }
                case CHUNK -> {
                    ByteString data = e.getChunk().getData();
                    long at = layer.position();
                    if (layer.take(e.getChunk().getOffset(), data.size()) != LayerProgress.Step.CONTINUES) {
                        throw protocol("a chunk at offset " + e.getChunk().getOffset() + ", expected " + at);
                    }
                    UnsafeByteOperations.unsafeWriteTo(data, out);
                }
                case END -> sha = e.getEnd().getSha256();
                default -> throw protocol("a " + e.getEventCase() + " event");
            }
        } catch (AgentException | IOException | RuntimeException ex) {
            failure = ex;
            call.cancel("the host stopped the pull", ex);
        }
    }

    @Override
    public void onError(Throwable t) {
        result.completeExceptionally(failure != null ? failure : t);
    }

    @Override
    public void onCompleted() {
        if (failure != null) {
            result.completeExceptionally(failure);
        } else if (sha == null || !layer.complete()) {
            result.completeExceptionally(protocol("the stream ended after " + layer.position() + " of "
                    + layer.layer().getSizeBytes() + " bytes"));
        } else {
            result.complete(sha);
        }
    }

    private AgentException protocol(String what) {
        return AgentException.brokenProtocol(
                target, "PullDump protocol for " + WireTensors.describe(layer.layer()), what);
    }

    /** Hands a ByteString's backing buffers to a {@link AgentClient.ByteSink} without copying them. */
    private static final class SinkOutput extends ByteOutput {
        private final AgentClient.ByteSink sink;

        SinkOutput(AgentClient.ByteSink sink) {
            this.sink = sink;
        }

        @Override
        public void write(byte value) throws IOException {
            sink.write(ByteBuffer.wrap(new byte[] {value}));
        }

        @Override
        public void write(byte[] value, int offset, int length) throws IOException {
            sink.write(ByteBuffer.wrap(value, offset, length));
        }

        @Override
        public void writeLazy(byte[] value, int offset, int length) throws IOException {
            write(value, offset, length);
        }

        @Override
        public void write(ByteBuffer value) throws IOException {
            sink.write(value);
        }

        @Override
        public void writeLazy(ByteBuffer value) throws IOException {
            sink.write(value);
        }
    }
}
