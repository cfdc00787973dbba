package dev.layerprobe.host.cli;

import dev.layerprobe.host.input.InputException;
import dev.layerprobe.host.input.InputShapes;
import dev.layerprobe.host.input.InputSpec;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Option;

/** Preprocessing and input-size options shared by the commands that load images. */
final class InputOptions {
    @Option(names = "--mean", split = ",", paramLabel = "a,b,c", description = "per-channel mean on 0..1 values")
    float[] mean;

    @Option(names = "--std", split = ",", paramLabel = "a,b,c", description = "per-channel std on 0..1 values")
    float[] std;

    @Option(names = "--rgb2bgr", description = "feed channels in BGR order")
    boolean rgb2bgr;

    @Option(
            names = "--input-shape",
            paramLabel = "NAME=DIMS",
            description = "concrete shape of a dynamic input, e.g. input=1x3x640x640; repeatable")
    List<String> inputShape;

    @Option(
            names = "--size",
            paramLabel = "WxH",
            description = "resize images to this size (for models with dynamic height and width)")
    String size;

    InputSpec spec() throws UsageException {
        return Preprocessing.spec(mean, std, rgb2bgr);
    }

    Map<String, int[]> shapes() throws InputException {
        return InputShapes.parse(inputShape);
    }

    int[] heightWidth() throws InputException {
        return size == null ? null : InputShapes.parseSize(size);
    }
}
