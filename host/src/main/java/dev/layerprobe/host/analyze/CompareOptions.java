package dev.layerprobe.host.analyze;

import java.nio.file.Path;

/**
 * What {@link DumpComparison} compares.
 *
 * @param reference the first dump folder (A), the reference
 * @param other     the second dump folder (B), compared against A
 * @param layoutA   A's layout name, or null to detect it
 * @param layoutB   B's layout name, or null to detect it
 * @param model     an ONNX model (float or QDQ) whose layers, op types and shapes the dumps map
 *                  onto, or null to map B onto A's own layers
 * @param map       a mapping file, or null
 * @param scale     default scale of raw fixed-point layers (overrides the mapping file's), or null
 * @param zeroPoint default zero point of raw fixed-point layers, or null
 * @param fixPos    default Vitis AI fix position, or null
 * @param reportDir where report.json, report.csv and report.html go
 * @param warnCos   cosine below which a layer is a warning
 * @param wrongCos  cosine below which a layer is wrong, and below which a float layer departs
 * @param atol      allclose absolute tolerance
 * @param rtol      allclose relative tolerance
 * @param simulator a third dump folder holding the simulator's run, or null: with it, A is the
 *                  golden run and B the device's, and the three are compared as {@code analyze}
 *                  does (A vs it in {@code entire}, it vs B in {@code simu_err}, A vs B in
 *                  {@code golden_err})
 * @param vendorReport a vendor tool's own per-layer table (RKNN-Toolkit2's {@code error_analysis.txt})
 *                  to show beside ours, or null to look for one beside the dumps
 */
public record CompareOptions(
        Path reference,
        Path other,
        String layoutA,
        String layoutB,
        Path model,
        Path map,
        Double scale,
        Long zeroPoint,
        Integer fixPos,
        Path reportDir,
        double warnCos,
        double wrongCos,
        double atol,
        double rtol,
        Path simulator,
        Path vendorReport) {}
