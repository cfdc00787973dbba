package dev.layerprobe.agent.service;

import dev.layerprobe.core.LayerProbeException;
import dev.layerprobe.core.LayerProbeException.Code;
import dev.layerprobe.core.tensor.Shapes;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.proto.v1.DataType;
import dev.layerprobe.simulator.graph.ValueInfo;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns the wire's input tensors (float32, little-endian, C order; see tensor.proto) into simulator
 * tensors and checks them against a model's inputs. Errors are {@link LayerProbeException}s with
 * code {@code BAD_INPUT} that name the input and what was expected. Stateless.
 */
final class InputDecoder {
    /** More dimensions than any tensor a network takes as input. */
    static final int MAX_RANK = 16;

    private InputDecoder() {}

    /** Decodes every input; names must be unique and non-empty, and there may be at most {@code maxTensors}. */
    static Map<String, Tensor> decode(List<dev.layerprobe.proto.v1.Tensor> wire, int maxTensors)
            throws LayerProbeException {
        if (wire.size() > maxTensors) {
            throw bad("the request carries " + wire.size() + " input tensors, more than this agent's limit of "
                    + maxTensors);
        }
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (int i = 0; i < wire.size(); i++) {
            dev.layerprobe.proto.v1.Tensor t = wire.get(i);
            if (t.getName().isEmpty()) {
                throw bad("input #" + i + " has no name");
            }
            if (out.put(t.getName(), decode(t)) != null) {
                throw bad("input '" + t.getName() + "' is given twice");
            }
        }
        return out;
    }

    private static Tensor decode(dev.layerprobe.proto.v1.Tensor t) throws LayerProbeException {
        if (t.getDtype() != DataType.FLOAT32) {
            throw bad("input '" + t.getName() + "' is " + t.getDtype() + ", inputs are sent as FLOAT32");
        }
        if (t.getShapeCount() > MAX_RANK) {
            throw bad("input '" + t.getName() + "' has " + t.getShapeCount() + " dimensions, more than " + MAX_RANK);
        }
        int[] shape = new int[t.getShapeCount()];
        // Saturating, so that a declared shape cannot overflow into a size that matches the data.
        long bytes = Float.BYTES;
        for (int d = 0; d < shape.length; d++) {
            long dim = t.getShape(d);
            if (dim < 0 || dim > Integer.MAX_VALUE) {
                throw bad("input '" + t.getName() + "' has invalid dimension " + dim + " at axis " + d);
            }
            shape[d] = (int) dim;
            bytes = dim != 0 && bytes > Long.MAX_VALUE / dim ? Long.MAX_VALUE : bytes * dim;
        }
        if (bytes != t.getData().size()) {
            throw bad("input '" + t.getName() + "' of shape " + Shapes.format(shape) + " needs "
                    + (bytes == Long.MAX_VALUE ? "more than " + Long.MAX_VALUE : String.valueOf(bytes))
                    + " bytes of FLOAT32, got " + t.getData().size());
        }
        long elements = bytes / Float.BYTES;
        float[] data = new float[(int) elements];
        t.getData()
                .asReadOnlyByteBuffer()
                .order(ByteOrder.LITTLE_ENDIAN)
                .asFloatBuffer()
                .get(data);
        return Tensor.ofFloats(shape, data);
    }

    /** Checks that the feeds are exactly the model's inputs, naming the expected ones otherwise. */
    static void checkNames(List<ValueInfo> expected, Map<String, Tensor> feeds) throws LayerProbeException {
        List<String> names = expected.stream().map(ValueInfo::name).toList();
        for (String given : feeds.keySet()) {
            if (!names.contains(given)) {
                throw bad("unknown input '" + given + "', expected one of " + names);
            }
        }
        for (String name : names) {
            if (!feeds.containsKey(name)) {
                throw bad("missing input '" + name + "', expected " + names);
            }
        }
    }

    private static LayerProbeException bad(String message) {
        return new LayerProbeException(Code.BAD_INPUT, message);
    }
}
