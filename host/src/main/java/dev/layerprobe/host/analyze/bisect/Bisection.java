package dev.layerprobe.host.analyze.bisect;

import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.host.client.AgentClient;
import dev.layerprobe.host.client.AgentException;
import dev.layerprobe.host.compare.MetricResult;
import dev.layerprobe.host.report.Report;
import dev.layerprobe.onnx.Onnx.ModelProto;
import dev.layerprobe.simulator.Layer;
import dev.layerprobe.simulator.NpuProgram;
import dev.layerprobe.simulator.SimulatorException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Finds the first layer a device computes differently from the simulator without the device's
 * layer dumps: a binary search over the layers in execution order, each step running a prefix of
 * the quantized model on the device ({@link PrefixProbes}) and comparing its outputs with the
 * simulator's values of the same tensors.
 *
 * <p>The prefix after layer {@code i} outputs its <em>frontier</em>: every value computed by layers
 * {@code 0..i} that a later layer still reads, or that is a graph output. On the dominator chain of
 * the graph (between residual blocks) that is the one value of layer {@code i}; inside a branch it
 * is the branch's value and the values the rest of the block reads besides (the skip connection),
 * since a single value there does not stand for everything computed so far. "Some value of the
 * frontier after {@code i} departs" then holds from the first faulty layer on, so a binary search
 * applies: it keeps a position whose frontier matches ({@code -1}, the inputs, at the start) and
 * one whose frontier departs (the last layer, shown by the whole model's run), and halves the
 * distance with each probe. Where they meet, the layer after the matching position departs while
 * every value it reads (all in the matching frontier) matches: it is the root cause, whatever the
 * graph. That takes at most ⌈log2(layers)⌉ probes.
 *
 * <p>Layers the model's graph cannot be cut after (inside a control-flow branch, or values the
 * compiler made) are not probed; the search steps over them. Not thread-safe; one search per
 * instance.
 */
public final class Bisection {
    /** How the probes' values are judged: simu_err's comparison and its notion of a match. */
    public interface Judge {
        /** The metrics of a device value against the simulator's value of the same tensor. */
        MetricResult compare(Layer layer, LayerValue simulator, LayerValue device);

        /** Whether metrics from {@link #compare} mean that the device computes the value as the simulator does. */
        boolean matches(MetricResult m);
    }

    /**
     * What the search found.
     *
     * @param layer the first layer that departs while every value it reads matches, or null when the
     *     device's outputs match the simulator
     * @param metric that layer's value on the device against the simulator, or null with it
     * @param probes every probe in the order they ran, the whole model's run first
     * @param prefixRuns prefix models uploaded and run on the device (cached probes excluded)
     */
    public record Outcome(Layer layer, MetricResult metric, List<Report.Probe> probes, int prefixRuns) {
        public Outcome {
            probes = List.copyOf(probes);
        }
    }

    private final PrefixProbes probes;
    private final Judge judge;
    /** The layers that can be cut after, in execution order. */
    private final List<Layer> layers = new ArrayList<>();
    /** Per layer (by position in {@link #layers}), the last position that reads it; MAX_VALUE for an output. */
    private final int[] lastRead;

    /**
     * @param model the QDQ model the device runs
     * @param sim the host simulator's program of {@code model} (the device's numerics, without its faults)
     * @param feed the input the probes run on, by graph input name
     */
    public Bisection(
            ModelProto model,
            String modelName,
            NpuProgram sim,
            AgentClient client,
            Map<String, Tensor> feed,
            Judge judge) {
        this.judge = judge;
        this.probes = new PrefixProbes(model, modelName, sim, client, feed);
        for (Layer l : sim.layers()) {
            if (sim.branchOwner(l.name()).isEmpty() && probes.cutOf(l) != null) {
                layers.add(l);
            }
        }
        Map<String, Integer> producer = new HashMap<>();
        lastRead = new int[layers.size()];
        for (int i = 0; i < layers.size(); i++) {
            Layer l = layers.get(i);
            lastRead[i] = i;
            producer.put(l.name(), i);
            for (String o : l.outputs()) {
                producer.put(o, i);
            }
            if (sim.outputs().contains(l.name()) || l.outputs().stream().anyMatch(sim.outputs()::contains)) {
                lastRead[i] = Integer.MAX_VALUE;
            }
        }
        for (int k = 0; k < layers.size(); k++) {
            for (String in : layers.get(k).inputs()) {
                Integer j = producer.get(in);
                if (j != null && lastRead[j] != Integer.MAX_VALUE) {
                    lastRead[j] = Math.max(lastRead[j], k);
                }
            }
        }
    }

