package dev.layerprobe.host.client;

import dev.layerprobe.core.io.Sha256;
import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.proto.v1.DeviceAgentGrpc;
import dev.layerprobe.proto.v1.DeviceInfo;
import dev.layerprobe.proto.v1.DumpFormat;
import dev.layerprobe.proto.v1.GetInfoRequest;
import dev.layerprobe.proto.v1.LayerHeader;
import dev.layerprobe.proto.v1.ListRunsRequest;
import dev.layerprobe.proto.v1.ListRunsResponse;
import dev.layerprobe.proto.v1.OpenBulkPullRequest;
import dev.layerprobe.proto.v1.PullDumpRequest;
import dev.layerprobe.proto.v1.RunInfo;
import dev.layerprobe.proto.v1.RunLayerRequest;
import dev.layerprobe.proto.v1.RunLayerResponse;
import dev.layerprobe.proto.v1.RunRequest;
import dev.layerprobe.proto.v1.RunSummary;
import dev.layerprobe.proto.v1.UploadModelResponse;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import javax.net.ssl.SSLContext;

/**
 * The host's side of the DeviceAgent protocol (docs/architecture.md#wire-protocol). Owns a {@link ManagedChannel} to the
 * agent (plaintext, or TLS when the {@link AgentEndpoint} names a CA; with the endpoint's bearer
 * token on every call) and closes it in {@link #close()}.
 *
 * <p>Every call has a deadline: {@link Options#callDeadline()} (default 60 s) for {@link #info()},
 * {@link #runLayer}, {@link #upload}, {@link #listRuns()} and {@link #storedRun}, and
 * {@link Options#runDeadline()} (default 30 min) for {@link #run} and {@link #pullLayer}. Inbound
 * messages may be up to 16 MiB. {@link #run} streams each layer into a {@link LayerSink} while it
 * arrives, checking chunk order, size and sha256, and never holds the run in memory;
 * {@link #pullLayer} hands a stored layer's bytes to a {@link ByteSink} without copying them.
 * Uploads send 1 MiB chunks only while the transport is ready (flow control).
 *
 * <p>This class maps the Java API onto the protocol and makes the unary calls; {@code AgentChannels}
 * opens the channel, and each streaming call is a class of its own: {@code UploadModelSender},
 * {@code RunReceiver}, {@code PullDumpReceiver} (with its in-place parser,
 * {@link dev.layerprobe.host.client.wire.InPlaceParser}).
 *
 * <p>Failures are {@link AgentException}s with one-line messages naming the device address.
 * Thread-safe: calls may run concurrently; each {@link #run} calls its sink from the calling thread,
 * each {@link #pullLayer} from a transport thread while the calling thread waits. Process-wide Netty
 * settings are left to the program's {@code main} ({@code NettyDefaults}).
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
    /** Largest layer {@link #run(String, Map, DumpFormat, LayerValueSink)} decodes in memory. */
    public static final long MAX_DECODED_LAYER_BYTES = 1L << 30;

    /**
     * Deadlines, and how stored layers are pulled.
     *
     * @param callDeadline for info, run-layer, upload and the stored-run listings
     * @param runDeadline for a whole run, all layers included, and for pulling one stored layer
     * @param bulkPort where {@link #pullLayer} reaches the agent's bulk port: {@link #BULK_ADVERTISED}
     *     for the port the agent names (on the agent's host), a port number for another one (a
     *     tunnel that maps it to another number), {@link #BULK_OFF} to pull over gRPC's
     *     {@code PullDump} only
     */
    public record Options(Duration callDeadline, Duration runDeadline, int bulkPort) {
        /** {@link #bulkPort()}: the port the agent names in its ticket. */
        public static final int BULK_ADVERTISED = 0;
        /** {@link #bulkPort()}: no bulk pulls. */
        public static final int BULK_OFF = -1;

        public static final Options DEFAULT = new Options(Duration.ofSeconds(60), Duration.ofMinutes(30));

        /** With bulk pulls on the port the agent names. */
        public Options(Duration callDeadline, Duration runDeadline) {
            this(callDeadline, runDeadline, BULK_ADVERTISED);
        }

        /** The same deadlines, pulling over gRPC only. */
        public Options withoutBulkPulls() {
            return new Options(callDeadline, runDeadline, BULK_OFF);
        }

        /** The same deadlines, reaching the bulk port at {@code port} (see {@link #bulkPort()}). */
        public Options withBulkPort(int port) {
            return new Options(callDeadline, runDeadline, port);
        }

        public Options {
            if (bulkPort < BULK_OFF || bulkPort > 65535) {
                throw new IllegalArgumentException("bulk port must be in [1, 65535], 0 or -1, got " + bulkPort);
            }
            if (callDeadline.isNegative()
                    || callDeadline.isZero()
                    || runDeadline.isNegative()
                    || runDeadline.isZero()) {
                throw new IllegalArgumentException(
                        "deadlines must be positive, got " + callDeadline + " and " + runDeadline);
            }
        }
    }

    /**
     * Receives the bytes of a pulled layer, in order, without copies: the buffer may be direct, and
     * it and its bytes are only valid during the call (the sink may move its position).
     */
    @FunctionalInterface
    public interface ByteSink {
        void write(ByteBuffer data) throws IOException;
    }

    private final ManagedChannel channel;
    private final String target;
    private final Options options;
    private final DeviceAgentGrpc.DeviceAgentBlockingStub blocking;
    private final DeviceAgentGrpc.DeviceAgentStub async;
    private final BulkPull bulk;

    /** Connects (lazily, on the first call) to {@code host:port} in plaintext. */
    public AgentClient(String host, int port, Options options) {
        this(AgentChannels.plaintext(host, port), host + ":" + port, options, host, null);
    }

    public AgentClient(String host, int port) {
        this(host, port, Options.DEFAULT);
    }

    /**
     * Uses an existing channel (e.g. in-process, for tests); the client takes ownership of it.
     *
     * @param target how messages name the device, e.g. "127.0.0.1:50051"
     */
    public AgentClient(ManagedChannel channel, String target, Options options) {
        this(channel, target, options, null, null);
    }

    /**
     * @param bulkHost the agent's host for its bulk port, or null to pull over gRPC only
     * @param bulkTls the context for the bulk port's TLS, or null for plaintext
     */
    private AgentClient(ManagedChannel channel, String target, Options options, String bulkHost, SSLContext bulkTls) {
        this.channel = channel;
        this.target = target;
        this.options = options;
        this.blocking = DeviceAgentGrpc.newBlockingStub(channel).withMaxInboundMessageSize(MAX_INBOUND_MESSAGE_BYTES);
        this.async = DeviceAgentGrpc.newStub(channel).withMaxInboundMessageSize(MAX_INBOUND_MESSAGE_BYTES);
        this.bulk = bulkHost == null || options.bulkPort() == Options.BULK_OFF
                ? null
                : new BulkPull(
                        bulkHost,
                        options.bulkPort(),
                        bulkTls,
                        target,
                        runId -> unary(
                                "OpenBulkPull",
                                s -> s.openBulkPull(OpenBulkPullRequest.newBuilder()
                                        .setRunId(runId)
                                        .build())));
    }

    /**
     * Connects (lazily, on the first call) to an endpoint: TLS if it names a CA, its bearer token on
     * every call if it names a token file.
     *
     * @throws AgentException with code BAD_ADDRESS when the address does not parse, BAD_CREDENTIALS
     *     when the token file or the CA file cannot be used
     */
    public static AgentClient connect(AgentEndpoint endpoint, Options options) throws AgentException {
        ManagedChannel channel = AgentChannels.open(endpoint);
        try {
            SSLContext tls = endpoint.tlsCa() == null ? null : BulkPull.trusting(endpoint.tlsCa());
            return new AgentClient(
                    channel,
                    endpoint.address(),
                    options,
                    AgentChannels.HostPort.parse(endpoint.address()).host(),
                    tls);
        } catch (AgentException | RuntimeException e) {
            channel.shutdownNow();
            throw e;
        }
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

    /** The device address as messages name it. */
    public String target() {
        return target;
    }

    /** Device, backend, capabilities, versions, profile and active faults. */
    public DeviceInfo info() throws AgentException {
        checkOpen();
        return unary("GetInfo", s -> s.getInfo(GetInfoRequest.getDefaultInstance()));
    }

    /**
     * Runs one layer of an uploaded model on the given inputs (device-side isolation) and returns
     * its output as the device computed it, verified against the sha256 the agent sent.
     *
     * @param inputs the layer's runtime inputs by tensor name, as real values
     */
    public LayerValue runLayer(String modelId, String layer, Map<String, Tensor> inputs) throws AgentException {
        checkOpen();
        RunLayerRequest.Builder req =
                RunLayerRequest.newBuilder().setModelId(modelId).setLayer(layer).setFormat(DumpFormat.NATIVE);
        inputs.forEach((name, t) -> req.addInputs(WireTensors.toWire(name, t)));
        RunLayerResponse r = unary("RunLayer", s -> s.runLayer(req.build()));
        byte[] data = r.getData().toByteArray();
        if (!Sha256.hexOf(data).equals(r.getSha256())) {
            throw new AgentException(
                    AgentException.Code.CHECKSUM,
                    "device at " + target + " sent layer '" + layer + "' with a wrong sha256 (got " + Sha256.hexOf(data)
                            + ", announced " + r.getSha256() + ")",
                    null);
        }
        try {
            return WireTensors.toLayerValue(r.getHeader(), data);
        } catch (IllegalArgumentException e) {
            throw new AgentException(
                    AgentException.Code.PROTOCOL,
                    "device at " + target + " sent layer '" + layer + "' that cannot be decoded: " + e.getMessage(),
                    e);
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
        return UploadModelSender.call(async, options.callDeadline(), target, model, name);
    }

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
    public RunSummary run(String modelId, Map<String, Tensor> inputs, DumpFormat format, int chunkBytes, LayerSink sink)
            throws AgentException {
        return run(modelId, inputs, format, chunkBytes, false, sink);
    }

    /**
     * As {@link #run(String, Map, DumpFormat, int, LayerSink)}; with {@code streamOnly} the agent
     * does not keep the run on its disk (nothing to pull later, and the summary has no run id): for
     * callers that use each layer as it arrives, such as every input of an analysis.
     */
    public RunSummary run(
            String modelId,
            Map<String, Tensor> inputs,
            DumpFormat format,
            int chunkBytes,
            boolean streamOnly,
            LayerSink sink)
            throws AgentException {
        checkOpen();
        RunRequest.Builder req = RunRequest.newBuilder()
                .setModelId(modelId)
                .setFormat(format)
                .setChunkBytes(chunkBytes)
                .setStreamOnly(streamOnly);
        inputs.forEach((name, t) -> req.addInputs(WireTensors.toWire(name, t)));
        return RunReceiver.call(blocking, options.runDeadline(), target, req.build(), sink);
    }

    /** The runs the agent has stored, newest first, without their layers. */
    public List<RunInfo> listRuns() throws AgentException {
        checkOpen();
        return unary("ListRuns", s -> s.listRuns(ListRunsRequest.getDefaultInstance()))
                .getRunsList();
    }

    /** One stored run with its layers (headers and sha256s). */
    public RunInfo storedRun(String runId) throws AgentException {
        checkOpen();
        ListRunsResponse r = unary(
                "ListRuns",
                s -> s.listRuns(ListRunsRequest.newBuilder().setRunId(runId).build()));
        if (r.getRunsCount() != 1 || !r.getRuns(0).getRunId().equals(runId)) {
            throw new AgentException(
                    AgentException.Code.PROTOCOL,
                    "device at " + target + " answered ListRuns for run " + runId + " with " + r.getRunsCount()
                            + " other runs",
                    null);
        }
        return r.getRuns(0);
    }

    /**
     * Pulls one layer of a stored run from byte {@code offset} on into {@code sink}, checking that
     * the agent sends that layer, contiguously from {@code offset} to its size. Over the agent's
     * bulk port where it has one and the client can reach it ({@link BulkPull}; the sink is then
     * called on the calling thread), else over gRPC's {@code PullDump} (the sink is called on a
     * transport thread while the calling thread waits); {@link #bulkUnavailable()} says which.
     *
     * @return the sha256 the agent stored for the whole layer; the caller, who holds the bytes
     *     before {@code offset}, checks it
     * @throws AgentException SINK when the sink fails, PROTOCOL when the stream is out of order,
     *     or the mapped gRPC failure (a dropped connection is UNAVAILABLE)
     */
    public String pullLayer(String runId, LayerHeader layer, long offset, int chunkBytes, ByteSink sink)
            throws AgentException {
        checkOpen();
        if (bulk != null) {
            try {
                return bulk.pull(runId, layer, offset, sink, options.runDeadline());
            } catch (BulkPull.Unavailable e) {
                // over gRPC below, as this client's pulls will be from now on
            }
        }
        PullDumpRequest req = PullDumpRequest.newBuilder()
                .setRunId(runId)
                .setLayer(layer.getIndex())
                .setOffset(offset)
                .setChunkBytes(chunkBytes)
                .build();
        return PullDumpReceiver.call(channel, options.runDeadline(), target, req, layer, sink);
    }

    /**
     * Why this client pulls over gRPC rather than the agent's bulk port (e.g. "pulled over gRPC:
     * its bulk port 10.0.0.2:50052 cannot be reached (...)"), or empty while it uses the bulk port
     * or has not tried yet.
     */
    public Optional<String> bulkUnavailable() {
        if (bulk != null) {
            return Optional.ofNullable(bulk.unavailable());
        }
        return Optional.of(
                options.bulkPort() == Options.BULK_OFF
                        ? "pulled over gRPC: bulk pulls are off for this client"
                        : "pulled over gRPC: this client was made from a channel, without the agent's address");
    }

    /**
     * Why this client pulls over gRPC when the agent has a bulk port that it could not reach (a
     * tunnel that forwards only the gRPC port): the case worth telling the user. Empty otherwise.
     */
    public Optional<String> bulkUnreachable() {
        return bulk != null && bulk.unreachable() ? Optional.ofNullable(bulk.unavailable()) : Optional.empty();
    }

    /** A unary call, named {@code call} in messages, with the call deadline. */
    private <T> T unary(String call, Function<DeviceAgentGrpc.DeviceAgentBlockingStub, T> rpc) throws AgentException {
        try {
            return rpc.apply(blocking.withDeadlineAfter(options.callDeadline().toMillis(), TimeUnit.MILLISECONDS));
        } catch (StatusRuntimeException e) {
            throw AgentException.fromStatus(e, target, call, options.callDeadline());
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
        if (bulk != null) {
            bulk.close();
        }
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
