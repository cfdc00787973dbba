package dev.layerprobe.dump.layout;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.core.tensor.QTensor;
import dev.layerprobe.core.tensor.QuantParams;
import dev.layerprobe.dump.DumpFormatException;
import dev.layerprobe.dump.npy.TensorBytes;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * TI TIDL layer traces ({@code debug_level=3} writes {@code .y}, {@code 4} also {@code _float.bin}),
 * in both namings TIDL uses:
 * <ul>
 * <li>{@code tidl_traceAAAA_BBBBB_CCCCC_DDDDDxEEEEE}, as TI's troubleshooting guide
 *     (edgeai-tidl-tools {@code docs/tidl_osr_debug.md}) documents it: data id, batch, channels,
 *     width x height, e.g. {@code tidl_trace0072_00001_00256_00010x00014.y}; read as
 *     {@code [batch, ch, H, W]}, subgraph 0;</li>
 * <li>{@code tidl_trace_subgraph_<sg>_<id>_<batch>_<d1>_<d2>_<ch>_<W>x<H>}, as the open-source
 *     runtimes' traces are named: {@code batch x d1 x d2 x ch x H x W}, read as
 *     {@code [batch, ch, H, W]} when {@code d1} and {@code d2} are 1.</li>
 * </ul>
 * Each followed by {@code .y} (raw fixed point, little-endian, one or two bytes per element) or
 * {@code _float.bin} (float32, little-endian). Data is channels first.
 *
 * <p>Names and order come from {@code *layer_info.txt} files in the folder (TIDL writes one per
 * subgraph with the compiled artifacts, {@code <subgraph>_tidl_net.bin.layer_info.txt}), one line
 * per layer: layer id (execution order), data id, and the layer's name in the original model,
 * separated by whitespace. We assume the {@code <id>} in trace names is the data id, that a file
 * whose name starts with a number ({@code 3_tidl_net...} or {@code subgraph_3_tidl_net...}) belongs
 * to the traces of that subgraph (a lone file to every trace), and that subgraphs run in ascending
 * number. Stitched multi-core traces use single-core ids, so a
 * {@code *layer_info_singleCore.txt} wins over the multi-core file of the same subgraph. Without a
 * file, layers are named {@code subgraph_<sg>_<id>} in id order.
 *
 * <p>Multi-core inference writes each core's part of a layer as {@code C7X_<core>_tidl_trace...};
 * how a layer is split between cores is not in the names, so such traces are refused with a
 * message to stitch them first (TI's {@code stitch_multicore_traces.py}); where stitched traces sit
 * beside them, the per-core files are ignored.
 *
 * <p>A {@code .y} file carries no scale: it comes from the {@link FixedPointOptions} (a mapping
 * file or an option). One byte per element reads as {@code int8} codes unless the options say
 * {@code uint8}, two bytes as {@code int16}. When both files of a layer exist, the {@code .y} codes
 * are used if a scale for the layer was given, the float trace otherwise.
 */
public final class TidlTraceLayout implements DumpLayout {
    public static final String NAME = "tidl";
    static final Pattern FILE = Pattern.compile(
            "tidl_trace_subgraph_(\\d+)_(\\d+)_(\\d+)_(\\d+)_(\\d+)_(\\d+)_(\\d+)x(\\d+)(_float\\.bin|\\.y)");
    /** The naming TI's troubleshooting guide documents: data id, batch, channels, width x height. */
    static final Pattern DOCUMENTED =
            Pattern.compile("tidl_trace(\\d+)_(\\d+)_(\\d+)_(\\d+)x(\\d+)(_float\\.bin|\\.y)");
    /** One core's part of a trace in multi-core inference. */
    static final Pattern PER_CORE = Pattern.compile("C7X_(\\d+)_(tidl_trace.*)");

    static final Pattern INFO = Pattern.compile("(?:subgraph_)?(\\d+)?.*layer_info(_singleCore)?\\.txt");

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public boolean detect(Path dir) throws IOException {
        return Folders.fileNames(dir).stream().anyMatch(TidlTraceLayout::isTraceFile);
    }

    /** True for a TIDL trace file in either naming, stitched or per core. */
    static boolean isTraceFile(String f) {
        Matcher core = PER_CORE.matcher(f);
        String base = core.matches() ? core.group(2) : f;
        return FILE.matcher(base).matches() || DOCUMENTED.matcher(base).matches();
    }

    private record Trace(int subgraph, int id, int[] shape, String floatFile, String fixedFile) {}

    private record Info(int layerId, String name) {}

    @Override
    public LayerDump open(Path dir, FixedPointOptions options) throws IOException {
        Map<String, Trace> traces = new LinkedHashMap<>();
        // Info files by subgraph (-1: the file names none); single-core files read last so they win.
        Map<Integer, Map<Integer, Info>> info = new HashMap<>();
        List<String> infoFiles = new ArrayList<>();
        Set<Integer> cores = new TreeSet<>();
        for (String f : Folders.fileNames(dir)) {
            if (INFO.matcher(f).matches()) {
                infoFiles.add(f);
                continue;
            }
            Matcher core = PER_CORE.matcher(f);
            if (core.matches()) {
                if (isTraceFile(f)) {
                    cores.add(Integer.parseInt(core.group(1)));
                }
                continue;
            }
            int sg;
            int id;
            int[] shape;
            boolean fl;
            Matcher m = FILE.matcher(f);
            Matcher d = DOCUMENTED.matcher(f);
            if (m.matches()) {
                sg = Integer.parseInt(m.group(1));
                id = Integer.parseInt(m.group(2));
                int batch = Integer.parseInt(m.group(3));
                int d1 = Integer.parseInt(m.group(4));
                int d2 = Integer.parseInt(m.group(5));
                int ch = Integer.parseInt(m.group(6));
                int w = Integer.parseInt(m.group(7));
                int h = Integer.parseInt(m.group(8));
                shape = d1 == 1 && d2 == 1 ? new int[] {batch, ch, h, w} : new int[] {batch, d1, d2, ch, h, w};
                fl = m.group(9).equals("_float.bin");
            } else if (d.matches()) {
                sg = 0;
                id = Integer.parseInt(d.group(1));
                shape = new int[] {
                    Integer.parseInt(d.group(2)),
                    Integer.parseInt(d.group(3)),
                    Integer.parseInt(d.group(5)),
                    Integer.parseInt(d.group(4))
                };
                fl = d.group(6).equals("_float.bin");
            } else {
                continue;
            }
            String key = sg + "_" + id;
            Trace old = traces.get(key);
            traces.put(
                    key,
                    new Trace(
                            sg,
                            id,
                            shape,
                            fl ? f : old == null ? null : old.floatFile(),
                            fl ? (old == null ? null : old.fixedFile()) : f));
        }
        if (traces.isEmpty() && !cores.isEmpty()) {
            throw new DumpFormatException(
                    dir + " holds only per-core TIDL traces (C7X_<core>_tidl_trace..., cores " + cores
                            + "): stitch them into one trace per layer first (TI's stitch_multicore_traces.py) and compare that folder");
        }
        if (traces.isEmpty()) {
            throw new DumpFormatException(dir + " holds no TIDL traces (tidl_trace<id>_..., tidl_trace_subgraph_..."
                    + " as .y or _float.bin)");
        }
        infoFiles.sort(Comparator.comparing((String f) -> f.contains("layer_info_singleCore"))
                .thenComparing(f -> f));
        for (String f : infoFiles) {
            Matcher m = INFO.matcher(f);
            m.matches();
            int sg = m.group(1) == null ? -1 : Integer.parseInt(m.group(1));
            readInfo(dir.resolve(f), info.computeIfAbsent(sg, k -> new HashMap<>()));
        }
        java.util.function.Function<Trace, Info> infoOf = t -> {
            Map<Integer, Info> i = info.get(t.subgraph());
            if (i == null && info.size() == 1) {
                i = info.values().iterator().next();
            }
            return i == null ? null : i.get(t.id());
        };
        List<Trace> ordered = new ArrayList<>(traces.values());
        ordered.sort(Comparator.comparingInt(Trace::subgraph)
                .thenComparingInt(
                        (Trace t) -> infoOf.apply(t) != null ? infoOf.apply(t).layerId() : Integer.MAX_VALUE)
                .thenComparingInt(Trace::id));
        List<DumpedLayer> layers = new ArrayList<>();
        for (Trace t : ordered) {
            Info i = infoOf.apply(t);
            String name = i != null ? i.name() : "subgraph_" + t.subgraph + "_" + t.id;
            boolean useFixed = t.fixedFile != null && (t.floatFile == null || options.hasScale(name));
            layers.add(
                    new DumpedLayer(layers.size(), name, null, t.shape, false, useFixed ? t.fixedFile : t.floatFile));
        }
        return new SimpleDump(NAME, dir, layers, (layer, file) -> read(layer, file, options));
    }

    private static void readInfo(Path file, Map<Integer, Info> info) throws IOException {
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        for (int n = 0; n < lines.size(); n++) {
            String line = lines.get(n).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String[] t = line.split("\\s+", -1);
            try {
                if (t.length < 3) {
                    throw new NumberFormatException();
                }
                info.put(Integer.parseInt(t[1]), new Info(Integer.parseInt(t[0]), t[2]));
            } catch (NumberFormatException e) {
                throw new DumpFormatException(
                        file + " line " + (n + 1) + ": expected '<layer id> <data id> <name>', got '" + line + "'");
            }
        }
    }

    private static LayerValue read(DumpedLayer layer, Path file, FixedPointOptions options) throws IOException {
        byte[] data = Files.readAllBytes(file);
        long n = layer.size();
        if (layer.file().endsWith("_float.bin")) {
            if (data.length != 4 * n) {
                throw new DumpFormatException(file + " has " + data.length + " bytes, its name says " + n
                        + " float32 values (" + 4 * n + " bytes)");
            }
            return LayerValue.of(TensorBytes.decode(DType.FLOAT32, layer.shape(), data));
        }
        DType type;
        if (data.length == n) {
            type = options.dtypeOf(layer.name()) == DType.UINT8 ? DType.UINT8 : DType.INT8;
        } else if (data.length == 2 * n) {
            type = DType.INT16;
        } else {
            throw new DumpFormatException(
                    file + " has " + data.length + " bytes for " + n + " elements: expected 1 or 2 bytes each");
        }
        int[] codes = new int[(int) n];
        TensorBytes.decodeCodes(type, data, 0, data.length, codes, 0);
        QuantParams q = QuantParams.perTensor(type, options.scaleOf(layer.name()), options.zeroPointOf(layer.name()));
        return LayerValue.of(new QTensor(layer.shape(), codes, q));
    }

    /** The trace file name of a layer (without the {@code .y} or {@code _float.bin} suffix). */
    public static String baseName(int subgraph, int id, int[] nchw) {
        int batch = nchw.length == 4 ? nchw[0] : 1;
        int ch = nchw.length == 4 ? nchw[1] : 1;
        int h = nchw.length == 4 ? nchw[2] : 1;
        int w = nchw.length == 4 ? nchw[3] : (int) Folders.size(nchw);
        return String.format(
                "tidl_trace_subgraph_%d_%04d_%05d_%05d_%05d_%05d_%05dx%05d", subgraph, id, batch, 1, 1, ch, w, h);
    }

    /**
     * The trace file name of a layer in the naming TI's troubleshooting guide documents (without the
     * {@code .y} or {@code _float.bin} suffix): {@code tidl_trace<dataId>_<batch>_<ch>_<W>x<H>}.
     */
    public static String documentedName(int dataId, int[] nchw) {
        int batch = nchw.length == 4 ? nchw[0] : 1;
        int ch = nchw.length == 4 ? nchw[1] : 1;
        int h = nchw.length == 4 ? nchw[2] : 1;
        int w = nchw.length == 4 ? nchw[3] : (int) Folders.size(nchw);
        return String.format("tidl_trace%04d_%05d_%05d_%05dx%05d", dataId, batch, ch, w, h);
    }
}
