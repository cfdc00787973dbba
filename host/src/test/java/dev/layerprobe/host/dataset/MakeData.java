package dev.layerprobe.host.dataset;

import java.nio.file.Path;

/** Writes the small classifier and its inputs for a run by hand: {@code MakeData DIR N}. */
final class MakeData {
    private MakeData() {}

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        java.nio.file.Files.createDirectories(dir);
        SmallClassifier.write(dir.resolve("small.onnx"), 7);
        SmallClassifier.inputs(dir.resolve("inputs"), Integer.parseInt(args[1]), 11);
    }
}
