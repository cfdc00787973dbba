package dev.layerprobe.host.analyze.bisect;

import dev.layerprobe.core.io.Sha256;
import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.host.client.AgentClient;
import dev.layerprobe.host.client.AgentException;
import dev.layerprobe.onnx.Onnx.GraphProto;
import dev.layerprobe.onnx.Onnx.ModelProto;
import dev.layerprobe.onnx.Onnx.NodeProto;
import dev.layerprobe.onnx.Onnx.ValueInfoProto;
import dev.layerprobe.proto.v1.DumpFormat;
import dev.layerprobe.simulator.CompileOptions;
import dev.layerprobe.simulator.Layer;
import dev.layerprobe.simulator.LayerObserver;
import dev.layerprobe.simulator.NpuProgram;
import dev.layerprobe.simulator.Simulator;
import dev.layerprobe.simulator.SimulatorException;
import dev.layerprobe.simulator.onnx.PrefixModels;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Runs prefix models ({@link PrefixModels#cut}) of one QDQ model on the device and on the host
 * simulator, for one input, and hands back both sides' value of every cut. The device gets each
 * prefix like any model: uploaded (content-addressed by its sha256), then run; a device that dumps
 * every layer streams them all and only the cuts are kept. The host compiles the same prefix with
 * the simulator's profile (its numerics, never the device's faults), so both sides compute the same
 * tensors and the host's value is exactly what the whole model's simulation gives there.
 *
 * <p>Results are cached by the prefix's sha256 for the life of the instance: the same cut never
 * costs a second device run. Not thread-safe.
 */
final class PrefixProbes {
    /** Both sides' values of a prefix's outputs, by layer name, and whether they came from the cache. */
    record Values(Map<String, LayerValue> simulator, Map<String, LayerValue> device, boolean cached) {}

    private final ModelProto model;
    private final String modelName;
    private final NpuProgram sim;
    private final AgentClient client;
    private final Map<String, Tensor> feed;
    private final Map<String, Values> cache = new HashMap<>();
    /** The values the model's main graph computes, the only ones a prefix can be cut at. */
    private final Set<String> computed = new HashSet<>();

    private int deviceRuns;

    /**
     * @param model the QDQ model the device runs, which {@code sim} was compiled from
     * @param feed the input, by graph input name
     */
    PrefixProbes(ModelProto model, String modelName, NpuProgram sim, AgentClient client, Map<String, Tensor> feed) {
        this.model = model;
        this.modelName = modelName;
        this.sim = sim;
        this.client = client;
        this.feed = feed;
        model.getGraph().getNodeList().forEach(n -> computed.addAll(n.getOutputList()));
    }

    /** The value to cut at to show a layer, or null when the model's graph has no such value. */
    String cutOf(Layer layer) {
        String cut = PrefixModels.layerCut(model, layer.name());
        return computed.contains(cut) ? cut : null;
    }

    /**
     * Runs (or finds in the cache) the prefix that shows {@code layers}, whose values are taken at
     * their cuts ({@link #cutOf}); both sides' values come back by layer name.
     */
    Values run(List<Layer> layers) throws AgentException, SimulatorException {
        Map<String, String> layerOfCut = new LinkedHashMap<>();
        for (Layer l : layers) {
            layerOfCut.putIfAbsent(cutOf(l), l.name());
        }
        ModelProto prefix = named(PrefixModels.cut(model, List.copyOf(layerOfCut.keySet())), layerOfCut);
        byte[] bytes = prefix.toByteArray();
        String hash = Sha256.hexOf(bytes);
        Values hit = cache.get(hash);
        if (hit != null) {
            return new Values(hit.simulator(), hit.device(), true);
        }
        String name = stem(modelName) + ".prefix-" + hash.substring(0, 12) + ".onnx";
        NpuProgram host = Simulator.compile(prefix, name, CompileOptions.of(sim.profile()));
        Map<String, LayerValue> outputs = host.run(feed, LayerObserver.NONE);
        Set<String> wanted = new HashSet<>(layerOfCut.values());
        Map<String, LayerValue> onHost = new LinkedHashMap<>();
        for (String l : wanted) {
            onHost.put(l, outputs.get(l));
        }
        String id = client.upload(bytes, name);
        deviceRuns++;
        Map<String, LayerValue> onDevice = new HashMap<>();
        client.run(id, feed, DumpFormat.NATIVE, (header, value) -> {
            if (wanted.contains(header.getName())) {
                onDevice.putIfAbsent(header.getName(), value);
            }
        });
        Set<String> missing = new HashSet<>(wanted);
        missing.removeAll(onDevice.keySet());
        if (!missing.isEmpty()) {
            throw new AgentException(
                    AgentException.Code.PROTOCOL,
                    "device at " + client.target() + " ran prefix model " + name + " but reported no value for "
                            + missing.stream().sorted().toList(),
                    null);
        }
        Values v = new Values(onHost, onDevice, false);
        cache.put(hash, v);
        return v;
    }

    /**
     * The prefix with each cut value renamed to its layer's name, and the layer's own value (which
     * the QuantizeLinear reads) renamed aside. A graph output names the layer that computes it, so
     * the device compiles the cut layer under the name it has in the whole model: faults placed on
     * it apply, and both sides report it under that name.
     */
    private static ModelProto named(ModelProto prefix, Map<String, String> layerOfCut) {
        Set<String> used = new HashSet<>();
        prefix.getGraph().getNodeList().forEach(n -> used.addAll(n.getOutputList()));
        Map<String, String> rename = new HashMap<>();
        layerOfCut.forEach((cut, layer) -> {
            if (!cut.equals(layer)) {
                String aside = layer + "_before_cut";
                while (used.contains(aside)) {
                    aside += "_";
                }
                used.add(aside);
                rename.put(layer, aside);
                rename.put(cut, layer);
            }
        });
        if (rename.isEmpty()) {
            return prefix;
        }
        GraphProto g = prefix.getGraph();
        GraphProto.Builder b = g.toBuilder().clearNode().clearOutput().clearValueInfo();
        for (NodeProto n : g.getNodeList()) {
            NodeProto.Builder nb = n.toBuilder().clearInput().clearOutput();
            n.getInputList().forEach(i -> nb.addInput(rename.getOrDefault(i, i)));
            n.getOutputList().forEach(o -> nb.addOutput(rename.getOrDefault(o, o)));
            b.addNode(nb);
        }
        for (ValueInfoProto v : g.getOutputList()) {
            b.addOutput(v.toBuilder().setName(rename.getOrDefault(v.getName(), v.getName())));
        }
        for (ValueInfoProto v : g.getValueInfoList()) {
            b.addValueInfo(v.toBuilder().setName(rename.getOrDefault(v.getName(), v.getName())));
        }
        return prefix.toBuilder().setGraph(b).build();
    }

    /** Prefix models uploaded and run on the device so far (cache hits excluded). */
    int deviceRuns() {
        return deviceRuns;
    }

    private static String stem(String name) {
        return name.endsWith(".onnx") ? name.substring(0, name.length() - 5) : name;
    }
}
