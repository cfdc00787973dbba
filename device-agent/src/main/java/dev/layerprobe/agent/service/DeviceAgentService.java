package dev.layerprobe.agent.service;

import com.google.protobuf.ByteString;
import dev.layerprobe.agent.ArtifactVersion;
import dev.layerprobe.agent.backend.Backend;
import dev.layerprobe.agent.backend.BackendProvider;
import dev.layerprobe.agent.backend.Capability;
import dev.layerprobe.agent.backend.LayerIsolation;
import dev.layerprobe.agent.backend.LoadedModel;
import dev.layerprobe.agent.bulk.BulkTickets;
import dev.layerprobe.agent.store.ModelStore;
import dev.layerprobe.agent.store.RunStore;
import dev.layerprobe.core.io.Sha256;
import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.proto.v1.BackendInfo;
import dev.layerprobe.proto.v1.BulkPullTicket;
import dev.layerprobe.proto.v1.DeviceAgentGrpc;
import dev.layerprobe.proto.v1.DeviceInfo;
import dev.layerprobe.proto.v1.DumpFormat;
import dev.layerprobe.proto.v1.Fault;
import dev.layerprobe.proto.v1.GetInfoRequest;
import dev.layerprobe.proto.v1.LayerHeader;
import dev.layerprobe.proto.v1.ListRunsRequest;
import dev.layerprobe.proto.v1.ListRunsResponse;
import dev.layerprobe.proto.v1.OpenBulkPullRequest;
import dev.layerprobe.proto.v1.PullDumpRequest;
import dev.layerprobe.proto.v1.RunEvent;
import dev.layerprobe.proto.v1.RunInfo;
import dev.layerprobe.proto.v1.RunLayerRequest;
import dev.layerprobe.proto.v1.RunLayerResponse;
import dev.layerprobe.proto.v1.RunRequest;
import dev.layerprobe.proto.v1.UploadModelRequest;
import dev.layerprobe.proto.v1.UploadModelResponse;
import dev.layerprobe.simulator.profile.DeviceProfile;
import io.grpc.Context;
import io.grpc.MethodDescriptor;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;

/**
 * The {@code layerprobe.v1.DeviceAgent} service (docs/architecture.md#wire-protocol) over one {@link Backend}.
 *
 * <ul>
 *   <li>{@code GetInfo}: the device, backend, capabilities, versions, profile and active faults, and
 *       every backend on the class path with its capabilities.</li>
 *   <li>{@code UploadModel}: content-addressed, idempotent, size-limited, checksum-verified,
 *       checked by the backend ({@link UploadModelCall}); uploads in progress buffer at most
 *       twice the model size limit together ({@link UploadBudget}).</li>
 *   <li>{@code Run}: executes on {@code runExecutor}, at most {@code maxConcurrentRuns} at once
 *       (more get RESOURCE_EXHAUSTED rather than a queue whose wait the client cannot see); every
 *       layer is streamed with flow control ({@link RunStream}). A request without a format gets
 *       {@code NATIVE}: it is exact and the smaller of the two. Every run is stored in the
 *       {@link RunStore}; its summary's run id names it.</li>
 *   <li>{@code ListRuns}, {@code PullDump}: the stored runs, and one stored layer from a byte
 *       offset on ({@link PullDumpCall}), so a host resumes an interrupted pull. PullDump is bound
 *       by {@link #definition()} with a response marshaller of its own ({@link FileChunk}), which
 *       reads chunks from the file as gRPC frames them; its messages are RunEvents all the same.</li>
 *   <li>{@code OpenBulkPull}: a ticket for the bulk port ({@link BulkTickets},
 *       {@link dev.layerprobe.agent.bulk.BulkServer}), which sends a stored run's layers without
 *       HTTP/2; FAILED_PRECONDITION when the agent serves none.</li>
 * </ul>
 * Errors leave through {@link StatusMapper}. Thread-safe: gRPC calls it from many threads.
 */
