package dev.layerprobe.host.client;

import dev.layerprobe.core.io.Sha256;
import com.google.protobuf.ByteOutput;
import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import dev.layerprobe.proto.v1.DeviceAgentGrpc;
import dev.layerprobe.proto.v1.DeviceInfo;
import dev.layerprobe.proto.v1.DumpFormat;
import dev.layerprobe.proto.v1.GetInfoRequest;
import dev.layerprobe.proto.v1.LayerChunk;
import dev.layerprobe.proto.v1.LayerEnd;
import dev.layerprobe.proto.v1.LayerHeader;
import dev.layerprobe.proto.v1.ListRunsRequest;
import dev.layerprobe.proto.v1.ListRunsResponse;
import dev.layerprobe.proto.v1.PullDumpRequest;
import dev.layerprobe.proto.v1.ModelHeader;
import dev.layerprobe.proto.v1.RunEvent;
import dev.layerprobe.proto.v1.RunLayerRequest;
import dev.layerprobe.proto.v1.RunLayerResponse;
import dev.layerprobe.proto.v1.RunInfo;
import dev.layerprobe.proto.v1.RunRequest;
import dev.layerprobe.proto.v1.RunSummary;
import dev.layerprobe.proto.v1.UploadModelRequest;
import dev.layerprobe.proto.v1.UploadModelResponse;
import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.core.tensor.Tensor;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.Context;
import dev.layerprobe.agent.access.TokenFile;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.ChannelOption;
import java.io.IOException;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * The host's side of the DeviceAgent protocol (DESIGN §8). Owns a {@link ManagedChannel} to the
 * agent (plaintext, or TLS when the {@link AgentEndpoint} names a CA; with the endpoint's bearer
 * token on every call) and closes it in {@link #close()}.
 *
 * <p>Every call has a deadline: {@link Options#callDeadline()} (default 60 s) for {@link #info()}
 * and {@link #upload}, {@link Options#runDeadline()} (default 30 min) for {@link #run}. Inbound
 * messages may be up to 16 MiB. {@link #run} streams each layer into a {@link LayerSink} while it
 * arrives, checking chunk order, size and sha256, and never holds the run in memory. Uploads send
 * 1 MiB chunks only while the transport is ready (flow control).
 *
 * <p>Failures are {@link AgentException}s with one-line messages naming the device address.
 * Thread-safe: calls may run concurrently; each {@link #run} calls its sink from the calling thread.
 */
public final class AgentClient implements AutoCloseable {
    /** Bytes per upload message. */
    public static final int UPLOAD_CHUNK_BYTES = 1 << 20;
    /**
     * HTTP/2 receive window per stream. gRPC's default (1 MiB) holds a single 1 MiB dump chunk, so
     * the agent would stall for a round trip after every chunk; several chunks in flight keep the
     * link busy. Memory stays bounded: at most this much is buffered per call.
     */
    public static final int FLOW_CONTROL_WINDOW_BYTES = 8 << 20;
    /** Largest message the client accepts. */
    public static final int MAX_INBOUND_MESSAGE_BYTES = 16 << 20;

    /**
     * Deadlines.
     *
     * @param callDeadline for info and upload
     * @param runDeadline for a whole run, all layers included
     */
    public record Options(Duration callDeadline, Duration runDeadline) {
        public static final Options DEFAULT = new Options(Duration.ofSeconds(60), Duration.ofMinutes(30));

        public Options {
            if (callDeadline.isNegative() || callDeadline.isZero() || runDeadline.isNegative()
                    || runDeadline.isZero()) {
                throw new IllegalArgumentException("deadlines must be positive, got " + callDeadline + " and "
                        + runDeadline);
            }
        }
    }

    private final ManagedChannel channel;
    private final String target;
    private final Options options;
    private final DeviceAgentGrpc.DeviceAgentBlockingStub blocking;
    private final DeviceAgentGrpc.DeviceAgentStub async;

    /** Connects (lazily, on the first call) to {@code host:port} in plaintext. */
    public AgentClient(String host, int port, Options options) {
        this(transport(NettyChannelBuilder.forAddress(host, port)).usePlaintext().build(), host + ":" + port, options);
    }

    /**
     * The transport settings every channel to an agent gets. Socket reads grow up to 256 KiB while
     * data keeps coming (Netty's default stops at 64 KiB): a dump stream then costs a quarter of
     * the read calls and wake-ups, which on loopback is most of what the host spends per byte.
     * Larger reads measured no faster and take whole chunks of Netty's pool (2 MiB under gRPC),
     * which it then frees and allocates again. Small answers still get small reads.
     */
    private static NettyChannelBuilder transport(NettyChannelBuilder b) {
        return b.maxInboundMessageSize(MAX_INBOUND_MESSAGE_BYTES).flowControlWindow(FLOW_CONTROL_WINDOW_BYTES)
                .withOption(ChannelOption.RCVBUF_ALLOCATOR, new AdaptiveRecvByteBufAllocator(2048, 16 << 10, 256 << 10));
    }

    /**
     * Connects (lazily, on the first call) to an endpoint: TLS if it names a CA, its bearer token on
     * every call if it names a token file.
     *
     * @throws AgentException with code BAD_ADDRESS when the address does not parse, BAD_CREDENTIALS
     *     when the token file or the CA file cannot be used
     */
    public static AgentClient connect(AgentEndpoint endpoint, Options options) throws AgentException {
        String target = endpoint.address();
        HostPort hp = HostPort.parse(target);
        NettyChannelBuilder b = transport(NettyChannelBuilder.forAddress(hp.host(), hp.port()));
        if (endpoint.tlsCa() == null) {
            b.usePlaintext();
        } else {
            try {
                b.sslContext(GrpcSslContexts.forClient().trustManager(endpoint.tlsCa().toFile()).build());
            } catch (IOException | IllegalArgumentException e) {
                throw new AgentException(AgentException.Code.BAD_CREDENTIALS, "cannot use --tls-ca "
                        + endpoint.tlsCa() + " (PEM certificates expected): " + rootMessage(e), e);
            }
        }
        if (endpoint.tokenFile() != null) {
            Metadata headers = new Metadata();
            try {
                headers.put(AUTHORIZATION, "Bearer " + TokenFile.read(endpoint.tokenFile()));
            } catch (TokenFile.InvalidTokenFileException e) {
                throw new AgentException(AgentException.Code.BAD_CREDENTIALS, e.getMessage(), e);
            }
            b.intercept(MetadataUtils.newAttachHeadersInterceptor(headers));
        }
        return new AgentClient(b.build(), target, options);
    }

    private static final Metadata.Key<String> AUTHORIZATION =
            Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        String m = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
        return m.lines().findFirst().orElse(m);
    }

    /** A parsed {@code HOST:PORT}. */
    private record HostPort(String host, int port) {
        static HostPort parse(String target) throws AgentException {
            int colon = target.lastIndexOf(':');
            String host = colon <= 0 ? "" : target.substring(0, colon);
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            int port = -1;
            try {
                port = Integer.parseInt(target.substring(colon + 1));
            } catch (NumberFormatException e) {
                // reported below with the whole address
            }
            if (host.isEmpty() || port < 1 || port > 65535) {
                throw new AgentException(AgentException.Code.BAD_ADDRESS, "bad device address '" + target
                        + "', expected HOST:PORT (e.g. 127.0.0.1:50051)", null);
            }
            return new HostPort(host, port);
        }
    }

    public AgentClient(String host, int port) {
        this(host, port, Options.DEFAULT);
    }

    /** Connects to {@code HOST:PORT} (IPv6 hosts in brackets) with default deadlines. */
    public static AgentClient connect(String target) throws AgentException {
        return connect(target, Options.DEFAULT);
    }

    /**
     * Connects to {@code HOST:PORT} (IPv6 hosts in brackets, e.g. {@code [::1]:50051}).
     *
     * @throws AgentException with code BAD_ADDRESS when the address does not parse
     */
    public static AgentClient connect(String target, Options options) throws AgentException {
        return connect(AgentEndpoint.of(target), options);
    }

    /**
     * Uses an existing channel (e.g. in-process, for tests); the client takes ownership of it.
     *
     * @param target how messages name the device, e.g. "127.0.0.1:50051"
     */
    public AgentClient(ManagedChannel channel, String target, Options options) {
        this.channel = channel;
        this.target = target;
        this.options = options;
        this.blocking = DeviceAgentGrpc.newBlockingStub(channel).withMaxInboundMessageSize(MAX_INBOUND_MESSAGE_BYTES);
        this.async = DeviceAgentGrpc.newStub(channel).withMaxInboundMessageSize(MAX_INBOUND_MESSAGE_BYTES);
    }

    /** The device address as messages name it. */
    public String target() {
        return target;
    }

    /** Device, backend, capabilities, versions, profile and active faults. */
    public DeviceInfo info() throws AgentException {
        checkOpen();
        try {
            return blocking.withDeadlineAfter(options.callDeadline().toMillis(), TimeUnit.MILLISECONDS)
                    .getInfo(GetInfoRequest.getDefaultInstance());
        } catch (StatusRuntimeException e) {
            throw AgentException.fromStatus(e, target, "GetInfo", options.callDeadline());
        }
    }

    /**
     * Runs one layer of an uploaded model on the given inputs (device-side isolation) and returns
     * its output as the device computed it, verified against the sha256 the agent sent.
     *
     * @param inputs the layer's runtime inputs by tensor name, as real values
     */
    public LayerValue runLayer(String modelId, String layer, Map<String, Tensor> inputs) throws AgentException {
        checkOpen();
        RunLayerRequest.Builder req = RunLayerRequest.newBuilder().setModelId(modelId).setLayer(layer)
                .setFormat(DumpFormat.NATIVE);
        inputs.forEach((name, t) -> req.addInputs(WireTensors.toWire(name, t)));
        RunLayerResponse r;
        try {
            r = blocking.withDeadlineAfter(options.callDeadline().toMillis(), TimeUnit.MILLISECONDS)
                    .runLayer(req.build());
        } catch (StatusRuntimeException e) {
            throw AgentException.fromStatus(e, target, "RunLayer", options.callDeadline());
        }
        byte[] data = r.getData().toByteArray();
        if (!Sha256.hexOf(data).equals(r.getSha256())) {
            throw new AgentException(AgentException.Code.CHECKSUM, "device at " + target + " sent layer '" + layer
                    + "' with a wrong sha256 (got " + Sha256.hexOf(data) + ", announced " + r.getSha256() + ")", null);
        }
        try {
            return WireTensors.toLayerValue(r.getHeader(), data);
        } catch (IllegalArgumentException e) {
            throw new AgentException(AgentException.Code.PROTOCOL, "device at " + target + " sent layer '" + layer
                    + "' that cannot be decoded: " + e.getMessage(), e);
        }
    }

    /**
     * Uploads a model: a header with its name, size and sha256, then 1 MiB chunks.
     *
     * @return the model id the agent assigned (the sha256 of the bytes)
     */
    public String upload(byte[] model, String name) throws AgentException {
        return uploadModel(model, name).getModelId();
    }

    /** As {@link #upload}, returning the agent's whole answer. */
    public UploadModelResponse uploadModel(byte[] model, String name) throws AgentException {
        checkOpen();
        String sha = Sha256.hexOf(model);
        CompletableFuture<UploadModelResponse> result = new CompletableFuture<>();
        async.withDeadlineAfter(options.callDeadline().toMillis(), TimeUnit.MILLISECONDS)
                .uploadModel(new Uploader(model, ModelHeader.newBuilder().setName(name).setSize(model.length)
                        .setSha256(sha).build(), result));
        try {
            UploadModelResponse r = result.get();
            if (!r.getModelId().isEmpty() && !r.getModelId().equalsIgnoreCase(sha)) {
                throw new AgentException(AgentException.Code.PROTOCOL, "device at " + target + " gave model id "
                        + r.getModelId() + " for model '" + name + "' whose sha256 is " + sha, null);
            }
            return r;
        } catch (ExecutionException e) {
            if (e.getCause() instanceof StatusRuntimeException s) {
                throw AgentException.fromStatus(s, target, "UploadModel", options.callDeadline());
            }
            throw new AgentException(AgentException.Code.PROTOCOL, "UploadModel to " + target + " failed: "
                    + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AgentException(AgentException.Code.CANCELLED, "UploadModel to " + target + " interrupted", e);
        }
    }

    /**
     * Sends the model in chunks as the transport becomes ready. gRPC calls the ready handler
     * serially, possibly spuriously; {@code done} makes extra calls harmless.
     */
    private static final class Uploader implements ClientResponseObserver<UploadModelRequest, UploadModelResponse> {
        private final byte[] model;
        private final ModelHeader header;
        private final CompletableFuture<UploadModelResponse> result;
        private boolean headerSent;
        private int offset;
        private boolean done;

        Uploader(byte[] model, ModelHeader header, CompletableFuture<UploadModelResponse> result) {
            this.model = model;
            this.header = header;
            this.result = result;
        }

        @Override
        public void beforeStart(ClientCallStreamObserver<UploadModelRequest> requests) {
            requests.setOnReadyHandler(() -> {
                while (requests.isReady() && !done) {
                    if (!headerSent) {
                        requests.onNext(UploadModelRequest.newBuilder().setHeader(header).build());
                        headerSent = true;
                    } else if (offset < model.length) {
                        int n = Math.min(UPLOAD_CHUNK_BYTES, model.length - offset);
                        requests.onNext(UploadModelRequest.newBuilder()
                                .setData(ByteString.copyFrom(model, offset, n)).build());
                        offset += n;
                    } else {
                        done = true;
                        requests.onCompleted();
                    }
                }
            });
        }

        @Override
        public void onNext(UploadModelResponse value) {
            result.complete(value);
        }

        @Override
        public void onError(Throwable t) {
            result.completeExceptionally(t);
        }

        @Override
        public void onCompleted() {
            result.completeExceptionally(new IllegalStateException("the agent closed the upload without an answer"));
        }
    }

    /** Largest layer {@link #run(String, Map, DumpFormat, LayerValueSink)} decodes in memory. */
    public static final long MAX_DECODED_LAYER_BYTES = 1L << 30;

    /**
     * Runs a model and hands each layer over decoded (codes with quantization, or float32), one at
     * a time as it completes; only the current layer is held. Layers over
     * {@link #MAX_DECODED_LAYER_BYTES} fail the run.
     */
    public RunSummary run(String modelId, Map<String, Tensor> inputs, DumpFormat format, LayerValueSink onLayer)
            throws AgentException {
        return run(modelId, inputs, format, 0, new LayerCollector(MAX_DECODED_LAYER_BYTES, onLayer));
    }

    /** As {@link #run(String, Map, DumpFormat, int, LayerSink)} with the agent's chunk size. */
    public RunSummary run(String modelId, Map<String, Tensor> inputs, DumpFormat format, LayerSink sink)
            throws AgentException {
        return run(modelId, inputs, format, 0, sink);
    }

    /**
     * Runs an uploaded model and streams every layer into {@code sink}.
     *
     * @param inputs by input name; float tensors are sent as FLOAT32, integer ones in their type
     * @param chunkBytes bytes per chunk to ask for; 0 lets the agent choose
     * @return the agent's summary
     * @throws AgentException with code CHECKSUM when a layer's bytes do not match its sha256,
     *     PROTOCOL when the stream is out of order, SINK when the sink fails
     */
    public RunSummary run(String modelId, Map<String, Tensor> inputs, DumpFormat format, int chunkBytes,
            LayerSink sink) throws AgentException {
        checkOpen();
        RunRequest.Builder req = RunRequest.newBuilder().setModelId(modelId).setFormat(format)
                .setChunkBytes(chunkBytes);
        for (Map.Entry<String, Tensor> e : inputs.entrySet()) {
            req.addInputs(WireTensors.toWire(e.getKey(), e.getValue()));
        }
        // Cancelling this context ends the server stream when we stop early (sink or checksum
        // failure), so the agent does not keep producing layers nobody reads.
        Context.CancellableContext ctx = Context.current().withCancellation();
        Context previous = ctx.attach();
        try {
            Iterator<RunEvent> events = blocking
                    .withDeadlineAfter(options.runDeadline().toMillis(), TimeUnit.MILLISECONDS).run(req.build());
            return new RunStream(sink).consume(events);
        } catch (StatusRuntimeException e) {
            throw AgentException.fromStatus(e, target, "Run", options.runDeadline());
        } catch (IOException e) {
            throw new AgentException(AgentException.Code.SINK, "writing the layers of run on " + target
                    + " failed: " + e.getMessage(), e);
        } finally {
            ctx.detach(previous);
            ctx.cancel(null);
        }
    }

    /** Checks the per-layer framing of a run's events and forwards them to the sink. */
    private final class RunStream {
        private final LayerSink sink;
        private LayerHeader layer;
        private long received;
        private MessageDigest digest;

        RunStream(LayerSink sink) {
            this.sink = sink;
        }

        RunSummary consume(Iterator<RunEvent> events) throws AgentException, IOException {
            while (events.hasNext()) {
                RunEvent e = events.next();
                switch (e.getEventCase()) {
                    case HEADER -> header(e.getHeader());
                    case CHUNK -> chunk(e.getChunk());
                    case END -> end(e.getEnd());
                    case SUMMARY -> {
                        if (layer != null) {
                            throw protocol("summary arrived inside " + WireTensors.describe(layer));
                        }
                        sink.summary(e.getSummary());
                        return e.getSummary();
                    }
                    default -> throw protocol("empty run event");
                }
            }
            throw protocol(layer != null ? "the stream ended inside " + WireTensors.describe(layer)
                    : "the stream ended without a summary");
        }

        private void header(LayerHeader h) throws AgentException, IOException {
            if (layer != null) {
                throw protocol("header of layer '" + h.getName() + "' arrived before the end of "
                        + WireTensors.describe(layer));
            }
            layer = h;
            received = 0;
            digest = Sha256.newDigest();
            sink.begin(h);
        }

        private void chunk(LayerChunk c) throws AgentException, IOException {
            if (layer == null || c.getIndex() != layer.getIndex()) {
                throw protocol("chunk of layer #" + c.getIndex() + " arrived "
                        + (layer == null ? "outside a layer" : "inside " + WireTensors.describe(layer)));
            }
            if (c.getOffset() != received) {
                throw protocol("chunk of " + WireTensors.describe(layer) + " at offset " + c.getOffset()
                        + ", expected " + received);
            }
            byte[] data = c.getData().toByteArray();
            digest.update(data);
            received += data.length;
            if (layer.getSizeBytes() > 0 && received > layer.getSizeBytes()) {
                throw protocol(WireTensors.describe(layer) + " sent " + received + " bytes, its header says "
                        + layer.getSizeBytes());
            }
            sink.chunk(layer, c.getOffset(), data);
        }

        private void end(LayerEnd end) throws AgentException, IOException {
            if (layer == null || end.getIndex() != layer.getIndex()) {
                throw protocol("end of layer #" + end.getIndex() + " arrived "
                        + (layer == null ? "outside a layer" : "inside " + WireTensors.describe(layer)));
            }
            if (received != layer.getSizeBytes()) {
                throw protocol(WireTensors.describe(layer) + " ended after " + received + " bytes, its header says "
                        + layer.getSizeBytes());
            }
            String got = Sha256.hex(digest);
            if (!got.equalsIgnoreCase(end.getSha256())) {
                throw new AgentException(AgentException.Code.CHECKSUM, WireTensors.describe(layer) + " from "
                        + target + " is corrupt: sha256 of the received bytes is " + got + ", the device sent "
                        + (end.getSha256().isEmpty() ? "none" : end.getSha256()), null);
            }
            LayerHeader h = layer;
            layer = null;
            sink.end(h, got);
        }

        private AgentException protocol(String what) {
            return new AgentException(AgentException.Code.PROTOCOL, "device at " + target
                    + " broke the Run protocol: " + what, null);
        }
    }

    /** The runs the agent has stored, newest first, without their layers. */
    public java.util.List<RunInfo> listRuns() throws AgentException {
        checkOpen();
        try {
            return blocking.withDeadlineAfter(options.callDeadline().toMillis(), TimeUnit.MILLISECONDS)
                    .listRuns(ListRunsRequest.getDefaultInstance()).getRunsList();
        } catch (StatusRuntimeException e) {
            throw AgentException.fromStatus(e, target, "ListRuns", options.callDeadline());
        }
    }

    /** One stored run with its layers (headers and sha256s). */
    public RunInfo storedRun(String runId) throws AgentException {
        checkOpen();
        try {
            ListRunsResponse r = blocking.withDeadlineAfter(options.callDeadline().toMillis(), TimeUnit.MILLISECONDS)
                    .listRuns(ListRunsRequest.newBuilder().setRunId(runId).build());
            if (r.getRunsCount() != 1 || !r.getRuns(0).getRunId().equals(runId)) {
                throw new AgentException(AgentException.Code.PROTOCOL, "device at " + target + " answered ListRuns for run "
                        + runId + " with " + r.getRunsCount() + " other runs", null);
            }
            return r.getRuns(0);
        } catch (StatusRuntimeException e) {
            throw AgentException.fromStatus(e, target, "ListRuns", options.callDeadline());
        }
    }

    /**
     * Receives the bytes of a pulled layer, in order, without copies: the buffer may be direct, and
     * it and its bytes are only valid during the call (the sink may move its position).
     */
    @FunctionalInterface
    public interface ByteSink {
        void write(java.nio.ByteBuffer data) throws IOException;
    }

    /**
     * Pulls one layer of a stored run from byte {@code offset} on into {@code sink}, checking that
     * the agent sends that layer, contiguously from {@code offset} to its size.
     *
     * @return the sha256 the agent stored for the whole layer; the caller, who holds the bytes
     *     before {@code offset}, checks it
     * @throws AgentException SINK when the sink fails, PROTOCOL when the stream is out of order,
     *     or the mapped gRPC failure (a dropped connection is UNAVAILABLE)
     */
    public String pullLayer(String runId, LayerHeader layer, long offset, int chunkBytes, ByteSink sink)
            throws AgentException {
        checkOpen();
        PullDumpRequest req = PullDumpRequest.newBuilder().setRunId(runId).setLayer(layer.getIndex())
                .setOffset(offset).setChunkBytes(chunkBytes).build();
        // Chunks are handled on the transport's thread as they are parsed (a direct executor): no hand-off
        // to another thread per chunk, and the sink's pace is the stream's pace, as the window allows.
        // The response marshaller parses each chunk in place over the received buffers (InPlaceParser),
        // which is safe because gRPC releases them only after onNext, and so the sink, has returned.
        ClientCall<PullDumpRequest, RunEvent> call = channel.newCall(DeviceAgentGrpc.getPullDumpMethod().toBuilder()
                        .setResponseMarshaller(new InPlaceParser()).build(),
                CallOptions.DEFAULT.withExecutor(Runnable::run).withMaxInboundMessageSize(MAX_INBOUND_MESSAGE_BYTES)
                        .withDeadlineAfter(options.runDeadline().toMillis(), TimeUnit.MILLISECONDS));
        PullReceiver receiver = new PullReceiver(layer, offset, sink, call);
        ClientCalls.asyncServerStreamingCall(call, req, receiver);
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
                throw AgentException.fromStatus(s, target, "PullDump", options.runDeadline());
            }
            if (c instanceof IOException io) {
                throw new AgentException(AgentException.Code.SINK, "writing " + WireTensors.describe(layer)
                        + " pulled from " + target + " failed: " + io.getMessage(), io);
            }
            throw new AgentException(AgentException.Code.PROTOCOL, "PullDump from " + target + " failed: " + c, c);
        }
    }

    /** Checks one PullDump stream and feeds its chunks to the sink; completes with the layer's sha256. */
    private final class PullReceiver implements StreamObserver<RunEvent> {
        final CompletableFuture<String> result = new CompletableFuture<>();
        private final LayerHeader layer;
        private final ByteOutput out;
        private final ClientCall<?, ?> call;
        private long at;
        private String sha;
        private Exception failure;

        PullReceiver(LayerHeader layer, long offset, ByteSink sink, ClientCall<?, ?> call) {
            this.layer = layer;
            this.at = offset;
            this.out = new SinkOutput(sink);
            this.call = call;
        }

        @Override
        public void onNext(RunEvent e) {
            if (failure != null) {
                return;
            }
            try {
                switch (e.getEventCase()) {
                    case HEADER -> {
                        if (e.getHeader().getIndex() != layer.getIndex()
                                || e.getHeader().getSizeBytes() != layer.getSizeBytes()) {
                            throw pullProtocol(layer, "header of " + WireTensors.describe(e.getHeader()));
                        }
                    }
                    case CHUNK -> {
                        ByteString data = e.getChunk().getData();
                        if (e.getChunk().getOffset() != at || at + data.size() > layer.getSizeBytes()) {
                            throw pullProtocol(layer, "a chunk at offset " + e.getChunk().getOffset() + ", expected " + at);
                        }
                        UnsafeByteOperations.unsafeWriteTo(data, out);
                        at += data.size();
                    }
                    case END -> sha = e.getEnd().getSha256();
                    default -> throw pullProtocol(layer, "a " + e.getEventCase() + " event");
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
            } else if (sha == null || at != layer.getSizeBytes()) {
                result.completeExceptionally(pullProtocol(layer, "the stream ended after " + at + " of "
                        + layer.getSizeBytes() + " bytes"));
            } else {
                result.complete(sha);
            }
        }
    }

    private AgentException pullProtocol(LayerHeader layer, String what) {
        return new AgentException(AgentException.Code.PROTOCOL, "device at " + target + " broke the PullDump protocol"
                + " for " + WireTensors.describe(layer) + ": " + what, null);
    }

    /**
     * Parses {@code RunEvent}s with their chunk bytes aliasing the transport's own buffers, so a
     * chunk reaches the sink without being copied at all. gRPC hands the parser a stream over the
     * received HTTP/2 frames; where it exposes them as ByteBuffers ({@link io.grpc.HasByteBuffer},
     * as the Netty transport does), the event is parsed over those buffers in place. The stream is
     * marked first: gRPC would otherwise hand each frame's buffer back to Netty's pool as soon as it
     * has been skipped, where another thread's allocation may overwrite it while the sink reads it;
     * marked, they are kept until gRPC closes the stream, after the listener's {@code onMessage}
     * (and so the sink) has returned. A parsed event is valid only until then. Otherwise (the
     * in-process transport) the event is read into one reused array, which the next parse
     * overwrites. One per call.
     */
    private static final class InPlaceParser implements io.grpc.MethodDescriptor.Marshaller<RunEvent> {
        private byte[] buf = new byte[0];

        @Override
        public java.io.InputStream stream(RunEvent value) {
            return value.toByteString().newInput();
        }

        @Override
        public RunEvent parse(java.io.InputStream in) {
            try {
                if (!(in instanceof io.grpc.KnownLength)) {
                    return RunEvent.parseFrom(in);
                }
                com.google.protobuf.CodedInputStream cis = in instanceof io.grpc.HasByteBuffer h && h.byteBufferSupported()
                        && in.markSupported() ? inPlace(in, h).newCodedInput() : reused(in);
                cis.enableAliasing(true);
                return RunEvent.parseFrom(cis);
            } catch (IOException e) {
                throw io.grpc.Status.INTERNAL.withDescription("cannot read a PullDump message: " + e.getMessage())
                        .withCause(e).asRuntimeException();
            }
        }

        /** The message as a rope over the transport's buffers, which stay held until the stream closes. */
        private static ByteString inPlace(java.io.InputStream in, io.grpc.HasByteBuffer h) throws IOException {
            in.mark(in.available());
            java.util.List<ByteString> parts = new java.util.ArrayList<>();
            for (int left = in.available(); left > 0; ) {
                java.nio.ByteBuffer b = h.getByteBuffer();
                if (b == null || !b.hasRemaining()) {
                    parts.add(ByteString.readFrom(in));
                    break;
                }
                int n = b.remaining();
                parts.add(UnsafeByteOperations.unsafeWrap(b));
                in.skipNBytes(n);
                left -= n;
            }
            return ByteString.copyFrom(parts);
        }

        private com.google.protobuf.CodedInputStream reused(java.io.InputStream in) throws IOException {
            int size = in.available();
            if (buf.length < size) {
                buf = new byte[size];
            }
            int n = in.readNBytes(buf, 0, size);
            return com.google.protobuf.CodedInputStream.newInstance(buf, 0, n);
        }
    }

    /** Hands a ByteString's backing buffers to a {@link ByteSink} without copying them. */
    private static final class SinkOutput extends ByteOutput {
        private final ByteSink sink;

        SinkOutput(ByteSink sink) {
            this.sink = sink;
        }

        @Override
        public void write(byte value) throws IOException {
            sink.write(java.nio.ByteBuffer.wrap(new byte[] {value}));
        }

        @Override
        public void write(byte[] value, int offset, int length) throws IOException {
            sink.write(java.nio.ByteBuffer.wrap(value, offset, length));
        }

        @Override
        public void writeLazy(byte[] value, int offset, int length) throws IOException {
            write(value, offset, length);
        }

        @Override
        public void write(java.nio.ByteBuffer value) throws IOException {
            sink.write(value);
        }

        @Override
        public void writeLazy(java.nio.ByteBuffer value) throws IOException {
            sink.write(value);
        }
    }



    private void checkOpen() {
        if (channel.isShutdown()) {
            throw new IllegalStateException("agent client for " + target + " is closed");
        }
    }

    /** Shuts the channel down, waiting up to 5 s for calls in flight. Idempotent. */
    @Override
    public void close() {
        channel.shutdown();
        try {
            if (!channel.awaitTermination(5, TimeUnit.SECONDS)) {
                channel.shutdownNow();
            }
        } catch (InterruptedException e) {
            channel.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }
}
