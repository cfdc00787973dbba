package dev.layerprobe.host.analyze;

import dev.layerprobe.host.compare.Metrics;
import java.io.IOException;
import java.util.HashMap;
import java.util.Map;

/**
 * One input's device columns ({@code simu_err}, {@code golden_err}) from one device run, held apart
 * from the rows until the run has finished: a run that fails halfway (its device lost) leaves
 * nothing in the rows, and the input runs again on another device. {@link #addTo} then adds them to
 * the rows in input order, chunk by chunk as they came ({@link Metrics#replayInto}), so the pooled
 * statistics are bit for bit those of adding the stream directly, whichever device ran which input.
 * Not thread-safe: filled by the thread of the device's stream, then added by one thread.
 */
final class DeviceResults {
    private final Map<String, LayerComparison> byName;
    private final Map<String, Metrics> simuErr = new HashMap<>();
    private final Map<String, Metrics> goldenErr = new HashMap<>();

    /** @param byName the rows, whose tolerances the run's accumulators take */
    DeviceResults(Map<String, LayerComparison> byName) {
        this.byName = byName;
    }

    /** The layer's {@code simu_err} of this run (created on first use, as the row's would be). */
    Metrics simuErr(String layer) {
        return simuErr.computeIfAbsent(layer, k -> byName.get(k).newRecording());
    }

    /** The layer's {@code golden_err} of this run. */
    Metrics goldenErr(String layer) {
        return goldenErr.computeIfAbsent(layer, k -> byName.get(k).newRecording());
    }

    /**
     * Adds this run to the rows' device columns, layer by layer in the rows' order, each once every
     * earlier input has left it, and closes the input there.
     */
    void addTo(InputOrder order, int input) throws IOException {
        for (Map.Entry<String, LayerComparison> e : byName.entrySet()) {
            String layer = e.getKey();
            order.enter(input, layer, InputOrder.Column.DEVICE);
            Metrics s = simuErr.get(layer);
            if (s != null) {
                s.replayInto(e.getValue().simuErrMetrics());
            }
            Metrics g = goldenErr.get(layer);
            if (g != null) {
                g.replayInto(e.getValue().goldenErrMetrics());
            }
            order.leave(input, layer, InputOrder.Column.DEVICE);
        }
    }
}
