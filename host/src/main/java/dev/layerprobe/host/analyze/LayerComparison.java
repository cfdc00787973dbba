package dev.layerprobe.host.analyze;

import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.core.tensor.QTensor;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.host.compare.MetricResult;
import dev.layerprobe.host.compare.Metrics;
import dev.layerprobe.simulator.Layer;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;

/**
 * The four comparisons of one layer (docs/architecture.md#three-results-four-comparisons), accumulated over every input of an analysis:
 * {@code entire} and {@code per_layer} (golden vs simulator), {@code simu_err} (simulator vs
 * runtime, with integer codes compared where both sides share a quantization) and
 * {@code golden_err} (golden vs runtime). A column that never received data reports null.
 * One instance holds either one input's comparison (each column written by one thread) or the
 * pool of several ({@link #addInput}). Not thread-safe.
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
     * Pools one input's own comparison of this layer ({@link Metrics#addInput}); inputs must be
     * pooled in input order for the result not to depend on timing.
     */
    void addInput(LayerComparison in) {
        if (in.shape != null) {
            shape = in.shape;
        }
        entire = pool(entire, in.entire);
        perLayer = pool(perLayer, in.perLayer);
        simuErr = pool(simuErr, in.simuErr);
        goldenErr = pool(goldenErr, in.goldenErr);
    }

    private Metrics pool(Metrics into, Metrics in) {
        if (in == null) {
            return into;
        }
        return (into == null ? new Metrics(atol, rtol) : into).addInput(in);
    }

    /** Writes one input's comparison of this layer: its shape and the sums of each column it has. */
    void write(DataOutput out) throws IOException {
        out.writeInt(shape == null ? -1 : shape.length);
        if (shape != null) {
            for (int d : shape) {
                out.writeInt(d);
            }
        }
        for (Metrics m : new Metrics[] {entire, perLayer, simuErr, goldenErr}) {
            out.writeBoolean(m != null);
            if (m != null) {
                m.write(out);
            }
        }
    }

    /** Reads what {@link #write} wrote into this (fresh) comparison. */
    void read(DataInput in) throws IOException {
        int rank = in.readInt();
        if (rank >= 0) {
            shape = new int[rank];
            for (int i = 0; i < rank; i++) {
                shape[i] = in.readInt();
            }
        }
        entire = in.readBoolean() ? Metrics.read(in) : null;
        perLayer = in.readBoolean() ? Metrics.read(in) : null;
        simuErr = in.readBoolean() ? Metrics.read(in) : null;
        goldenErr = in.readBoolean() ? Metrics.read(in) : null;
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

    /**
     * Forgets this input's device columns: its device run was lost halfway and starts again on
     * another device, whose stream then fills them from the start.
     */
    void clearDevice() {
        simuErr = null;
        goldenErr = null;
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