public final class DeviceAgentService extends DeviceAgentGrpc.DeviceAgentImplBase {
    private final Backend backend;
    private final ModelStore store;
    private final RunStore runs;
    private final long maxModelBytes;
    private final int maxConcurrentRuns;
    private final int maxInputTensors;
    private final Semaphore runSlots;
    private final Executor runExecutor;
    private final BulkTickets bulkTickets;
    private final List<BackendInfo> backends;
    private final UploadBudget uploads;

    /**
     * @param maxInputTensors the most input tensors one Run or RunLayer request may carry
     * @param runExecutor where models run; it should have at least {@code maxConcurrentRuns} threads,
     *                    since each run holds its thread while the client reads
     */
    public DeviceAgentService(
            Backend backend,
            ModelStore store,
            RunStore runs,
            long maxModelBytes,
            int maxConcurrentRuns,
            int maxInputTensors,
            Executor runExecutor,
            BulkTickets bulkTickets) {
        this.backend = backend;
        this.bulkTickets = bulkTickets;
        this.store = store;
        this.runs = runs;
        this.maxModelBytes = maxModelBytes;
        this.maxConcurrentRuns = maxConcurrentRuns;
        this.maxInputTensors = maxInputTensors;
        // Two models of the largest size may arrive at once; smaller ones share the same room.
        this.uploads = new UploadBudget(2 * maxModelBytes);
        this.runSlots = new Semaphore(maxConcurrentRuns);
        this.runExecutor = runExecutor;
        // Providers are fixed for the JVM's life; listed once, not at every GetInfo.
        this.backends = listBackends(backend);
    }

    @Override
    public void getInfo(GetInfoRequest request, StreamObserver<DeviceInfo> responseObserver) {
        DeviceInfo.Builder info = DeviceInfo.newBuilder()
                .setDevice(backend.device())
                .setBackend(backend.name())
                .setMaxModelBytes(maxModelBytes)
                .putVersions("agent", ArtifactVersion.of(DeviceAgentService.class, "layerprobe-device-agent"))
                .putVersions("java", Runtime.version().toString())
                .putAllVersions(backend.versions());
        info.addAllCapabilities(wireNames(backend.capabilities()));
        info.addAllBackends(backends);
        backend.profile().ifPresent(p -> addProfile(info, p));
        responseObserver.onNext(info.build());
        responseObserver.onCompleted();
    }

    /** Every backend on the class path with its provider's capabilities, plus the active one if it has no provider there. */
    private static List<BackendInfo> listBackends(Backend active) {
        List<BackendInfo> list = new ArrayList<>();
        boolean listed = false;
        for (BackendProvider p : BackendProvider.available()) {
            boolean isActive = p.name().equals(active.name());
            listed |= isActive;
            list.add(BackendInfo.newBuilder()
                    .setName(p.name())
                    .setActive(isActive)
                    .addAllCapabilities(wireNames(isActive ? active.capabilities() : p.capabilities()))
                    .build());
        }
        if (!listed) {
            list.add(BackendInfo.newBuilder()
                    .setName(active.name())
                    .setActive(true)
                    .addAllCapabilities(wireNames(active.capabilities()))
                    .build());
        }
        return List.copyOf(list);
    }

    private static List<String> wireNames(Set<Capability> capabilities) {
        List<String> names = new ArrayList<>();
        for (Capability c : Capability.values()) {
            if (capabilities.contains(c)) {
                names.add(c.wireName());
            }
        }
        return names;
    }

    private static void addProfile(DeviceInfo.Builder info, DeviceProfile profile) {
        info.setProfile(profile.name());
        for (dev.layerprobe.simulator.profile.Fault f : profile.faults()) {
            Fault.Builder wire = Fault.newBuilder().setKind(f.kind().yamlName());
            if (f.layer() != null) {
                wire.setLayer(f.layer());
            } else {
                wire.setOp(f.op());
            }
            info.addFaults(wire);
        }
    }

    @Override
    public StreamObserver<UploadModelRequest> uploadModel(StreamObserver<UploadModelResponse> responseObserver) {
        return new UploadModelCall(store, backend, maxModelBytes, uploads, responseObserver);
    }

