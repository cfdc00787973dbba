package dev.layerprobe.host.dump;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.core.tensor.QTensor;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.dump.DumpManifest;
import dev.layerprobe.dump.DumpReader;
import dev.layerprobe.dump.layout.FixedPointOptions;
import dev.layerprobe.dump.layout.RknnSnapshotLayout;
import dev.layerprobe.dump.layout.TidlTraceLayout;
import dev.layerprobe.dump.layout.VitisDumpLayout;
import dev.layerprobe.dump.mapping.LayerMapper;
import dev.layerprobe.dump.npy.Npy;
import dev.layerprobe.dump.npy.TensorBytes;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Writes a run in each vendor layout, as the vendor runtimes would, for the round-trip and compare
 * tests and the stand-in vendor runtime. Each writer follows the assumptions its reader documents.
 */
public final class VendorDumpWriters {
    private VendorDumpWriters() {}

    /** One layer of a run, in execution order. */
    public record Named(String name, String op, LayerValue value) {}

    /** Every layer of a LayerProbe dump folder. */
    public static List<Named> read(Path dumpDir) throws IOException {
        DumpReader r = DumpReader.open(dumpDir);
        List<Named> out = new ArrayList<>();
        for (DumpManifest.Layer l : r.layers()) {
            out.add(new Named(l.name(), l.op(), r.read(l)));
        }
        return out;
    }

    /** An RKNN-Toolkit2 snapshot side with its own copy of the map file. */
    public static void rknnSnapshot(Path dir, List<Named> layers) throws IOException {
        Files.writeString(dir.resolve(RknnSnapshotLayout.MAP_FILE), rknnSnapshotSide(dir, layers, false));
    }

    /**
     * A whole RKNN-Toolkit2 {@code accuracy_analysis} snapshot as the toolkit writes it:
     * {@code map_name_to_file.txt} at the root, one folder per side with the same file names, and an
     * {@code entire_qnt/} folder of whole-model results that is no side. The golden side also gets
     * the {@code npy/} copies some releases write.
     *
     * @param runtime the board's run, or null when the snapshot has none (no target given)
     */
    public static void rknnSnapshotRoot(Path root, List<Named> golden, List<Named> simulator, List<Named> runtime)
            throws IOException {
        String map = rknnSnapshotSide(root.resolve("golden"), golden, true);
        rknnSnapshotSide(root.resolve("simulator"), simulator, false);
        if (runtime != null) {
            rknnSnapshotSide(root.resolve("runtime"), runtime, false);
        }
        Files.writeString(root.resolve(RknnSnapshotLayout.MAP_FILE), map);
        Files.createDirectories(root.resolve("entire_qnt"));
        Files.writeString(root.resolve("entire_qnt").resolve("output_0.txt"), "0.5 0.25\n");
    }

    /** Writes a side's decimal text files (shortest float32 round-trip form); returns its map file's text. */
    private static String rknnSnapshotSide(Path dir, List<Named> layers, boolean npy) throws IOException {
        Files.createDirectories(dir);
        StringBuilder map = new StringBuilder();
        for (int i = 0; i < layers.size(); i++) {
            Named n = layers.get(i);
            String file = String.format("%04d_%s.txt", i, LayerMapper.sanitise(n.name()));
            float[] f = n.value().real().toFloat().floats();
            try (Writer w = Files.newBufferedWriter(dir.resolve(file), StandardCharsets.US_ASCII)) {
                for (int k = 0; k < f.length; k++) {
                    w.write(Float.toString(f[k]));
                    w.write((k + 1) % 16 == 0 ? "\n" : " ");
                }
                w.write("\n");
            }
            if (npy) {
                Files.createDirectories(dir.resolve(RknnSnapshotLayout.NPY_DIR));
                Npy.write(
                        dir.resolve(RknnSnapshotLayout.NPY_DIR).resolve(file.replace(".txt", ".npy")),
                        n.value().real().toFloat());
            }
            map.append(n.name()).append(' ').append(file).append('\n');
        }
        return map.toString();
    }

