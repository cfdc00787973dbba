package dev.layerprobe.agent.service;

import dev.layerprobe.agent.backend.Backend;
import dev.layerprobe.agent.backend.LoadedModel;
import dev.layerprobe.agent.store.RunStore;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.proto.v1.DumpFormat;
import dev.layerprobe.proto.v1.RunEvent;
import dev.layerprobe.proto.v1.RunSummary;
import io.grpc.Status;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One accepted {@code Run}: loads the model, runs it on a worker thread and streams each layer from
 * inside the backend's layer callback, so the model advances only as fast as the client reads.
 * Every layer is also stored in the {@link RunStore} as it goes out, unless the client asked for
 * the stream only; the run is committed there (and its id put in the summary) only when it
 * completes, and deleted otherwise.
 * Runs once; {@code onFinish} (which frees the run's slot) is called when the model is done,
 * before the final status goes out, so a client that starts its next run right away finds the slot
 * free.
 */
final class RunJob implements Runnable {
    /** Large enough that per-message costs vanish next to the copy, small enough to keep memory per call low. */
    static final int DEFAULT_CHUNK_BYTES = 1 << 20;

    static final int MIN_CHUNK_BYTES = 4 << 10;
    /** A 4 MiB chunk plus framing exceeds gRPC's default 4 MiB inbound limit: such clients must raise theirs. */
    static final int MAX_CHUNK_BYTES = 4 << 20;

    private static final Logger LOG = Logger.getLogger(RunJob.class.getName());

    private final Backend backend;
    private final String modelId;
    private final byte[] model;
    private final Map<String, Tensor> feeds;
    private final DumpFormat format;
    private final int chunkBytes;
    private final RunStream stream;
    /** Where the run is kept, or null when it is streamed only. */
    private final RunStore runs;

    private final Runnable onFinish;
    private RunStore.Writer stored;

    RunJob(
            Backend backend,
            String modelId,
            byte[] model,
            Map<String, Tensor> feeds,
            DumpFormat format,
            int requestedChunkBytes,
            RunStream stream,
            RunStore runs,
            Runnable onFinish) {
        this.backend = backend;
        this.modelId = modelId;
        this.model = model;
        this.feeds = feeds;
        this.format = format;
        this.chunkBytes = chunkBytes(requestedChunkBytes);
        this.stream = stream;
        this.runs = runs;
        this.onFinish = onFinish;
    }

    /** The chunk size used for a request: 0 means the default; others are clamped and kept 8-byte aligned. */
    static int chunkBytes(int requested) {
        int n = requested <= 0 ? DEFAULT_CHUNK_BYTES : Math.max(MIN_CHUNK_BYTES, Math.min(MAX_CHUNK_BYTES, requested));
        // A multiple of every element size, so chunks hold whole elements.
        return n & ~7;
    }

    @Override
    public void run() {
        RunSummary summary = null;
        Throwable failure = null;
        try {
            summary = execute();
        } catch (Throwable t) {
            failure = t;
        } finally {
            onFinish.run();
            if (stored != null) {
                // After the slot is free: deleting an unfinished run's files need not delay the next run.
                stored.abort();
            }
        }
        if (stream.isCancelled()) {
            // The client is gone (or its deadline passed); gRPC has already closed the call.
            return;
        }
        try {
            if (failure != null) {
                Status status = StatusMapper.toStatus(failure);
                if (status.getCode() == Status.Code.INTERNAL) {
                    LOG.log(Level.WARNING, "run of model " + modelId + " failed", failure);
                }
                stream.fail(status);
            } else {
                stream.send(RunEvent.newBuilder().setSummary(summary).build());
                stream.complete();
            }
        } catch (RuntimeException e) {
            if (!stream.isCancelled()) {
                LOG.log(Level.WARNING, "could not finish run of model " + modelId, e);
            }
        }
    }

    private RunSummary execute() throws Exception {
        stream.abortIfCancelled();
        long[] streamingNanos = {0};
        int[] layers = {0};
        long[] totalBytes = {0};
        long start;
        try (LoadedModel loaded = backend.load(model, modelId)) {
            // Aborted in run() unless committed: only finished runs get an id the client sees.
            stored = runs == null ? null : runs.begin(modelId, format);
            InputDecoder.checkNames(loaded.inputs(), feeds);
            start = System.nanoTime();
            loaded.run(feeds, (layer, value) -> {
                long t0 = System.nanoTime();
                stream.abortIfCancelled();
                try {
                    totalBytes[0] +=
                            stream.sendLayer(layer, value.shape(), LayerPayload.of(value, format), chunkBytes, stored);
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot store the run's layer '" + layer.name() + "'", e);
                }
                layers[0]++;
                streamingNanos[0] += System.nanoTime() - t0;
            });
            // Device time excludes loading (compiling) and the time spent storing and waiting for and writing to the
            // client.
            double deviceMillis = (System.nanoTime() - start - streamingNanos[0]) / 1e6;
            String runId = stored == null ? "" : stored.commit().getRunId();
            return RunSummary.newBuilder()
                    .setRunId(runId)
                    .setLayers(layers[0])
                    .setTotalBytes(totalBytes[0])
                    .setDeviceMillis(deviceMillis)
                    .build();
        }
    }
}