    /** The most probes a search of this model takes: ⌈log2(layers)⌉. */
    public int maxProbes() {
        return layers.size() <= 1 ? 0 : 32 - Integer.numberOfLeadingZeros(layers.size() - 1);
    }

    /**
     * Searches.
     *
     * @param whole the whole model's run on the device for the same input, by layer name (at least
     *     the layers that compute the graph's outputs); null or incomplete to have the last position
     *     probed with a prefix model instead
     */
    public Outcome search(Map<String, MetricResult> whole) throws AgentException, SimulatorException {
        List<Report.Probe> done = new ArrayList<>();
        int hi = layers.size() - 1;
        if (hi < 0) {
            return new Outcome(null, null, done, 0);
        }
        Map<String, MetricResult> top = fromWholeRun(hi, whole);
        if (top != null) {
            done.add(record(hi, top, Report.Probe.WHOLE_MODEL));
        } else {
            Probed p = probe(hi);
            done.add(p.record);
            top = p.metrics;
        }
        if (!departs(top)) {
            return new Outcome(null, null, done, probes.deviceRuns());
        }
        Map<String, MetricResult> atHi = top;
        int lo = -1;
        while (hi - lo > 1) {
            int mid = (lo + hi) >>> 1;
            Probed p = probe(mid);
            done.add(p.record);
            if (departs(p.metrics)) {
                hi = mid;
                atHi = p.metrics;
            } else {
                lo = mid;
            }
        }
        Layer found = layers.get(hi);
        return new Outcome(found, atHi.get(found.name()), done, probes.deviceRuns());
    }

    /** The frontier after position {@code i}: the layers among {@code 0..i} read after it, or outputs. */
    private List<Layer> frontier(int i) {
        List<Layer> f = new ArrayList<>();
        for (int j = 0; j <= i; j++) {
            if (lastRead[j] > i || j == i) {
                f.add(layers.get(j));
            }
        }
        return f;
    }

    private record Probed(Map<String, MetricResult> metrics, Report.Probe record) {}

    private Probed probe(int i) throws AgentException, SimulatorException {
        List<Layer> f = frontier(i);
        PrefixProbes.Values v = probes.run(f);
        Map<String, MetricResult> metrics = new LinkedHashMap<>();
        for (Layer l : f) {
            metrics.put(
                    l.name(),
                    judge.compare(l, v.simulator().get(l.name()), v.device().get(l.name())));
        }
        return new Probed(metrics, record(i, metrics, v.cached() ? Report.Probe.CACHE : Report.Probe.PREFIX_MODEL));
    }

    /** The whole run's metrics of the frontier after {@code i}, or null when it lacks one of them. */
    private Map<String, MetricResult> fromWholeRun(int i, Map<String, MetricResult> whole) {
        if (whole == null) {
            return null;
        }
        Map<String, MetricResult> m = new LinkedHashMap<>();
        for (Layer l : frontier(i)) {
            MetricResult r = whole.get(l.name());
            if (r == null) {
                return null;
            }
            m.put(l.name(), r);
        }
        return m;
    }

    private boolean departs(Map<String, MetricResult> metrics) {
        return metrics.values().stream().anyMatch(m -> !judge.matches(m));
    }

    private Report.Probe record(int i, Map<String, MetricResult> metrics, String source) {
        String worst = null;
        double cos = Double.POSITIVE_INFINITY;
        for (var e : metrics.entrySet()) {
            boolean off = !judge.matches(e.getValue());
            // The departing value first, then the lowest cosine.
            double key = e.getValue().cos() - (off ? 10 : 0);
            if (worst == null || key < cos) {
                worst = e.getKey();
                cos = key;
            }
        }
        MetricResult w = metrics.get(worst);
        Layer at = layers.get(i);
        return new Report.Probe(
                at.name(),
                at.opLabel(),
                metrics.size(),
                worst,
                w.cos(),
                departs(metrics) ? "departs" : "matches",
                source);
    }
}