    @Override
    public void run(RunRequest request, StreamObserver<RunEvent> responseObserver) {
        Context context = Context.current();
        // Handlers must be installed before this method returns, whatever happens next.
        RunStream stream = new RunStream((ServerCallStreamObserver<RunEvent>) responseObserver, context);
        try {
            DumpFormat format = format(request.getFormat());
            byte[] model = model(request.getModelId());
            Map<String, Tensor> feeds = InputDecoder.decode(request.getInputsList(), maxInputTensors);
            if (!runSlots.tryAcquire()) {
                throw Status.RESOURCE_EXHAUSTED
                        .withDescription("the agent is busy: " + maxConcurrentRuns + " runs in progress, its limit")
                        .asException();
            }
            RunJob job = new RunJob(
                    backend,
                    request.getModelId(),
                    model,
                    feeds,
                    format,
                    request.getChunkBytes(),
                    stream,
                    request.getStreamOnly() ? null : runs,
                    runSlots::release);
            try {
                // Wrapped so the worker sees the call's context: its deadline and cancellation.
                runExecutor.execute(context.wrap(job));
            } catch (RejectedExecutionException e) {
                runSlots.release();
                throw Status.UNAVAILABLE
                        .withDescription("the agent is shutting down")
                        .withCause(e)
                        .asException();
            }
        } catch (Exception e) {
            stream.fail(StatusMapper.toStatus(e));
        }
    }

    @Override
    public void runLayer(RunLayerRequest request, StreamObserver<RunLayerResponse> responseObserver) {
        try {
            if (!backend.capabilities().contains(Capability.RUN_LAYER)) {
                throw Status.UNIMPLEMENTED
                        .withDescription("backend '" + backend.name() + "' cannot run single layers")
                        .asException();
            }
            DumpFormat format = format(request.getFormat());
            byte[] model = model(request.getModelId());
            Map<String, Tensor> inputs = InputDecoder.decode(request.getInputsList(), maxInputTensors);
            if (!runSlots.tryAcquire()) {
                throw Status.RESOURCE_EXHAUSTED
                        .withDescription("the agent is busy: " + maxConcurrentRuns + " runs in progress, its limit")
                        .asException();
            }
            try (LoadedModel loaded = backend.load(model, request.getModelId())) {
                if (!(loaded instanceof LayerIsolation isolation)) {
                    throw Status.UNIMPLEMENTED
                            .withDescription("backend '" + backend.name() + "' cannot run single layers")
                            .asException();
                }
                LayerValue value = isolation.runLayer(request.getLayer(), inputs);
                LayerPayload payload = LayerPayload.of(value, format);
                ByteString data = payload.chunk(0, payload.elements());
                LayerHeader.Builder h = LayerHeader.newBuilder()
                        .setName(request.getLayer())
                        .setDtype(payload.dtype())
                        .setSizeBytes(payload.sizeBytes());
                for (int d : value.shape()) {
                    h.addShape(d);
                }
                if (payload.quant() != null) {
                    h.setQuant(payload.quant());
                }
                MessageDigest digest = Sha256.newDigest();
                digest.update(data.asReadOnlyByteBuffer());
                responseObserver.onNext(RunLayerResponse.newBuilder()
                        .setHeader(h)
                        .setData(data)
                        .setSha256(Sha256.hex(digest))
                        .build());
                responseObserver.onCompleted();
            } finally {
                runSlots.release();
            }
        } catch (Exception e) {
            responseObserver.onError(StatusMapper.toStatus(e).asRuntimeException());
        }
    }

    /** An uploaded model by id; ids are content hashes, never paths or names. */
    private byte[] model(String id) throws Exception {
        if (!ModelStore.isModelId(id)) {
            throw Status.INVALID_ARGUMENT
                    .withDescription("model id '" + id + "' is not a model id: expected the 64"
                            + " lowercase hex digits of the sha256 UploadModel returned")
                    .asException();
        }
        return store.get(id)
                .orElseThrow(() -> Status.NOT_FOUND
                        .withDescription("unknown model '" + id + "'; upload it first with UploadModel")
                        .asException());
    }

