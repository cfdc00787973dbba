package dev.layerprobe.dump.layout;

import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.dump.DumpFormatException;
import dev.layerprobe.dump.npy.Npy;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * One side of an RKNN-Toolkit2 {@code accuracy_analysis} snapshot, laid out as RKNN-Toolkit2 2.x
 * writes it (its {@code accuracy_analysis} prints {@code The mapping of layer_name & file_name save
 * to: ./snapshot/map_name_to_file.txt}), and, we assume, 1.x as well (the same folders and map: we
 * know no published 1.x snapshot that differs):
 *
 * <pre>
 * snapshot/
 *   error_analysis.txt       the toolkit's own per-layer table (see dev.layerprobe.dump.vendor)
 *   map_name_to_file.txt     tensor name and file name, one tensor per line, execution order
 *   golden/                  the float model on the host
 *   simulator/               the quantized model in the toolkit's simulator
 *   runtime/                 the board (only when a target was given)
 *   entire_qnt/ ...          whole-model results of newer releases: not a side, ignored
 * </pre>
 *
 * A side holds one text file per tensor: the values as whitespace-separated decimal numbers,
 * flattened in C order, channels first, with no shape (layers take their shape from the layer they
 * are mapped to). Some releases also write a {@code npy/} folder inside a side with {@code .npy}
 * copies of the same tensors, which we assume are named {@code <text file's stem>.npy}; where one
 * exists it is read instead of the text file, as it keeps the shape and every bit of the float32
 * values.
 *
 * <p>{@value #MAP_FILE} sits at the snapshot's root and applies to every side; a copy inside a
 * side is accepted too and wins. Each line gives the tensor's name and its file's name separated by
 * whitespace, in either order (the token naming a file that exists is the file). A side need not hold every tensor of the map: the board does not
 * dump tensors fused away, so tensors whose file is absent from a side are not layers of that side.
 * Numbers are read as float32; {@code nan} and {@code inf} as numpy writes them.
 */
public final class RknnSnapshotLayout implements DumpLayout {
    public static final String NAME = "rknn-snapshot";
    public static final String MAP_FILE = "map_name_to_file.txt";
    /** The toolkit's per-layer error table at the snapshot's root. */
    public static final String ERROR_ANALYSIS = "error_analysis.txt";
    /** The folder inside a side that holds {@code .npy} copies of its tensors. */
    public static final String NPY_DIR = "npy";
    /** The sides of a snapshot folder, as RKNN-Toolkit2 names them. */
    public static final List<String> SIDES = List.of("golden", "simulator", "runtime");

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public boolean detect(Path dir) throws IOException {
        return mapOf(dir) != null;
    }

    /**
     * The map file that applies to a side: its own, else the snapshot root's when the folder is a
     * side of that root (named as a side, or holding a file the root's map names); null otherwise.
     */
    static Path mapOf(Path dir) throws IOException {
        Path own = dir.resolve(MAP_FILE);
        if (Files.isRegularFile(own)) {
            // A root's map belongs to its sides, not to the root itself.
            return SIDES.stream().anyMatch(s -> Files.isDirectory(dir.resolve(s))) ? null : own;
        }
        Path parent = dir.toAbsolutePath().normalize().getParent();
        if (parent == null || !Files.isDirectory(dir)) {
            return null;
        }
        Path root = parent.resolve(MAP_FILE);
        if (!Files.isRegularFile(root)) {
            return null;
        }
        if (SIDES.contains(dir.toAbsolutePath().normalize().getFileName().toString())) {
            return root;
        }
        for (String[] e : entries(root, dir)) {
            if (Files.isRegularFile(dir.resolve(e[1])) || Files.isRegularFile(npyOf(dir, e[1]))) {
                return root;
            }
        }
        return null;
    }

    /** True when the folder is a whole snapshot (its sides as subfolders), not one side of it. */
    public static boolean isSnapshotRoot(Path dir) {
        if (Files.isRegularFile(dir.resolve(MAP_FILE))
                && SIDES.stream().anyMatch(s -> Files.isDirectory(dir.resolve(s)))) {
            return true;
        }
        return SIDES.stream().anyMatch(s -> Files.isRegularFile(dir.resolve(s).resolve(MAP_FILE)));
    }

    /** The name of the side a folder is ({@code golden}, {@code simulator}, {@code runtime}), or null. */
    public static String sideOf(Path dir) {
        Path name = dir.toAbsolutePath().normalize().getFileName();
        return name != null && SIDES.contains(name.toString()) ? name.toString() : null;
    }

    /** The snapshot root a side belongs to (the folder holding {@value #ERROR_ANALYSIS} or the map), or null. */
    public static Path rootOf(Path side) {
        Path parent = side.toAbsolutePath().normalize().getParent();
        if (parent != null
                && (Files.isRegularFile(parent.resolve(MAP_FILE))
                        || Files.isRegularFile(parent.resolve(ERROR_ANALYSIS)))) {
            return parent;
        }
        return null;
    }

    @Override
    public LayerDump open(Path dir, FixedPointOptions options) throws IOException {
        Path map = mapOf(dir);
        if (map == null) {
            throw new DumpFormatException(dir + " is not an RKNN snapshot side: no " + MAP_FILE + " in it or beside it"
                    + (isSnapshotRoot(dir) ? "; name one of its sides, e.g. " + dir.resolve("runtime") : ""));
        }
        List<DumpedLayer> layers = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (String[] e : entries(map, dir)) {
            String file = Files.isRegularFile(npyOf(dir, e[1]))
                    ? dir.relativize(npyOf(dir, e[1])).toString()
                    : e[1];
            if (Files.isRegularFile(dir.resolve(file)) && seen.add(e[0])) {
                layers.add(new DumpedLayer(layers.size(), e[0], null, null, false, file));
            }
        }
        if (layers.isEmpty()) {
            throw new DumpFormatException(dir + " holds none of the tensor files " + map + " names");
        }
        return new SimpleDump(
                NAME,
                dir,
                layers,
                (layer, file) -> LayerValue.of(
                        file.getFileName().toString().endsWith(".npy")
                                ? Npy.read(file).toFloat()
                                : readText(file)));
    }

    /** The {@code .npy} copy of a text tensor file inside a side. */
    private static Path npyOf(Path side, String file) {
        String name = Path.of(file).getFileName().toString();
        int dot = name.lastIndexOf('.');
        return side.resolve(NPY_DIR).resolve((dot > 0 ? name.substring(0, dot) : name) + ".npy");
    }

    /** The map's entries as {tensor name, file name}, in order; the file is the token naming a file in {@code side}. */
    private static List<String[]> entries(Path map, Path side) throws IOException {
        List<String[]> out = new ArrayList<>();
        List<String> lines = Files.readAllLines(map, StandardCharsets.UTF_8);
        for (int n = 0; n < lines.size(); n++) {
            String line = lines.get(n).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String[] t = line.split("\\s+");
            if (t.length != 2) {
                throw new DumpFormatException(
                        map + " line " + (n + 1) + ": expected '<tensor name> <file>', got '" + line + "'");
            }
            boolean firstIsFile = exists(side, t[0]) && !exists(side, t[1]);
            out.add(firstIsFile ? new String[] {t[1], t[0]} : t);
        }
        return out;
    }

    private static boolean exists(Path side, String file) {
        return Files.isRegularFile(side.resolve(file)) || Files.isRegularFile(npyOf(side, file));
    }

    /** Reads a text tensor file as a flat float32 tensor. */
    static Tensor readText(Path file) throws IOException {
        float[] v = new float[1024];
        int n = 0;
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.US_ASCII)) {
            String line;
            while ((line = r.readLine()) != null) {
                for (String tok : line.trim().split("\\s+", -1)) {
                    if (tok.isEmpty()) {
                        continue;
                    }
                    if (n == v.length) {
                        v = Arrays.copyOf(v, v.length * 2);
                    }
                    v[n++] = parse(tok, file);
                }
            }
        }
        return Tensor.ofFloats(new int[] {n}, Arrays.copyOf(v, n));
    }

    private static float parse(String tok, Path file) throws IOException {
        switch (tok.toLowerCase(Locale.ROOT)) {
            case "nan", "-nan" -> {
                return Float.NaN;
            }
            case "inf", "+inf" -> {
                return Float.POSITIVE_INFINITY;
            }
            case "-inf" -> {
                return Float.NEGATIVE_INFINITY;
            }
            default -> {
                try {
                    return Float.parseFloat(tok);
                } catch (NumberFormatException e) {
                    throw new DumpFormatException(file + ": '" + tok + "' is not a number");
                }
            }
        }
    }
}
