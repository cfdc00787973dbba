package dev.layerprobe.host.analyze;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;

/**
 * Keeps the inputs in flight adding to each layer's accumulators in input order, so that the pooled
 * sums, which depend on the order of their additions, come out the same whatever the timing. Each
 * layer has three columns of accumulators, each fed by one thread of an input in one stretch:
 * {@link Column#ENTIRE} (the whole program), {@link Column#PER_LAYER} (the layers alone) and
 * {@link Column#DEVICE} ({@code simu_err} and {@code golden_err}, added from a finished device run,
 * {@link DeviceResults}). Input
 * {@code k} {@link #enter}s a layer's column once input {@code k - 1} has {@link #leave}n it; leaving
 * closes the input on that column's accumulators ({@code Metrics.endInput}). An input that has no
 * data for a layer still passes it ({@link #leaveAll} after each of its stretches), so the next one
 * never waits for it. Thread-safe.
 */
final class InputOrder {
    enum Column {
        ENTIRE,
        PER_LAYER,
        DEVICE
    }

    private final Map<String, LayerComparison> byName;
    /** Per layer, per column: how many inputs have left it. */
    private final Map<String, EnumMap<Column, Integer>> left = new HashMap<>();

    private Throwable failed;

    InputOrder(Map<String, LayerComparison> byName) {
        this.byName = byName;
        for (String name : byName.keySet()) {
            EnumMap<Column, Integer> none = new EnumMap<>(Column.class);
            for (Column c : Column.values()) {
                none.put(c, 0);
            }
            left.put(name, none);
        }
    }

    /** Waits until every earlier input has left this layer's column. */
    synchronized void enter(int input, String layer, Column c) throws IOException {
        EnumMap<Column, Integer> l = left.get(layer);
        while (l.get(c) < input && failed == null) {
            try {
                wait();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted waiting for the inputs before " + input);
            }
        }
        if (failed != null) {
            throw new IOException("an earlier input failed: " + failed.getMessage(), failed);
        }
    }

    /** Closes {@code input} on this layer's column and lets the next input in; does nothing if it left already. */
    synchronized void leave(int input, String layer, Column c) {
        EnumMap<Column, Integer> l = left.get(layer);
        if (l.get(c) != input) {
            return;
        }
        byName.get(layer).endInput(c);
        l.put(c, input + 1);
        notifyAll();
    }

    /** Leaves every layer's column that {@code input} has not left yet, in the layers' order. */
    void leaveAll(int input, Column c) throws IOException {
        for (String layer : byName.keySet()) {
            enter(input, layer, c);
            leave(input, layer, c);
        }
    }

    /** Wakes every waiting input with a failure: an input failed, the analysis stops. */
    synchronized void fail(Throwable t) {
        if (failed == null) {
            failed = t;
        }
        notifyAll();
    }
}
