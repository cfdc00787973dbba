package dev.layerprobe.host.analyze;

import dev.layerprobe.core.tensor.LayerValue;
import java.io.InterruptedIOException;
import java.util.HashMap;
import java.util.Map;

/**
 * The simulator's layers of one input as the program produces them, for the device's stream to
 * compare with while the program runs on: {@link #layer} waits until the simulator has produced the
 * layer, or has finished without it. Holds every layer until the input is done (the caller keeps an
 * input in memory only when its run fits, see {@link InputRun}). Thread-safe: one producer, any
 * number of readers.
 */
final class SimLayers implements LayerRanges {
    private final Map<String, LayerValue> values = new HashMap<>();
    private boolean finished;

    /** Publishes a layer's value; the program must not change it afterwards (it does not: outputs are fresh). */
    synchronized void put(String name, LayerValue v) {
        values.put(name, v);
        notifyAll();
    }

    /** No more layers will come (the program finished or failed). */
    synchronized void finish() {
        finished = true;
        notifyAll();
    }

    @Override
    public synchronized Range layer(String name) throws InterruptedIOException {
        while (!values.containsKey(name) && !finished) {
            try {
                wait();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted waiting for the simulator's layer '" + name + "'");
            }
        }
        LayerValue v = values.get(name);
        return v == null ? null : LayerRanges.of(v);
    }
}