    /** One row of an RKNN error analysis table: a layer and its cosines by LayerProbe column (NaN: no cell). */
    public record ErrorRow(String name, String op, double entire, double single, double goldenErr, double singleSim) {}

    /**
     * RKNN-Toolkit2's {@code error_analysis.txt} in the 2.x form ({@code cos | euc} cells) or the 1.x
     * form (one cosine per cell), with the comment block, three header lines and the separator. A
     * fused layer ({@code op} with a {@code +}) is printed as RKNN prints it: the first op's row
     * without numbers, then the last op's row with them. Cosines are truncated to five decimals.
     */
    public static void rknnErrorAnalysis(Path file, List<ErrorRow> rows, boolean toolkit2) throws IOException {
        StringBuilder b = new StringBuilder();
        b.append(
                        "# simulator_error: calculate the output error of each layer of the simulator (compared to the 'golden' value).\n")
                .append("#              entire: output error of each layer between 'golden' and 'simulator'.\n")
                .append("#              single: single-layer output error between 'golden' and 'simulator'.\n")
                .append("# runtime_error: calculate the output error of each layer of the runtime.\n")
                .append("#              entire: output error of each layer between 'golden' and 'runtime'.\n")
                .append("#              single_sim: single-layer output error between 'simulator' and 'runtime'.\n\n");
        String cell = toolkit2 ? "%-18s" : "%-10s";
        b.append(String.format("%-40s%-36s%s\n", "layer_name", "simulator_error", "runtime_error"));
        b.append(String.format(
                "%-40s" + cell + cell + cell + cell + "\n", "", "entire", "single", "entire", "single_sim"));
        if (toolkit2) {
            b.append(String.format("%-40s%s\n", "", "cos      euc       ".repeat(4)));
        }
        b.append("-".repeat(110)).append('\n');
        b.append(String.format(
                "%-40s%s\n", "[Input] input", toolkit2 ? "1.00000 | 0.0      1.00000 | 0.0" : "1.00000   1.00000"));
        for (ErrorRow r : rows) {
            String[] ops = r.op().split("\\+", -1);
            if (ops.length > 1) {
                b.append("[").append(ops[0]).append("] ").append(r.name()).append("_pre\n");
            }
            StringBuilder cells = new StringBuilder();
            for (double c : new double[] {r.entire(), r.single(), r.goldenErr(), r.singleSim()}) {
                if (Double.isNaN(c)) {
                    break;
                }
                String cos = String.format(java.util.Locale.ROOT, "%.5f", Math.floor(c * 1e5) / 1e5);
                cells.append(String.format(
                        cell,
                        toolkit2 ? cos + " | " + String.format(java.util.Locale.ROOT, "%.4f", (1 - c) * 100) : cos));
            }
            b.append(String.format("%-40s%s", "[" + ops[ops.length - 1] + "] " + r.name(), cells)
                            .stripTrailing())
                    .append('\n');
        }
        Files.writeString(file, b);
    }

    /** The cosine similarity of two runs' values of a layer, in double. */
    public static double cos(LayerValue a, LayerValue b) {
        float[] x = a.real().toFloat().floats();
        float[] y = b.real().toFloat().floats();
        double dot = 0;
        double nx = 0;
        double ny = 0;
        for (int i = 0; i < x.length; i++) {
            dot += (double) x[i] * y[i];
            nx += (double) x[i] * x[i];
            ny += (double) y[i] * y[i];
        }
        return dot / Math.sqrt(nx * ny);
    }

    /**
     * RKNN runtime dumps: float32 .npy per operator output, plus (as the runtime does) each operator's
     * input re-dumped under the operator's number.
     */
    public static void rknnRuntime(Path dir, List<Named> layers) throws IOException {
        Files.createDirectories(dir);
        for (int i = 0; i < layers.size(); i++) {
            Named n = layers.get(i);
            String op = n.op() == null ? "Op" : n.op().replaceAll("[^A-Za-z0-9]", "");
            writeRknnNpy(dir, i, op, n);
            if (i > 0) {
                writeRknnNpy(dir, i, op, layers.get(i - 1));
            }
        }
    }

