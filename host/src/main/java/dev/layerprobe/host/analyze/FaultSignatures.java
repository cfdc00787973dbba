package dev.layerprobe.host.analyze;

import dev.layerprobe.core.tensor.Channels;
import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.core.tensor.QTensor;
import dev.layerprobe.core.tensor.QuantParams;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.Layer;
import dev.layerprobe.simulator.NpuProgram;
import dev.layerprobe.simulator.Placement;
import dev.layerprobe.simulator.graph.Attribute;
import dev.layerprobe.simulator.graph.Node;
import dev.layerprobe.simulator.kernels.FloatKernels;
import dev.layerprobe.simulator.kernels.quantized.QSoftmax;
import dev.layerprobe.simulator.profile.FaultKind;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Recognises the signature of a device fault (docs/architecture.md#device-profiles-and-faults) from one layer run alone on the device
 * and on the simulator with identical inputs: the plain-words pattern that the difference between
 * the two outputs follows. Each check is a heuristic over the codes (or the real values for a float
 * layer); the first that fits wins. Never throws: an unrecognised difference gives empty.
 */
final class FaultSignatures {
    /** Fraction of (unsaturated) elements that must follow a pattern. */
    private static final double MOST = 0.95;

    private static final int COARSE_LUT_CODES = 16;

    private FaultSignatures() {}

    static Optional<String> recognise(
            Layer layer, Map<String, Tensor> inputs, LayerValue simValue, LayerValue device, NpuProgram program) {
        try {
            return Optional.ofNullable(recogniseOrNull(layer, inputs, simValue, device, program));
        } catch (RuntimeException | dev.layerprobe.simulator.SimulatorException e) {
            return Optional.empty();
        }
    }

    private static String recogniseOrNull(
            Layer layer, Map<String, Tensor> inputs, LayerValue simValue, LayerValue device, NpuProgram program)
            throws dev.layerprobe.simulator.SimulatorException {
        if (!Arrays.equals(simValue.shape(), device.shape())) {
            return null;
        }
        if (layer.op().equals("DepthToSpace")) {
            String d2s = depthToSpace(layer, inputs, device, program);
            if (d2s != null) {
                return d2s;
            }
        }
        if (layer.op().equals("Softmax") && softmaxWithoutMax(layer, inputs, device, program)) {
            return "output equals a Softmax that does not subtract the row maximum: the exponent of the raw"
                    + " codes saturates, so a row's largest logits share the probability evenly";
        }
        if (layer.op().equals("MatMul")
                && reproducedWithFault(FaultKind.MATMUL_TRANSPOSE_B, layer, inputs, device, program)) {
            return "output equals the MatMul with B read transposed (layout bug): the device read B's [K, N]"
                    + " buffer as if it held Bᵀ";
        }
        if ((layer.op().equals("LSTM") || layer.op().equals("GRU"))
                && reproducedWithFault(FaultKind.RNN_GATE_ORDER, layer, inputs, device, program)) {
            return "output equals the recurrent layer with its gates read in PyTorch order (i,f,g,o / r,z,n)"
                    + " instead of ONNX order (i,o,f,c / z,r,h)";
        }
        if (channelsSwapped(layer, inputs, device, program)) {
            return layer.index() == 0
                    ? "first layer matches golden with channels swapped: the device read this"
                            + " layer's input with its channels reversed (RGB read as BGR)"
                    : "the device read this layer's input with its channels reversed";
        }
        QTensor s = simValue.codes();
        QTensor d = device.codes();
        if (s == null || d == null || !s.params().sameMapping(d.params())) {
            return null;
        }
        if (distinct(d.codes()) <= COARSE_LUT_CODES && distinct(s.codes()) > COARSE_LUT_CODES) {
            return String.format(
                    Locale.ROOT,
                    "at most %d distinct output codes: a coarse lookup table (the device's has %d"
                            + " distinct codes, the simulator's %d)",
                    COARSE_LUT_CODES,
                    distinct(d.codes()),
                    distinct(s.codes()));
        }
        String half = factorOfTwo(s, d);
        if (half != null) {
            return half;
        }
        String offset = constantOffset(s, d);
        if (offset != null) {
            return offset;
        }
        return wrapAround(s, d);
    }

    /** Device output against DepthToSpace of the input in the other mode. */
    private static String depthToSpace(Layer layer, Map<String, Tensor> inputs, LayerValue device, NpuProgram program) {
        Node node = null;
        for (Node n : program.graph().nodes()) {
            if (n.opType().equals("DepthToSpace") && n.outputs().contains(layer.name())) {
                node = n;
            }
        }
        if (node == null
                || layer.inputs().isEmpty()
                || !inputs.containsKey(layer.inputs().get(0))) {
            return null;
        }
        String mode = node.attrString("mode", "DCR");
        String other = mode.equals("DCR") ? "CRD" : "DCR";
        Node copy = new Node(
                node.name(),
                node.opType(),
                node.domain(),
                node.inputs(),
                node.outputs(),
                new LinkedHashMap<>(node.attributes()));
        copy.attributes().put("mode", Attribute.ofString(other));
        Tensor x = inputs.get(layer.inputs().get(0)).toFloat();
        QuantParams xq = program.isQuantized() ? program.quantOf(layer.inputs().get(0)) : null;
        if (xq != null) {
            x = QTensor.quantize(x, xq).dequantize();
        }
        Tensor y = FloatKernels.create(copy, program.graph().opset()).run(new Tensor[] {x})[0];
        if (!agrees(y, device)) {
            return null;
        }
        return "output equals the " + other + " reading of a " + mode + " DepthToSpace: the device uses the other"
                + " DepthToSpace mode";
    }

    /** The integer Softmax without the row maximum subtracted reproduces the device output. */
    private static boolean softmaxWithoutMax(
            Layer layer, Map<String, Tensor> inputs, LayerValue device, NpuProgram program) {
        if (!program.isQuantized() || layer.inputs().isEmpty() || layer.outputQuant() == null) {
            return false;
        }
        String in = layer.inputs().get(0);
        QuantParams xq = program.quantOf(in);
        Tensor x = inputs.get(in);
        Node node = null;
        for (Node n : program.graph().nodes()) {
            if (n.opType().equals("Softmax") && n.outputs().contains(layer.name())) {
                node = n;
            }
        }
        if (xq == null || x == null || node == null || !xq.isPerTensor()) {
            return false;
        }
        Long axis = node.attr("axis") == null ? null : node.attrInt("axis", 0);
        QSoftmax faulted = new QSoftmax(
                xq,
                layer.outputQuant(),
                program.graph().opset(),
                axis,
                program.profile().requant(),
                true);
        QTensor y = faulted.run(QTensor.quantize(x.toFloat(), xq));
        return agrees(LayerValue.of(y), device);
    }

    /**
     * The layer bound again with a fault of this kind, as a device carrying it computes the layer
     * (the integer kernel the compiler binds, fed the same inputs), reproduces the device output.
     */
    private static boolean reproducedWithFault(
            FaultKind kind, Layer layer, Map<String, Tensor> inputs, LayerValue device, NpuProgram program)
            throws dev.layerprobe.simulator.SimulatorException {
        return program.isQuantized()
                && layer.placement() == Placement.NPU
                && agrees(program.runLayerWithFault(layer.name(), kind, inputs), device);
    }

    /** The simulator fed the first input with axis 1 reversed reproduces the device output. */
    private static boolean channelsSwapped(
            Layer layer, Map<String, Tensor> inputs, LayerValue device, NpuProgram program)
            throws dev.layerprobe.simulator.SimulatorException {
        if (layer.inputs().isEmpty()) {
            return false;
        }
        String first = layer.inputs().get(0);
        Tensor x = inputs.get(first);
        if (x == null || x.rank() < 2 || x.dim(1) < 2 || !x.isFloating()) {
            return false;
        }
        Map<String, Tensor> swapped = new HashMap<>(inputs);
        swapped.put(first, Channels.reverse(x));
        return agrees(program.runLayer(layer.name(), swapped), device);
    }

    /** Equal within one code (quantized) or a tiny relative tolerance (float), on ≥ 99% of elements. */
    private static boolean agrees(LayerValue expected, LayerValue device) {
        if (expected.isQuantized()
                && device.isQuantized()
                && expected.codes().params().sameMapping(device.codes().params())) {
            int[] a = expected.codes().codes();
            int[] b = device.codes().codes();
            return Arrays.equals(expected.shape(), device.shape()) && fractionWithin(a, b, 1) >= 0.99;
        }
        return agrees(expected.real(), device);
    }

    private static boolean agrees(Tensor expected, LayerValue device) {
        Tensor got = device.real();
        if (!Arrays.equals(expected.shape(), got.shape())) {
            return false;
        }
        double tol = 1e-5;
        if (device.isQuantized() && device.codes().params().isPerTensor()) {
            tol = device.codes().params().scale(0) * 1.01;
        }
        float[] a = expected.toFloat().floats();
        float[] b = got.floats();
        double maxAbs = 0;
        for (float v : a) {
            maxAbs = Math.max(maxAbs, Math.abs(v));
        }
        int ok = 0;
        for (int i = 0; i < a.length; i++) {
            if (Math.abs(a[i] - b[i]) <= tol + 1e-5 * maxAbs) {
                ok++;
            }
        }
        return a.length > 0 && ok >= 0.99 * a.length;
    }

    private static double fractionWithin(int[] a, int[] b, int lsb) {
        int ok = 0;
        for (int i = 0; i < a.length; i++) {
            if (Math.abs(a[i] - b[i]) <= lsb) {
                ok++;
            }
        }
        return a.length == 0 ? 0 : (double) ok / a.length;
    }

    private static int distinct(int[] codes) {
        Set<Integer> s = new HashSet<>();
        for (int c : codes) {
            s.add(c);
            if (s.size() > 256) {
                break;
            }
        }
        return s.size();
    }

    /** The zero point of element i (per-tensor or per-channel along the params' axis). */
    private static long zp(QTensor q, int i) {
        QuantParams p = q.params();
        if (p.isPerTensor()) {
            return p.zeroPoint(0);
        }
        return p.zeroPoint(channel(q.shape(), p.axis(), i));
    }

    private static int channel(int[] shape, int axis, int i) {
        int inner = 1;
        for (int k = axis + 1; k < shape.length; k++) {
            inner *= shape[k];
        }
        return (i / inner) % shape[axis];
    }

    /** Elements where neither side sits at a clamp (the smallest or largest code either side produced). */
    private static boolean[] unsaturated(int[] s, int[] d) {
        int sMin = Integer.MAX_VALUE;
        int sMax = Integer.MIN_VALUE;
        int dMin = Integer.MAX_VALUE;
        int dMax = Integer.MIN_VALUE;
        for (int i = 0; i < s.length; i++) {
            sMin = Math.min(sMin, s[i]);
            sMax = Math.max(sMax, s[i]);
            dMin = Math.min(dMin, d[i]);
            dMax = Math.max(dMax, d[i]);
        }
        boolean[] u = new boolean[s.length];
        for (int i = 0; i < s.length; i++) {
            u[i] = s[i] != sMin && s[i] != sMax && d[i] != dMin && d[i] != dMax;
        }
        return u;
    }

    /** (device - zp) ≈ (sim - zp) / 2 or * 2 within one code. */
    private static String factorOfTwo(QTensor sq, QTensor dq) {
        int[] s = sq.codes();
        int[] d = dq.codes();
        boolean[] u = unsaturated(s, d);
        int n = 0;
        int halved = 0;
        int doubled = 0;
        int moved = 0;
        for (int i = 0; i < s.length; i++) {
            if (!u[i]) {
                continue;
            }
            long z = zp(sq, i);
            double a = s[i] - z;
            double b = d[i] - z;
            n++;
            if (Math.abs(b - a / 2) <= 1) {
                halved++;
            }
            if (Math.abs(b - a * 2) <= 1) {
                doubled++;
            }
            if (Math.abs(a) >= 4) {
                moved++;
            }
        }
        if (n == 0 || moved < 0.1 * n) {
            return null;
        }
        if (halved >= MOST * n) {
            return "values off by a factor of 2: requantization shift one bit too far (the device's output is half"
                    + " the simulator's)";
        }
        if (doubled >= MOST * n) {
            return "values off by a factor of 2: requantization shift one bit short (the device's output is twice"
                    + " the simulator's)";
        }
        return null;
    }

    /** device - sim constant (within one code) over each output channel (axis 1), nonzero for some. */
    private static String constantOffset(QTensor sq, QTensor dq) {
        int[] shape = sq.shape();
        if (shape.length < 2) {
            return null;
        }
        int[] s = sq.codes();
        int[] d = dq.codes();
        boolean[] u = unsaturated(s, d);
        int channels = shape[1];
        Map<Integer, Map<Integer, Integer>> hist = new HashMap<>();
        for (int i = 0; i < s.length; i++) {
            if (u[i]) {
                hist.computeIfAbsent(channel(shape, 1, i), k -> new HashMap<>()).merge(d[i] - s[i], 1, Integer::sum);
            }
        }
        int[] mode = new int[channels];
        for (Map.Entry<Integer, Map<Integer, Integer>> e : hist.entrySet()) {
            mode[e.getKey()] = e.getValue().entrySet().stream()
                    .max(Map.Entry.comparingByValue())
                    .orElseThrow()
                    .getKey();
        }
        int n = 0;
        int ok = 0;
        int offsetChannels = 0;
        for (int c = 0; c < channels; c++) {
            if (Math.abs(mode[c]) > 1) {
                offsetChannels++;
            }
        }
        for (int i = 0; i < s.length; i++) {
            if (u[i]) {
                n++;
                if (Math.abs(d[i] - s[i] - mode[channel(shape, 1, i)]) <= 1) {
                    ok++;
                }
            }
        }
        if (n == 0 || offsetChannels == 0 || ok < MOST * n) {
            return null;
        }
        return String.format(
                Locale.ROOT,
                "constant offset per channel: bias missing (or input zero point ignored); %d of %d"
                        + " output channels shifted by a constant number of codes",
                offsetChannels,
                channels);
    }

    /** Most codes equal; the differing ones are those farthest from the zero point. */
    private static String wrapAround(QTensor sq, QTensor dq) {
        int[] s = sq.codes();
        int[] d = dq.codes();
        int differ = 0;
        double[] mag = new double[s.length];
        for (int i = 0; i < s.length; i++) {
            mag[i] = Math.abs(s[i] - zp(sq, i));
            if (s[i] != d[i]) {
                differ++;
            }
        }
        if (differ == 0 || differ > s.length / 2) {
            return null;
        }
        double[] sorted = mag.clone();
        Arrays.sort(sorted);
        double threshold = sorted[Math.max(0, s.length - differ - 1)];
        int large = 0;
        int bigJumps = 0;
        for (int i = 0; i < s.length; i++) {
            if (s[i] != d[i]) {
                if (mag[i] >= threshold) {
                    large++;
                }
                if (Math.abs(s[i] - d[i]) > 1) {
                    bigJumps++;
                }
            }
        }
        if (large < 0.8 * differ || bigJumps < 0.5 * differ) {
            return null;
        }
        return String.format(
                Locale.ROOT,
                "wrap-around at ±32768: accumulator overflow (%.1f%% of codes differ, those with the"
                        + " largest magnitudes, by large jumps)",
                100.0 * differ / s.length);
    }
}
