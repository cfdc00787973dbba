package dev.layerprobe.simulator;

import dev.layerprobe.core.LayerProbeException.Code;
import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.core.tensor.QTensor;
import dev.layerprobe.core.tensor.QuantParams;
import dev.layerprobe.core.tensor.Shapes;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Graph;
import dev.layerprobe.simulator.graph.ValueInfo;
import dev.layerprobe.simulator.ops.OpTraits;
import dev.layerprobe.simulator.profile.DeviceProfile;
import dev.layerprobe.simulator.profile.Fault;
import dev.layerprobe.simulator.profile.FaultKind;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * A compiled model: layers in execution order, each with its kernel, for one device profile.
 * A float program computes in float32; a quantized program (compiled from a QDQ model) holds
 * integer codes between NPU layers and quantizes its inputs on entry.
 *
 * <p>Immutable and thread-safe: several runs may proceed at once. A run keeps only the values
 * still needed by later layers, so memory stays bounded by the widest point of the network.
 */
public final class NpuProgram {
    private static final java.util.Set<String> CONTROL_FLOW = java.util.Set.of("If", "Loop", "Scan");
    private final String modelName;
    private final Graph graph;
    private final List<Layer> layers;
    private final List<LayerExec> execs;
    private final List<ValueInfo> inputs;
    private final List<String> outputs;
    private final Map<String, QuantParams> tensorQuant;
    private final DeviceProfile profile;
    private final boolean quantized;
    private final Map<String, Integer> lastUse;
    /** Layers inside an If branch, by name, to the If layer that runs them. */
    private final Map<String, String> branchOf;
    /** Per quantized layer, its binding again with given faults placed on it. */
    private final Map<String, Function<List<Fault>, LayerExec>> rebind;
    /** The layers inside If branches, by the tensor that carries their value. */
    private final Map<String, Layer> branchLayers;

    /** Built by the compiler ({@link Simulator#compile}); not meant to be called elsewhere. */
    public NpuProgram(
            String modelName,
            Graph graph,
            List<Layer> layers,
            List<LayerExec> execs,
            List<ValueInfo> inputs,
            List<String> outputs,
            Map<String, QuantParams> tensorQuant,
            DeviceProfile profile,
            boolean quantized) {
        this(modelName, graph, layers, execs, inputs, outputs, tensorQuant, profile, quantized, Map.of());
    }

    /**
     * Built by the compiler; {@code branchOf} maps each layer inside an If branch to the If layer
     * that runs it: the program does not run such a layer itself but reports its value when its
     * If runs that branch.
     */
    public NpuProgram(
            String modelName,
            Graph graph,
            List<Layer> layers,
            List<LayerExec> execs,
            List<ValueInfo> inputs,
            List<String> outputs,
            Map<String, QuantParams> tensorQuant,
            DeviceProfile profile,
            boolean quantized,
            Map<String, String> branchOf) {
        this(modelName, graph, layers, execs, inputs, outputs, tensorQuant, profile, quantized, branchOf, Map.of());
    }

    /**
     * Built by the compiler; {@code rebind} binds a layer of a quantized program again with faults
     * placed on it, exactly as a compile under a profile carrying them would
     * ({@link #runLayerWithFault}).
     */
    public NpuProgram(
            String modelName,
            Graph graph,
            List<Layer> layers,
            List<LayerExec> execs,
            List<ValueInfo> inputs,
            List<String> outputs,
            Map<String, QuantParams> tensorQuant,
            DeviceProfile profile,
            boolean quantized,
            Map<String, String> branchOf,
            Map<String, Function<List<Fault>, LayerExec>> rebind) {
        this.modelName = modelName;
        this.rebind = Map.copyOf(rebind);
        this.graph = graph;
        this.layers = List.copyOf(layers);
        this.execs = List.copyOf(execs);
        this.inputs = List.copyOf(inputs);
        this.outputs = List.copyOf(outputs);
        this.tensorQuant = Collections.unmodifiableMap(new HashMap<>(tensorQuant));
        this.profile = profile;
        this.quantized = quantized;
        this.branchOf = Map.copyOf(branchOf);
        Map<String, Layer> inner = new HashMap<>();
        Map<String, Integer> last = new HashMap<>();
        for (Layer l : layers) {
            if (branchOf.containsKey(l.name())) {
                inner.put(l.name(), l);
                continue;
            }
            for (String in : l.inputs()) {
                last.put(in, l.index());
            }
        }
        this.lastUse = last;
        this.branchLayers = Collections.unmodifiableMap(inner);
    }

    /**
     * The If layer whose branch holds this layer, if it is inside one: the program reports its value
     * only in runs that take its branch, and the golden reference has no value for it.
     */
    public Optional<String> branchOwner(String layerName) {
        return Optional.ofNullable(branchOf.get(layerName));
    }

