package dev.layerprobe.host.input;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.ValueInfo;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Random inputs for every input of a model, repeatable from a seed, for benchmarks and checks that
 * need data of the right shape rather than meaningful data (Polygraphy's data loader does the
 * same). Input {@code i} (in the model's order) is drawn from {@code new Random(seed + i)}:
 * floating inputs uniform in [-1, 1); integer inputs uniform in [0, 8) (small enough to be a valid
 * index or token id in most models); booleans 0 or 1.
 *
 * <p>Shapes: the model's, with each input's dimensions fixed by {@code --input-shape} where given
 * and a dynamic batch set to 1 ({@link InputShapes#resolve}); any other dimension left dynamic is
 * an {@link InputException} naming the input and its shape. Stateless and thread-safe.
 */
public final class SeededInputs {
    private SeededInputs() {}

    /**
     * The concrete shape of every input, by name, in the model's order.
     *
     * @param shapes concrete shapes by input name ({@code --input-shape}); a name the model lacks is an error
     */
    public static Map<String, int[]> shapes(List<ValueInfo> inputs, Map<String, int[]> shapes) throws InputException {
        List<String> names = inputs.stream().map(ValueInfo::name).toList();
        for (String n : shapes.keySet()) {
            if (!names.contains(n)) {
                throw new InputException("--input-shape names '" + n + "', expected one of " + names);
            }
        }
        Map<String, int[]> out = new LinkedHashMap<>();
        for (ValueInfo in : inputs) {
            int[] s = InputShapes.resolve(in, shapes.get(in.name()), null);
            if (!InputShapes.isStatic(s)) {
                throw new InputException("input '" + in.name() + "' has dynamic dimensions (" + InputShapes.describe(s)
                        + "); give them with --input-shape " + in.name() + "=DIMS");
            }
            out.put(in.name(), s);
        }
        return out;
    }

    /** Seeded tensors for every input, by name, in the model's order; see the class comment. */
    public static Map<String, Tensor> of(List<ValueInfo> inputs, Map<String, int[]> shapes, long seed)
            throws InputException {
        Map<String, int[]> resolved = shapes(inputs, shapes);
        Map<String, Tensor> out = new LinkedHashMap<>();
        List<ValueInfo> ordered = new ArrayList<>(inputs);
        for (int i = 0; i < ordered.size(); i++) {
            ValueInfo in = ordered.get(i);
            out.put(in.name(), random(in.dtype(), resolved.get(in.name()), new Random(seed + i)));
        }
        return out;
    }

    private static Tensor random(DType type, int[] shape, Random r) {
        long n = 1;
        for (int d : shape) {
            n *= d;
        }
        int size = Math.toIntExact(n);
        if (type.isFloating()) {
            float[] v = new float[size];
            for (int i = 0; i < size; i++) {
                v[i] = r.nextFloat() * 2f - 1f;
            }
            return Tensor.ofFloats(type, shape, v);
        }
        long[] v = new long[size];
        int bound = type == DType.BOOL ? 2 : 8;
        for (int i = 0; i < size; i++) {
            v[i] = r.nextInt(bound);
        }
        return Tensor.ofLongs(type, shape, v);
    }
}
