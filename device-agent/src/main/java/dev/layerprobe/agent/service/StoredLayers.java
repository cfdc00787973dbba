package dev.layerprobe.agent.service;

import dev.layerprobe.agent.store.RunStore;
import dev.layerprobe.proto.v1.RunInfo;
import dev.layerprobe.proto.v1.StoredLayer;
import io.grpc.Status;
import io.grpc.StatusException;
import java.io.IOException;
import java.nio.channels.FileChannel;

/**
 * Finds a stored run's layer for a pull from a byte offset, with the checks and the messages that
 * {@code PullDump} and the bulk port share: the run must be stored, the layer index one of its
 * layers, the offset within the layer (its size included: nothing left to send). Stateless.
 */
public final class StoredLayers {
    private StoredLayers() {}

    /** A stored layer and its file, open for reading; the caller closes the file. */
    public record Opened(StoredLayer layer, FileChannel file) {}

    /** The stored run, or NOT_FOUND. */
    public static RunInfo run(RunStore runs, String runId) throws StatusException, IOException {
        return runs.get(runId)
                .orElseThrow(() -> Status.NOT_FOUND
                        .withDescription("no stored run '" + runId
                                + "' on this agent (it may have been evicted by the retention limits);"
                                + " ListRuns lists the stored runs")
                        .asException());
    }

    /**
     * Opens layer {@code index} of a stored run for a pull from {@code offset}.
     *
     * @throws StatusException NOT_FOUND for a run that is not stored, OUT_OF_RANGE for a layer index
     *     or an offset outside the run's layers
     * @throws IOException when the layer's file cannot be opened
     */
    public static Opened open(RunStore runs, String runId, int index, long offset) throws StatusException, IOException {
        RunInfo run = run(runs, runId);
        if (index < 0 || index >= run.getLayerListCount()) {
            throw Status.OUT_OF_RANGE
                    .withDescription("run " + run.getRunId() + " has layers 0.." + (run.getLayerListCount() - 1)
                            + ", not " + index)
                    .asException();
        }
        StoredLayer layer = run.getLayerList(index);
        if (offset < 0 || offset > layer.getHeader().getSizeBytes()) {
            throw Status.OUT_OF_RANGE
                    .withDescription("offset " + offset + " is outside layer '"
                            + layer.getHeader().getName() + "' of "
                            + layer.getHeader().getSizeBytes() + " bytes")
                    .asException();
        }
        return new Opened(layer, runs.openLayer(run.getRunId(), index));
    }
}