    public String modelName() {
        return modelName;
    }

    /** Layers in execution order. */
    public List<Layer> layers() {
        return layers;
    }

    public Optional<Layer> layer(String name) {
        return layers.stream()
                .filter(l -> l.name().equals(name) || l.outputs().contains(name))
                .findFirst();
    }

    /** Graph inputs (shapes may hold -1 for dynamic dimensions). */
    public List<ValueInfo> inputs() {
        return inputs;
    }

    public List<String> outputs() {
        return outputs;
    }

    public boolean isQuantized() {
        return quantized;
    }

    public DeviceProfile profile() {
        return profile;
    }

    /**
     * The compiled graph after the compiler's passes (constants folded, BatchNorm folded, activations
     * fused, quantization removed). Read-only by contract: the quantizer reads it to write QDQ files.
     */
    public Graph graph() {
        return graph;
    }

    /** The quantization of an activation tensor (layer output or graph input), or null. */
    public QuantParams quantOf(String tensor) {
        return tensorQuant.get(tensor);
    }

    /**
     * Runs the whole program; the observer sees every layer's output as it is produced.
     *
     * @param feeds float tensors by graph input name
     * @return the graph outputs by name
     */
    public Map<String, LayerValue> run(Map<String, Tensor> feeds, LayerObserver observer) throws SimulatorException {
        Map<String, LayerValue> env = new HashMap<>();
        for (ValueInfo in : inputs) {
            Tensor t = feeds.get(in.name());
            if (t == null) {
                throw new SimulatorException(
                        Code.BAD_INPUT,
                        "missing input '" + in.name() + "', expected "
                                + inputs.stream().map(ValueInfo::name).toList());
            }
            checkShape(in, t);
            env.put(in.name(), entryValue(in.name(), t));
        }
        for (String name : feeds.keySet()) {
            if (inputs.stream().noneMatch(v -> v.name().equals(name))) {
                throw new SimulatorException(
                        Code.BAD_INPUT,
                        "unknown input '" + name + "', expected one of "
                                + inputs.stream().map(ValueInfo::name).toList());
            }
        }
        Map<String, LayerValue> result = new LinkedHashMap<>();
        for (Layer layer : layers) {
            if (branchOf.containsKey(layer.name())) {
                continue; // run, and reported, by its If
            }
            LayerValue[] args = new LayerValue[layer.inputs().size()];
            for (int i = 0; i < args.length; i++) {
                args[i] = env.get(layer.inputs().get(i));
            }
            LayerValue[] outs = execute(layer, args, observer);
            for (int i = 0; i < outs.length; i++) {
                env.put(layer.outputs().get(i), outs[i]);
            }
            observer.onLayer(layer, outs[0]);
            for (String in : layer.inputs()) {
                if (lastUse.get(in) == layer.index() && !outputs.contains(in)) {
                    env.remove(in);
                }
            }
        }
        for (String o : outputs) {
            LayerValue v = env.get(o);
            if (v == null) {
                throw new SimulatorException(Code.INVALID_MODEL, "graph output '" + o + "' was not computed");
            }
            result.put(o, v);
        }
        return result;
    }

    /**
     * Runs each layer alone on reference inputs (quantized to the layer's input quantization in a
     * quantized program): the error a layer introduces by itself. The observer sees each output.
     *
     * @param reference float values by tensor name: graph inputs and every layer input
     */
    public void runPerLayer(Function<String, Tensor> reference, LayerObserver observer) throws SimulatorException {
        for (Layer layer : layers) {
            if ((branchOf.containsKey(layer.name()) || CONTROL_FLOW.contains(layer.op()))
                    && layer.inputs().stream().anyMatch(n -> reference.apply(n) == null)) {
                // Golden holds no value inside a branch, nor the boolean condition of an If or Loop
                // (it keeps float values only): such a layer is not run alone.
                continue;
            }
            LayerValue[] args = new LayerValue[layer.inputs().size()];
            for (int i = 0; i < args.length; i++) {
                String name = layer.inputs().get(i);
                Tensor t = reference.apply(name);
                if (t == null) {
                    throw new SimulatorException(
                            Code.BAD_INPUT,
                            "no reference value for tensor '" + name + "' (input of layer '" + layer.name() + "')");
                }
                args[i] = entryValue(name, t);
            }
            observer.onLayer(layer, execute(layer, args)[0]);
        }
    }

    /**
     * Runs one layer on the given inputs (real values, quantized on entry in a quantized program):
     * device-side isolation of a layer.
     */
    public LayerValue runLayer(String layerName, Map<String, Tensor> layerInputs) throws SimulatorException {
        Layer layer = layer(layerName)
                .orElseThrow(() -> new SimulatorException(Code.BAD_INPUT, "unknown layer '" + layerName + "'"));
        return execute(layer, layerArgs(layer, layerInputs))[0];
    }