    private static void writeRknnNpy(Path dir, int index, String op, Named n) throws IOException {
        Tensor t = n.value().real().toFloat();
        String dims = Arrays.stream(t.shape()).mapToObj(Integer::toString).collect(Collectors.joining("_"));
        Npy.write(
                dir.resolve(String.format(
                        "%03d_%s_%s_shape_%s_float.npy", index, op, LayerMapper.sanitise(n.name()), dims)),
                t);
    }

    /**
     * TIDL traces: {@code .y} codes for quantized layers, {@code _float.bin} for float ones, and the
     * layer info file; data ids are the layer index plus 100, so they differ from layer ids.
     *
     * @return the quantization of each {@code .y} layer, as a mapping file would give it
     */
    public static Map<String, FixedPointOptions.LayerQuant> tidl(Path dir, List<Named> layers) throws IOException {
        Files.createDirectories(dir);
        Map<String, FixedPointOptions.LayerQuant> quant = new LinkedHashMap<>();
        StringBuilder info = new StringBuilder();
        for (int i = 0; i < layers.size(); i++) {
            Named n = layers.get(i);
            int dataId = 100 + i;
            LayerValue v = n.value();
            String base = TidlTraceLayout.baseName(0, dataId, v.shape());
            if (v.isQuantized()) {
                QTensor q = v.codes();
                Files.write(
                        dir.resolve(base + ".y"),
                        TensorBytes.encodeCodes(q.params().type(), q.codes(), 0, q.size()));
                quant.put(
                        n.name(),
                        new FixedPointOptions.LayerQuant(
                                (double) q.params().scale(0),
                                q.params().zeroPoint(0),
                                null,
                                q.params().type()));
            } else {
                float[] f = v.real().toFloat().floats();
                Files.write(dir.resolve(base + "_float.bin"), TensorBytes.encodeFloats(f, 0, f.length));
            }
            info.append(i)
                    .append(' ')
                    .append(dataId)
                    .append(' ')
                    .append(n.name())
                    .append('\n');
        }
        Files.writeString(dir.resolve("subgraph_0_tidl_net.bin.layer_info.txt"), info);
        return quant;
    }

    /**
     * TIDL traces named as TI's troubleshooting guide documents them
     * ({@code tidl_trace<dataId>_<batch>_<ch>_<W>x<H>}), float traces only, with the layer info file;
     * data ids are the layer index plus 100.
     */
    public static void tidlDocumented(Path dir, List<Named> layers) throws IOException {
        Files.createDirectories(dir);
        StringBuilder info = new StringBuilder();
        for (int i = 0; i < layers.size(); i++) {
            Named n = layers.get(i);
            float[] f = n.value().real().toFloat().floats();
            Files.write(
                    dir.resolve(
                            TidlTraceLayout.documentedName(100 + i, n.value().shape()) + "_float.bin"),
                    TensorBytes.encodeFloats(f, 0, f.length));
            info.append(i)
                    .append(' ')
                    .append(100 + i)
                    .append(' ')
                    .append(n.name())
                    .append('\n');
        }
        Files.writeString(dir.resolve("model_tidl_net.bin.layer_info.txt"), info);
    }

    /**
     * TIDL float traces of a model split into two subgraphs at {@code split} (subgraph 0 before it, 1
     * from it on), each with its own layer info file whose data ids start again at 0, as each
     * subgraph's artifacts number their own buffers.
     */
    public static void tidlTwoSubgraphs(Path dir, List<Named> layers, int split) throws IOException {
        Files.createDirectories(dir);
        StringBuilder[] info = {new StringBuilder(), new StringBuilder()};
        for (int i = 0; i < layers.size(); i++) {
            Named n = layers.get(i);
            int sg = i < split ? 0 : 1;
            int id = sg == 0 ? i : i - split;
            float[] f = n.value().real().toFloat().floats();
            Files.write(
                    dir.resolve(TidlTraceLayout.baseName(sg, id, n.value().shape()) + "_float.bin"),
                    TensorBytes.encodeFloats(f, 0, f.length));
            info[sg].append(id)
                    .append(' ')
                    .append(id)
                    .append(' ')
                    .append(n.name())
                    .append('\n');
        }
        Files.writeString(dir.resolve("subgraph_0_tidl_net.bin.layer_info.txt"), info[0]);
        Files.writeString(dir.resolve("subgraph_1_tidl_net.bin.layer_info.txt"), info[1]);
    }

