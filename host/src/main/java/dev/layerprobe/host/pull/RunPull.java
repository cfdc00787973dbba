package dev.layerprobe.host.pull;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.QuantParams;
import dev.layerprobe.dump.DumpManifest;
import dev.layerprobe.dump.DumpWriter;
import dev.layerprobe.host.client.AgentClient;
import dev.layerprobe.host.client.AgentException;
import dev.layerprobe.host.client.WireTensors;
import dev.layerprobe.proto.v1.DataType;
import dev.layerprobe.proto.v1.LayerHeader;
import dev.layerprobe.proto.v1.RunInfo;
import dev.layerprobe.proto.v1.StoredLayer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.LongConsumer;

/**
 * Pulls a run the agent has stored into a dump directory (docs/architecture.md#dumps-on-disk: {@code manifest.json} and one
 * {@code .npy} per layer, quantized layers as their codes), resuming an interrupted pull.
 *
 * <p>Resuming: layers the directory's manifest already lists are kept when their name and sha256
 * match the stored run's (a directory holding another run is refused); the first missing layer
 * continues from the bytes its partial {@code .npy} already holds ({@code PullDump} with that
 * offset); the rest are pulled whole. A layer enters the manifest only once the sha256 of all its
 * bytes, old and new, equals the one the agent stored; a mismatch deletes the layer's file, so the
 * next attempt pulls it afresh. When a pull is cut (connection lost, deadline), the partial file is
 * kept and the manifest stays marked incomplete. Not thread-safe: one pull per directory at a time.
 */
public final class RunPull {
    /**
     * What a pull did.
     *
     * @param layers the run's layers, all now in the directory
     * @param kept layers that were already complete in the directory
     * @param resumed layers continued from a partial file
     * @param bytesReceived bytes that came over the wire in this pull
     */
    public record Result(int layers, int kept, int resumed, long bytesReceived) {}

    private final AgentClient client;
    private final int chunkBytes;

    /** @param chunkBytes bytes per message to ask for; 0 lets the agent choose */
    public RunPull(AgentClient client, int chunkBytes) {
        this.client = client;
        this.chunkBytes = chunkBytes;
    }

    /**
     * Pulls run {@code runId} into {@code dir} (created if missing).
     *
     * @param onBytes told the number of bytes of each piece as it arrives, e.g. for a progress bar
     * @throws AgentException CHECKSUM when a layer's bytes do not hash to the stored sha256, or the
     *     call's failure; either way what was received is kept for the next attempt
     */
    public Result pull(String runId, Path dir, LongConsumer onBytes) throws AgentException, IOException {
        RunInfo run = client.storedRun(runId);
        Files.createDirectories(dir);
        int kept = 0;
        int resumed = 0;
        long[] received = {0};
        // The client hands over the transport's (direct) buffers; the writer takes arrays.
        byte[] copy = new byte[64 << 10];
        try (DumpWriter writer = DumpWriter.resume(dir, run.getModelId(), "runtime")) {
            List<DumpManifest.Layer> have = writer.layers();
            checkSameRun(run, have, dir);
            kept = have.size();
            for (int i = have.size(); i < run.getLayerListCount(); i++) {
                StoredLayer stored = run.getLayerList(i);
                LayerHeader h = stored.getHeader();
                DType dtype = WireTensors.dtype(h.getDtype());
                QuantParams quant = h.getDtype() == DataType.FLOAT32 || h.getDtype() == DataType.FLOAT16
                        ? null
                        : WireTensors.quantParams(h.getDtype(), h.hasQuant() ? h.getQuant() : null);
                long offset = writer.resumeLayer(h.getName(), h.getOp(), WireTensors.shape(h), dtype, quant);
                if (offset > 0) {
                    resumed++;
                }
                String sha;
                try {
                    sha = client.pullLayer(runId, h, offset, chunkBytes, data -> {
                        int len = data.remaining();
                        if (data.hasArray()) {
                            writer.write(data.array(), data.arrayOffset() + data.position(), len);
                        } else {
                            for (int n; (n = Math.min(data.remaining(), copy.length)) > 0; ) {
                                data.get(copy, 0, n);
                                writer.write(copy, 0, n);
                            }
                        }
                        received[0] += len;
                        onBytes.accept(len);
                    });
                } catch (AgentException | RuntimeException e) {
                    writer.suspendLayer();
                    throw e;
                }
                if (!sha.equalsIgnoreCase(stored.getSha256()) || writer.endLayer(stored.getSha256()) == null) {
                    throw new AgentException(
                            AgentException.Code.CHECKSUM,
                            "layer '" + h.getName() + "' (#" + i
                                    + ") pulled from " + client.target()
                                    + " does not match the sha256 the agent stored ("
                                    + stored.getSha256()
                                    + "); its file was removed, so pulling again fetches it afresh",
                            null);
                }
            }
        }
        return new Result(run.getLayerListCount(), kept, resumed, received[0]);
    }

    private static void checkSameRun(RunInfo run, List<DumpManifest.Layer> have, Path dir) throws IOException {
        if (have.size() > run.getLayerListCount()) {
            throw new IOException(dir + " holds a dump of " + have.size() + " layers, run " + run.getRunId() + " has "
                    + run.getLayerListCount() + "; pull into an empty directory");
        }
        for (int i = 0; i < have.size(); i++) {
            StoredLayer s = run.getLayerList(i);
            DumpManifest.Layer l = have.get(i);
            if (!l.name().equals(s.getHeader().getName()) || !s.getSha256().equalsIgnoreCase(l.sha256())) {
                throw new IOException(dir + " holds another dump: its layer #" + i + " '" + l.name()
                        + "' differs from run " + run.getRunId() + "'s '"
                        + s.getHeader().getName()
                        + "'; pull into an empty directory");
            }
        }
    }
}
