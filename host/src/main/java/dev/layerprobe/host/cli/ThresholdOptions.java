package dev.layerprobe.host.cli;

import picocli.CommandLine.Option;

/** The cos thresholds and allclose tolerances shared by the commands that compare layers (analyze, compare). */
final class ThresholdOptions {
    @Option(names = "--warn-cos", defaultValue = "0.99", description = "cos below this is a warning (${DEFAULT-VALUE})")
    double warnCos;

    @Option(
            names = "--wrong-cos",
            defaultValue = "0.98",
            description = "cos below this is wrong; compare: a float layer below it departs from A (${DEFAULT-VALUE})")
    double wrongCos;

    @Option(names = "--atol", defaultValue = "1e-5", description = "allclose absolute tolerance (${DEFAULT-VALUE})")
    double atol;

    @Option(names = "--rtol", defaultValue = "1e-3", description = "allclose relative tolerance (${DEFAULT-VALUE})")
    double rtol;
}
