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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A Vitis AI dump folder ({@code XLNX_ENABLE_DUMP=1}): one {@code <name>.bin} per tensor, raw int8
 * codes in the DPU's channels-last order ({@code N,H,W,C}), named after the xmodel tensor with every
 * character outside {@code [A-Za-z0-9]} replaced by {@code _}. A code's value is
 * {@code code * 2^-fix_pos}, with the tensor's fix position from the xmodel, which the file does not
 * carry: we read it from {@value #FIX_POS_FILE} in the folder (one line per tensor in execution
 * order: name, fix position and optionally the NHWC shape as {@code 1x56x56x64}, as
 * {@code xdputil xmodel} lists them), else from the {@link FixedPointOptions}; without any, codes
 * read with scale 1. Files not listed in {@value #FIX_POS_FILE} follow in name order. A folder
 * without {@code .bin} files of its own is searched a few levels down (one subfolder per subgraph).
 */
public final class VitisDumpLayout implements DumpLayout {
    public static final String NAME = "vitis";
    public static final String FIX_POS_FILE = "fix_pos.txt";
    private static final int MAX_DEPTH = 4;

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public boolean detect(Path dir) throws IOException {
        List<String> top = Folders.fileNames(dir);
        if (top.stream().anyMatch(VitisDumpLayout::isDumpFile)) {
            return true;
        }
        return top.stream().noneMatch(f -> f.endsWith(".npy")) && !binFiles(dir).isEmpty();
    }

    private static boolean isDumpFile(String f) {
        return f.endsWith(".bin") && !TidlTraceLayout.isTraceFile(f);
    }

    /**
     * Tensor name to file (relative to the folder): the folder's own {@code .bin} files, or, when it
     * has none, those in its subfolders (the runtime writes one per subgraph), first occurrence of a
     * name winning, as a subgraph's input is the previous one's output dumped again.
     */
    private static Map<String, String> binFiles(Path dir) throws IOException {
        Map<String, String> files = new LinkedHashMap<>();
        for (String f : Folders.fileNames(dir)) {
            if (isDumpFile(f)) {
                files.put(f.substring(0, f.length() - 4), f);
            }
        }
        if (!files.isEmpty()) {
            return files;
        }
        try (Stream<Path> s = Files.walk(dir, MAX_DEPTH)) {
            for (Path p : s.filter(Files::isRegularFile).sorted().toList()) {
                String f = p.getFileName().toString();
                if (isDumpFile(f)) {
                    files.putIfAbsent(
                            f.substring(0, f.length() - 4), dir.relativize(p).toString());
                }
            }
        }
        return files;
    }

    private record Entry(Integer fixPos, int[] shape) {}

    /** A tensor name as Vitis AI writes it into a file name. */
    public static String sanitise(String name) {
        return name.replaceAll("[^A-Za-z0-9]", "_");
    }

    @Override
    public LayerDump open(Path dir, FixedPointOptions options) throws IOException {
        Map<String, Entry> listed = new LinkedHashMap<>();
        Path fix = dir.resolve(FIX_POS_FILE);
        if (Files.isRegularFile(fix)) {
            List<String> lines = Files.readAllLines(fix, StandardCharsets.UTF_8);
            for (int n = 0; n < lines.size(); n++) {
                String line = lines.get(n).strip();
                if (line.isEmpty() || line.startsWith("#")) {
                    continue;
                }
                String[] t = line.split("\\s+", -1);
                try {
                    if (t.length < 2 || t.length > 3) {
                        throw new NumberFormatException();
                    }
                    int[] shape = null;
                    if (t.length == 3) {
                        String[] d = t[2].split("x", -1);
                        shape = new int[d.length];
                        for (int i = 0; i < d.length; i++) {
                            shape[i] = Integer.parseInt(d[i]);
                        }
                    }
                    listed.put(sanitise(t[0]), new Entry(Integer.parseInt(t[1]), shape));
                } catch (NumberFormatException e) {
                    throw new DumpFormatException(
                            fix + " line " + (n + 1) + ": expected '<tensor> <fix_pos> [NxHxWxC]', got '" + line + "'");
                }
            }
        }
        List<String> names = new ArrayList<>();
        Map<String, String> files = binFiles(dir);
        for (String name : listed.keySet()) {
            if (files.containsKey(name)) {
                names.add(name);
            }
        }
        for (String name : files.keySet()) {
            if (!listed.containsKey(name)) {
                names.add(name);
            }
        }
        if (names.isEmpty()) {
            throw new DumpFormatException(dir + " holds no Vitis AI dump (<tensor>.bin files)");
        }
        List<DumpedLayer> layers = new ArrayList<>();
        for (String name : names) {
            Entry e = listed.get(name);
            layers.add(new DumpedLayer(layers.size(), name, null, e == null ? null : e.shape(), true, files.get(name)));
        }
        return new SimpleDump(NAME, dir, layers, (layer, file) -> {
            byte[] data = Files.readAllBytes(file);
            if (layer.shape() != null && data.length != layer.size()) {
                throw new DumpFormatException(file + " has " + data.length + " bytes, " + FIX_POS_FILE
                        + " gives its shape as " + layer.size() + " int8 elements");
            }
            Entry e = listed.get(layer.name());
            Integer pos = e != null ? e.fixPos() : options.fixPosOf(layer.name());
            float scale = pos != null ? (float) Math.scalb(1.0, -pos) : options.scaleOf(layer.name());
            int[] codes = new int[data.length];
            TensorBytes.decodeCodes(DType.INT8, data, 0, data.length, codes, 0);
            int[] shape = layer.shape() != null ? layer.shape() : new int[] {data.length};
            return LayerValue.of(new QTensor(shape, codes, QuantParams.perTensor(DType.INT8, scale, 0)));
        });
    }
}
