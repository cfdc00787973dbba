package dev.layerprobe.host.analyze;

import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.core.tensor.QTensor;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.host.compare.MetricResult;
import dev.layerprobe.host.compare.Metrics;
import dev.layerprobe.simulator.Layer;

/**
 * The four comparisons of one layer (docs/architecture.md#three-results-four-comparisons), accumulated over every input of an analysis:
 * {@code entire} and {@code per_layer} (golden vs simulator), {@code simu_err} (simulator vs
 * runtime, with integer codes compared where both sides share a quantization) and
 * {@code golden_err} (golden vs runtime). A column that never received data reports null.
 * Not thread-safe.
 */
final class LayerComparison {
    final Layer layer;
    private final double atol;
    private final double rtol;
    private Metrics entire;
    private Metrics perLayer;
    private Metrics simuErr;
    private Metrics goldenErr;
    private int[] shape;

    LayerComparison(Layer layer, double atol, double rtol) {
        this.layer = layer;
        this.atol = atol;
        this.rtol = rtol;
    }

    void addEntire(Tensor golden, LayerValue sim) {
        shape = sim.shape();
        entire = add(entire, golden, sim.real());
    }

    void addPerLayer(Tensor golden, LayerValue sim) {
        perLayer = add(perLayer, golden, sim.real());
    }

    void addGoldenErr(Tensor golden, LayerValue runtime) {
        if (shape == null) {
            shape = runtime.shape();
        }
        goldenErr = add(goldenErr, golden, runtime.real());
    }

    void addSimuErr(LayerValue sim, LayerValue runtime) {
        if (shape == null) {
            shape = runtime.shape();
        }
        if (simuErr == null) {
            simuErr = new Metrics(atol, rtol);
        }
        float[] a = sim.real().floats();
        float[] b = runtime.real().floats();
        if (a.length != b.length) {
            throw new IllegalStateException(
                    "layer '" + layer.name() + "': simulator has " + a.length + " values, the device sent " + b.length);
        }
        simuErr.add(a, b);
        QTensor qa = sim.codes();
        QTensor qb = runtime.codes();
        if (qa != null && qb != null && qa.params().sameMapping(qb.params())) {
            simuErr.addCodes(qa.codes(), qb.codes(), 0, qa.size());
        }
    }

    private Metrics add(Metrics m, Tensor golden, Tensor other) {
        if (golden == null || !golden.isFloating()) {
            return m;
        }
        float[] a = golden.floats();
        float[] b = other.floats();
        if (a.length != b.length) {
            throw new IllegalStateException(
                    "layer '" + layer.name() + "': reference has " + a.length + " values, the other side " + b.length);
        }
        Metrics r = m == null ? new Metrics(atol, rtol) : m;
        r.add(a, b);
        return r;
    }

    /**
     * Marks the end of one input on one column's accumulators ({@link InputOrder}): each keeps that
     * input's own cos for the mean and worst.
     */
    void endInput(InputOrder.Column column) {
        Metrics[] ms = switch (column) {
            case ENTIRE -> new Metrics[] {entire};
            case PER_LAYER -> new Metrics[] {perLayer};
            case DEVICE -> new Metrics[] {simuErr, goldenErr};
        };
        for (Metrics m : ms) {
            if (m != null) {
                m.endInput();
            }
        }
    }

    /** Records the layer's output shape as the simulator produced it. */
    void setShape(int[] shape) {
        this.shape = shape;
    }

    // The accumulators themselves, for callers that stream a layer in chunks rather than hand it whole.

    Metrics entireMetrics() {
        if (entire == null) {
            entire = new Metrics(atol, rtol);
        }
        return entire;
    }

    Metrics perLayerMetrics() {
        if (perLayer == null) {
            perLayer = new Metrics(atol, rtol);
        }
        return perLayer;
    }

    Metrics simuErrMetrics() {
        if (simuErr == null) {
            simuErr = new Metrics(atol, rtol);
        }
        return simuErr;
    }

    /** A fresh {@link Metrics#recording} accumulator with this layer's tolerances, for a run held apart ({@link DeviceResults}). */
    Metrics newRecording() {
        return Metrics.recording(atol, rtol);
    }

    Metrics goldenErrMetrics() {
        if (goldenErr == null) {
            goldenErr = new Metrics(atol, rtol);
        }
        return goldenErr;
    }

    /** The layer's output shape as the simulator produced it, or null before any run. */
    int[] shape() {
        return shape;
    }

    MetricResult entire() {
        return entire == null ? null : entire.result();
    }

    MetricResult perLayer() {
        return perLayer == null ? null : perLayer.result();
    }

    MetricResult simuErr() {
        return simuErr == null ? null : simuErr.result();
    }

    MetricResult goldenErr() {
        return goldenErr == null ? null : goldenErr.result();
    }
}