    /**
     * Runs one layer of a quantized program as an emulated device with a fault of this kind placed
     * on that layer computes it: the layer bound again with the fault, as a compile under such a
     * profile binds it, on inputs as {@link #runLayer} takes them. This program is not changed. A
     * layer the binding leaves on the CPU is computed without the fault, as on such a device.
     *
     * @throws SimulatorException when the layer is unknown, not a quantized layer, or of an op the
     *     fault does not apply to, or an input is missing
     */
    public LayerValue runLayerWithFault(String layerName, FaultKind kind, Map<String, Tensor> layerInputs)
            throws SimulatorException {
        Layer layer = layer(layerName)
                .orElseThrow(() -> new SimulatorException(Code.BAD_INPUT, "unknown layer '" + layerName + "'"));
        Function<List<Fault>, LayerExec> bind = rebind.get(layer.name());
        if (bind == null || !OpTraits.faultApplies(kind, layer.op())) {
            throw new SimulatorException(
                    Code.BAD_INPUT,
                    "fault " + kind.yamlName() + " cannot be placed on layer '" + layer.name() + "' (" + layer.op()
                            + (bind == null ? ", not a quantized layer)" : ")"));
        }
        LayerExec faulted = bind.apply(List.of(new Fault(kind, layer.name(), null)));
        return execute(layer, faulted, layerArgs(layer, layerInputs), null)[0];
    }

    /** The layer's inputs in its order, quantized on entry in a quantized program. */
    private LayerValue[] layerArgs(Layer layer, Map<String, Tensor> layerInputs) throws SimulatorException {
        String layerName = layer.name();
        LayerValue[] args = new LayerValue[layer.inputs().size()];
        for (int i = 0; i < args.length; i++) {
            String name = layer.inputs().get(i);
            Tensor t = layerInputs.get(name);
            if (t == null) {
                throw new SimulatorException(
                        Code.BAD_INPUT,
                        "layer '" + layerName + "' needs input '" + name + "', expected " + layer.inputs());
            }
            args[i] = entryValue(name, t);
        }
        return args;
    }

    private LayerValue entryValue(String tensor, Tensor t) {
        QuantParams q = quantized ? tensorQuant.get(tensor) : null;
        return q != null ? LayerValue.of(QTensor.quantize(t.toFloat(), q)) : LayerValue.of(t);
    }

    private LayerValue[] execute(Layer layer, LayerValue[] args) throws SimulatorException {
        return execute(layer, args, null);
    }

    /** Runs a layer; with an observer, the values of the If branch it takes are reported as their layers. */
    private LayerValue[] execute(Layer layer, LayerValue[] args, LayerObserver observer) throws SimulatorException {
        return execute(layer, execs.get(layer.index()), args, observer);
    }

    private LayerValue[] execute(Layer layer, LayerExec exec, LayerValue[] args, LayerObserver observer)
            throws SimulatorException {
        try {
            if (observer != null && !branchLayers.isEmpty()) {
                return exec.run(args, (name, v) -> {
                    Layer inner = branchLayers.get(name);
                    if (inner != null && layer.name().equals(branchOf.get(name))) {
                        observer.onLayer(inner, v);
                    }
                });
            }
            return exec.run(args);
        } catch (IllegalArgumentException | IllegalStateException | ArithmeticException | IndexOutOfBoundsException e) {
            throw new SimulatorException(
                    Code.INVALID_MODEL,
                    "layer '" + layer.name() + "' (" + layer.op() + ") failed: " + e.getMessage(),
                    e);
        }
    }

    private static void checkShape(ValueInfo in, Tensor t) throws SimulatorException {
        int[] want = in.shape();
        int[] got = t.shape();
        boolean ok = want.length == 0 || want.length == got.length;
        for (int i = 0; ok && i < want.length; i++) {
            ok = want[i] < 0 || want[i] == got[i];
        }
        if (!ok) {
            throw new SimulatorException(
                    Code.BAD_INPUT,
                    "input '" + in.name() + "' has shape " + Shapes.format(got) + ", the model expects "
                            + formatDims(want));
        }
    }

    private static String formatDims(int[] shape) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < shape.length; i++) {
            b.append(i > 0 ? "x" : "").append(shape[i] < 0 ? "?" : Integer.toString(shape[i]));
        }
        return b.toString();
    }

    @Override
    public String toString() {
        return "NpuProgram(" + modelName + ", " + layers.size() + " layers, " + (quantized ? "quantized" : "float")
                + ", " + profile.name() + ")";
    }

    static List<String> names(List<ValueInfo> v) {
        List<String> out = new ArrayList<>();
        v.forEach(x -> out.add(x.name()));
        return out;
    }

    static String shapeList(int[] s) {
        return Arrays.toString(s);
    }
}