    /** A ticket for the bulk port, for a stored run; see {@link BulkTickets}. */
    @Override
    public void openBulkPull(OpenBulkPullRequest request, StreamObserver<BulkPullTicket> responseObserver) {
        try {
            RunInfo run = StoredLayers.run(runs, request.getRunId());
            responseObserver.onNext(bulkTickets.issue(run.getRunId()));
            responseObserver.onCompleted();
        } catch (Exception e) {
            responseObserver.onError(StatusMapper.toStatus(e).asRuntimeException());
        }
    }

    @Override
    public void listRuns(ListRunsRequest request, StreamObserver<ListRunsResponse> responseObserver) {
        try {
            ListRunsResponse.Builder r = ListRunsResponse.newBuilder();
            if (request.getRunId().isEmpty()) {
                r.addAllRuns(runs.list());
            } else {
                r.addRuns(storedRun(request.getRunId()));
            }
            responseObserver.onNext(r.build());
            responseObserver.onCompleted();
        } catch (Exception e) {
            responseObserver.onError(StatusMapper.toStatus(e).asRuntimeException());
        }
    }

    /**
     * The generated binding, with PullDump's response marshaller replaced by one that also sends
     * {@link FileChunk}s (the same bytes as the RunEvent they stand for). Servers bind this, not
     * {@link #bindService()}.
     */
    public ServerServiceDefinition definition() {
        ServerServiceDefinition generated = bindService();
        MethodDescriptor<PullDumpRequest, Object> pull = DeviceAgentGrpc.getPullDumpMethod().toBuilder(
                        DeviceAgentGrpc.getPullDumpMethod().getRequestMarshaller(), new FileChunk.Marshaller())
                .build();
        ServiceDescriptor.Builder descriptor = ServiceDescriptor.newBuilder(DeviceAgentGrpc.SERVICE_NAME)
                .setSchemaDescriptor(generated.getServiceDescriptor().getSchemaDescriptor());
        List<ServerMethodDefinition<?, ?>> others = new ArrayList<>();
        for (ServerMethodDefinition<?, ?> m : generated.getMethods()) {
            if (!m.getMethodDescriptor().getFullMethodName().equals(pull.getFullMethodName())) {
                descriptor.addMethod(m.getMethodDescriptor());
                others.add(m);
            }
        }
        descriptor.addMethod(pull);
        ServerServiceDefinition.Builder b = ServerServiceDefinition.builder(descriptor.build());
        others.forEach(b::addMethod);
        b.addMethod(
                pull,
                ServerCalls.asyncServerStreamingCall(
                        (request, out) -> pullDump(request, (ServerCallStreamObserver<Object>) out)));
        return b.build();
    }

    private void pullDump(PullDumpRequest request, ServerCallStreamObserver<Object> out) {
        try {
            StoredLayers.Opened opened =
                    StoredLayers.open(runs, request.getRunId(), request.getLayer(), request.getOffset());
            PullDumpCall.start(
                    out,
                    opened.layer(),
                    opened.file(),
                    request.getOffset(),
                    RunJob.chunkBytes(request.getChunkBytes()));
        } catch (Exception e) {
            out.onError(StatusMapper.toStatus(e).asRuntimeException());
        }
    }

    private RunInfo storedRun(String runId) throws Exception {
        return StoredLayers.run(runs, runId);
    }

    private static DumpFormat format(DumpFormat requested) {
        return switch (requested) {
            case DUMP_FORMAT_UNSPECIFIED, NATIVE -> DumpFormat.NATIVE;
            case FLOAT -> DumpFormat.FLOAT;
            case UNRECOGNIZED ->
                throw Status.INVALID_ARGUMENT
                        .withDescription("unknown dump format, expected one of [FLOAT, NATIVE]")
                        .asRuntimeException();
        };
    }
}
