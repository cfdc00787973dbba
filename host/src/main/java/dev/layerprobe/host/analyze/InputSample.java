package dev.layerprobe.host.analyze;

import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.host.input.InputException;
import dev.layerprobe.host.input.InputLoader;
import dev.layerprobe.host.input.InputSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A bounded sample of the inputs, loaded, for the evidence that needs input tensors rather than
 * comparisons ({@link InputFit}, {@link HotSpots.Sources}, {@link QuickFixCheck},
 * {@link DeviceConfirmation}): every input when there are at most {@link #SIZE}, else {@link #SIZE}
 * positions spread evenly over the whole set, starting with the first. The same inputs are taken
 * whichever slice of the inputs a process ran, so a merged report is the one a single run writes.
 *
 * @param positions the sampled inputs' positions, ascending, starting with 0
 * @param names their file names
 * @param feeds their tensors, by the model input's name
 */
record InputSample(List<Integer> positions, List<String> names, List<Map<String, Tensor>> feeds) {
    /** At most this many inputs are held. */
    static final int SIZE = 8;

    InputSample {
        positions = List.copyOf(positions);
        names = List.copyOf(names);
        feeds = List.copyOf(feeds);
    }

    /** Loads the sample of {@code inputs} at the model input's {@code shape}. */
    static InputSample load(List<Path> inputs, String inputName, int[] shape, InputSpec spec) throws InputException {
        int n = inputs.size();
        int k = Math.min(n, SIZE);
        List<Integer> positions = new ArrayList<>();
        List<String> names = new ArrayList<>();
        List<Map<String, Tensor>> feeds = new ArrayList<>();
        for (int i = 0; i < k; i++) {
            int p = (int) ((long) i * n / k);
            positions.add(p);
            names.add(inputs.get(p).getFileName().toString());
            feeds.add(Map.of(inputName, InputLoader.load(inputs.get(p), shape, spec)));
        }
        return new InputSample(positions, names, feeds);
    }

    /** The first input's tensors. */
    Map<String, Tensor> first() {
        return feeds.get(0);
    }
}