    /**
     * A Vitis AI dump: int8 codes of the quantized int8 layers, channels last, with {@code fix_pos.txt}
     * giving the fix position nearest to each layer's scale and its NHWC shape.
     *
     * @return the names written, in order
     */
    public static List<String> vitis(Path dir, List<Named> layers) throws IOException {
        Files.createDirectories(dir);
        StringBuilder fix = new StringBuilder();
        List<String> written = new ArrayList<>();
        for (Named n : layers) {
            LayerValue v = n.value();
            if (!v.isQuantized() || v.codes().params().type() != DType.INT8) {
                continue;
            }
            QTensor q = v.codes();
            int[] s = q.shape();
            int[] codes = q.codes();
            int[] nhwc = s;
            if (s.length == 4) {
                codes = nchwToNhwc(codes, s);
                nhwc = new int[] {s[0], s[2], s[3], s[1]};
            }
            String name = VitisDumpLayout.sanitise(n.name());
            Files.write(dir.resolve(name + ".bin"), TensorBytes.encodeCodes(DType.INT8, codes, 0, codes.length));
            int fixPos = (int) Math.round(-Math.log(q.params().scale(0)) / Math.log(2));
            fix.append(n.name())
                    .append(' ')
                    .append(fixPos)
                    .append(' ')
                    .append(Arrays.stream(nhwc).mapToObj(Integer::toString).collect(Collectors.joining("x")))
                    .append('\n');
            written.add(n.name());
        }
        Files.writeString(dir.resolve(VitisDumpLayout.FIX_POS_FILE), fix);
        return written;
    }

    /**
     * A Vitis AI dump as a DPU would write the run: every 4-D layer quantized symmetrically to int8
     * with a power-of-two scale (the fix position that fits its largest magnitude), channels last.
     */
    public static void vitisPowerOfTwo(Path dir, List<Named> layers) throws IOException {
        List<Named> requantized = new ArrayList<>();
        for (Named n : layers) {
            Tensor t = n.value().real().toFloat();
            if (t.rank() != 4) {
                continue;
            }
            float[] f = t.floats();
            double max = 1e-12;
            for (float v : f) {
                max = Math.max(max, Math.abs(v));
            }
            int fixPos = (int) Math.floor(Math.log(127 / max) / Math.log(2));
            float scale = (float) Math.scalb(1.0, -fixPos);
            int[] codes = new int[f.length];
            for (int i = 0; i < f.length; i++) {
                codes[i] = Math.max(-128, Math.min(127, Math.round(f[i] / scale)));
            }
            requantized.add(new Named(
                    n.name(),
                    n.op(),
                    LayerValue.of(new QTensor(
                            t.shape(),
                            codes,
                            dev.layerprobe.core.tensor.QuantParams.perTensor(DType.INT8, scale, 0)))));
        }
        vitis(dir, requantized);
    }

    static int[] nchwToNhwc(int[] src, int[] nchw) {
        int n = nchw[0], c = nchw[1], h = nchw[2], w = nchw[3];
        int[] dst = new int[src.length];
        for (int b = 0; b < n; b++) {
            for (int k = 0; k < c; k++) {
                for (int y = 0; y < h; y++) {
                    for (int x = 0; x < w; x++) {
                        dst[((b * h + y) * w + x) * c + k] = src[((b * c + k) * h + y) * w + x];
                    }
                }
            }
        }
        return dst;
    }
}
