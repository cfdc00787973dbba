package dev.layerprobe.host.client;

import com.google.protobuf.ByteString;
import dev.layerprobe.core.io.Sha256;
import dev.layerprobe.proto.v1.DeviceAgentGrpc;
import dev.layerprobe.proto.v1.ModelHeader;
import dev.layerprobe.proto.v1.UploadModelRequest;
import dev.layerprobe.proto.v1.UploadModelResponse;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * One {@code UploadModel} call, sending: a header with the model's name, size and sha256, then
 * {@link AgentClient#UPLOAD_CHUNK_BYTES} chunks, each made and sent only while the transport is
 * ready (flow control) rather than all queued at once. The caller's thread waits for the agent's
 * answer and checks that the model id it assigned is the sha256 of the bytes.
 *
 * <p>One instance per call. gRPC calls its handlers one at a time (the ready handler possibly
 * spuriously: {@code done} makes extra calls harmless); the waiting thread touches only the future.
 * The model array is read, never copied whole, and must not change until the call returns.
 */
final class UploadModelSender implements ClientResponseObserver<UploadModelRequest, UploadModelResponse> {
    private final byte[] model;
    private final ModelHeader header;
    private final CompletableFuture<UploadModelResponse> result = new CompletableFuture<>();
    private boolean headerSent;
    private int offset;
    private boolean done;

    private UploadModelSender(byte[] model, ModelHeader header) {
        this.model = model;
        this.header = header;
    }

    /**
     * Makes the call and waits for the agent's answer.
     *
     * @param stub a stub with the client's inbound message limit
     * @param deadline for the whole upload
     * @throws AgentException PROTOCOL when the agent answers with another model id or not at all,
     *     CANCELLED when the waiting thread is interrupted, or the mapped gRPC failure
     */
    static UploadModelResponse call(
            DeviceAgentGrpc.DeviceAgentStub stub, Duration deadline, String target, byte[] model, String name)
            throws AgentException {
        String sha = Sha256.hexOf(model);
        UploadModelSender sender = new UploadModelSender(
                model,
                ModelHeader.newBuilder()
                        .setName(name)
                        .setSize(model.length)
                        .setSha256(sha)
                        .build());
        stub.withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS).uploadModel(sender);
        try {
            UploadModelResponse r = sender.result.get();
            if (!r.getModelId().isEmpty() && !r.getModelId().equalsIgnoreCase(sha)) {
                throw new AgentException(
                        AgentException.Code.PROTOCOL,
                        "device at " + target + " gave model id " + r.getModelId() + " for model '" + name
                                + "' whose sha256 is " + sha,
                        null);
            }
            return r;
        } catch (ExecutionException e) {
            if (e.getCause() instanceof StatusRuntimeException s) {
                throw AgentException.fromStatus(s, target, "UploadModel", deadline);
            }
            throw new AgentException(
                    AgentException.Code.PROTOCOL,
                    "UploadModel to " + target + " failed: " + e.getCause(),
                    e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AgentException(AgentException.Code.CANCELLED, "UploadModel to " + target + " interrupted", e);
        }
    }

    @Override
    public void beforeStart(ClientCallStreamObserver<UploadModelRequest> requests) {
        requests.setOnReadyHandler(() -> {
            while (requests.isReady() && !done) {
                if (!headerSent) {
                    requests.onNext(
                            UploadModelRequest.newBuilder().setHeader(header).build());
                    headerSent = true;
                } else if (offset < model.length) {
                    int n = Math.min(AgentClient.UPLOAD_CHUNK_BYTES, model.length - offset);
                    requests.onNext(UploadModelRequest.newBuilder()
                            .setData(ByteString.copyFrom(model, offset, n))
                            .build());
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
