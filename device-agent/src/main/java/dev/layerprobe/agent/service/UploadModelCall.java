package dev.layerprobe.agent.service;

import com.google.protobuf.ByteString;
import dev.layerprobe.agent.AgentConfig;
import dev.layerprobe.agent.backend.Backend;
import dev.layerprobe.agent.store.ModelStore;
import dev.layerprobe.core.io.Sha256;
import dev.layerprobe.proto.v1.ModelHeader;
import dev.layerprobe.proto.v1.UploadModelRequest;
import dev.layerprobe.proto.v1.UploadModelResponse;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.stub.StreamObserver;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Locale;

/**
 * The inbound side of one {@code UploadModel} call: a header, then data chunks. The size is
 * checked against the limit as soon as the header arrives and against the header as every chunk
 * arrives, so an oversized upload is refused before it fills memory; bytes are hashed as they come.
 * A complete upload is checked by the backend ({@link Backend#check}) before it is stored, so a
 * file the device could never load is refused here, with INVALID_ARGUMENT, not at every run.
 *
 * <p>The announced size is reserved from the agent's {@link UploadBudget} when the header arrives
 * and released when the call ends by any path: completion, refusal, or the client's cancel.
 *
 * <p>Sizes: a header announcing more than any agent holds
 * ({@link AgentConfig#MAX_MODEL_BYTES_LIMIT}) is malformed, INVALID_ARGUMENT; one within that but
 * over this agent's configured limit is RESOURCE_EXHAUSTED, since another agent would take it.
 *
 * <p>gRPC calls a {@link StreamObserver} serially, so this class needs no locking; one instance
 * per call.
 */
final class UploadModelCall implements StreamObserver<UploadModelRequest> {
    /** The buffer grows from this size: a header's announced size is not trusted for a big allocation. */
    private static final int INITIAL_BUFFER_BYTES = 1 << 20;

    private final ModelStore store;
    private final Backend backend;
    private final long maxModelBytes;
    private final UploadBudget budget;
    private long reserved;
    private final StreamObserver<UploadModelResponse> out;
    private ModelHeader header;
    private MessageDigest digest;
    private byte[] buffer;
    private int received;
    private boolean finished;

    UploadModelCall(
            ModelStore store,
            Backend backend,
            long maxModelBytes,
            UploadBudget budget,
            StreamObserver<UploadModelResponse> out) {
        this.store = store;
        this.backend = backend;
        this.maxModelBytes = maxModelBytes;
        this.budget = budget;
        this.out = out;
    }

    @Override
    public void onNext(UploadModelRequest request) {
        if (finished) {
            return;
        }
        try {
            switch (request.getPartCase()) {
                case HEADER -> onHeader(request.getHeader());
                case DATA -> onData(request.getData());
                default -> throw invalid("an upload message must carry a header or data");
            }
        } catch (StatusException e) {
            finish(e.getStatus());
        }
    }

    private void onHeader(ModelHeader h) throws StatusException {
        if (header != null) {
            throw invalid("the upload carries a second header; only the first message is a header");
        }
        String name = h.getName().isEmpty() ? "(unnamed)" : h.getName();
        if (h.getSize() <= 0) {
            throw invalid("header.size of model '" + name + "' must be its size in bytes, got " + h.getSize());
        }
        if (h.getSize() > AgentConfig.MAX_MODEL_BYTES_LIMIT) {
            throw invalid("header.size of model '" + name + "' is " + h.getSize() + " bytes; no model over "
                    + AgentConfig.MAX_MODEL_BYTES_LIMIT + " bytes can be uploaded");
        }
        if (h.getSize() > maxModelBytes) {
            throw new StatusException(Status.RESOURCE_EXHAUSTED.withDescription("model '" + name + "' is " + h.getSize()
                    + " bytes, larger than this agent's limit of " + maxModelBytes + " bytes"));
        }
        if (!h.getSha256().isEmpty() && !ModelStore.isModelId(h.getSha256().toLowerCase(Locale.ROOT))) {
            throw invalid("header.sha256 '" + h.getSha256() + "' of model '" + name + "' is not 64 hex digits");
        }
        if (!budget.tryReserve(h.getSize())) {
            throw new StatusException(Status.RESOURCE_EXHAUSTED.withDescription("the agent is busy receiving other"
                    + " uploads: model '" + name + "' (" + h.getSize() + " bytes) does not fit in the "
                    + budget.capacity() + " bytes uploads may buffer at once; retry when they finish"));
        }
        reserved = h.getSize();
        header = h;
        digest = Sha256.newDigest();
        buffer = new byte[(int) Math.min(h.getSize(), INITIAL_BUFFER_BYTES)];
    }

    private void onData(ByteString data) throws StatusException {
        if (header == null) {
            throw invalid("the first message of an upload must carry the header");
        }
        long total = (long) received + data.size();
        if (total > header.getSize()) {
            throw invalid("model '" + header.getName() + "' sent more than the " + header.getSize()
                    + " bytes its header announced");
        }
        if (total > buffer.length) {
            // Doubling keeps copies amortised; capped at the announced size, which the limit bounds.
            buffer = Arrays.copyOf(buffer, (int) Math.min(header.getSize(), Math.max(total, 2L * buffer.length)));
        }
        data.copyTo(buffer, received);
        digest.update(buffer, received, data.size());
        received = (int) total;
    }

    @Override
    public void onError(Throwable t) {
        // The client gave up; drop what it sent.
        finished = true;
        buffer = null;
        releaseBudget();
    }

    private void releaseBudget() {
        budget.release(reserved);
        reserved = 0;
    }

    @Override
    public void onCompleted() {
        if (finished) {
            return;
        }
        try {
            if (header == null) {
                throw invalid("the upload carried no header");
            }
            if (received != header.getSize()) {
                throw invalid("model '" + header.getName() + "' sent " + received + " bytes, its header announced "
                        + header.getSize());
            }
            String id = Sha256.hex(digest);
            String claimed = header.getSha256().toLowerCase(Locale.ROOT);
            if (!claimed.isEmpty() && !claimed.equals(id)) {
                throw invalid("sha256 mismatch for model '" + header.getName() + "': header says " + claimed
                        + ", received bytes hash to " + id);
            }
            if (!store.contains(id)) {
                backend.check(buffer);
            }
            boolean added = store.put(id, buffer);
            finished = true;
            buffer = null;
            releaseBudget();
            out.onNext(UploadModelResponse.newBuilder()
                    .setModelId(id)
                    .setSize(received)
                    .setAlreadyPresent(!added)
                    .build());
            out.onCompleted();
        } catch (Exception e) {
            finish(StatusMapper.toStatus(e));
        }
    }

    private void finish(Status status) {
        finished = true;
        buffer = null;
        releaseBudget();
        out.onError(status.asRuntimeException());
    }

    private static StatusException invalid(String message) {
        return new StatusException(Status.INVALID_ARGUMENT.withDescription(message));
    }
}
