package dev.layerprobe.simulator.quant;

import dev.layerprobe.simulator.Layer;
import dev.layerprobe.simulator.LayerValue;
import dev.layerprobe.simulator.NpuProgram;
import dev.layerprobe.simulator.SimulatorException;
import dev.layerprobe.simulator.graph.ValueInfo;
import dev.layerprobe.simulator.tensor.Tensor;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.IntConsumer;

/**
 * Min/max calibration: the range of every activation tensor (graph inputs and layer outputs) over
 * a set of samples, run through a float program. Not thread-safe while collecting.
 */
public final class Calibration {
    private final Map<String, float[]> ranges = new LinkedHashMap<>();
    private int samples;

    /**
     * Runs every sample through the float program and records ranges.
     *
     * @param progress called with the number of samples done after each one
     */
    public static Calibration collect(NpuProgram floatProgram, Iterable<Map<String, Tensor>> samples,
            IntConsumer progress) throws SimulatorException {
        Calibration c = new Calibration();
        for (Map<String, Tensor> feeds : samples) {
            for (ValueInfo in : floatProgram.inputs()) {
                Tensor t = feeds.get(in.name());
                if (t != null) {
                    c.observe(in.name(), t);
                }
            }
            floatProgram.run(feeds, c::observeLayer);
            c.samples++;
            progress.accept(c.samples);
        }
        return c;
    }

    private void observeLayer(Layer layer, LayerValue value) {
        observe(layer.name(), value.real());
    }

    /** Widens the range of a tensor by the values of t. */
    public void observe(String tensor, Tensor t) {
        if (!t.isFloating()) {
            return; // shapes and indices are not quantized
        }
        float[] x = t.floats();
        float lo = Float.POSITIVE_INFINITY;
        float hi = Float.NEGATIVE_INFINITY;
        for (float v : x) {
            if (v < lo) {
                lo = v;
            }
            if (v > hi) {
                hi = v;
            }
        }
        float[] r = ranges.computeIfAbsent(tensor, k -> new float[] {Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY});
        r[0] = Math.min(r[0], lo);
        r[1] = Math.max(r[1], hi);
    }

    /** [min, max] of a tensor, or null if never observed. */
    public float[] range(String tensor) {
        float[] r = ranges.get(tensor);
        return r == null ? null : r.clone();
    }

    public Map<String, float[]> ranges() {
        return Collections.unmodifiableMap(ranges);
    }

    public int samples() {
        return samples;
    }
}
