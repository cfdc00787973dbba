package dev.layerprobe.dump.layout;

import dev.layerprobe.dump.DumpFormatException;
import dev.layerprobe.simulator.LayerValue;
import dev.layerprobe.simulator.tensor.Tensor;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One side of an RKNN-Toolkit2 {@code accuracy_analysis} snapshot: the {@code golden/},
 * {@code simulator/} or {@code runtime/} folder inside {@code snapshot/}. Each holds one text file
 * per tensor (the values as whitespace-separated decimal numbers, flattened in C order, channels
 * first) and {@value #MAP_FILE}, one line per tensor in execution order giving the tensor's name and
 * its file's name separated by whitespace (either order is accepted: the token naming a file that
 * exists is the file). The text files carry no shape: layers take their shape from the layer they
 * are mapped to. Numbers are read as float32; {@code nan} and {@code inf} as numpy writes them.
 */
public final class RknnSnapshotLayout implements DumpLayout {
    public static final String NAME = "rknn-snapshot";
    public static final String MAP_FILE = "map_name_to_file.txt";
    /** The sides of a snapshot folder, as RKNN-Toolkit2 names them. */
    public static final List<String> SIDES = List.of("golden", "simulator", "runtime");

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public boolean detect(Path dir) throws IOException {
        return Files.isRegularFile(dir.resolve(MAP_FILE));
    }

    /** True when the folder is a whole snapshot (its sides as subfolders), not one side of it. */
    public static boolean isSnapshotRoot(Path dir) {
        return SIDES.stream().anyMatch(s -> Files.isRegularFile(dir.resolve(s).resolve(MAP_FILE)));
    }

    @Override
    public LayerDump open(Path dir, FixedPointOptions options) throws IOException {
        Path map = dir.resolve(MAP_FILE);
        if (!Files.isRegularFile(map)) {
            throw new DumpFormatException(dir + " is not an RKNN snapshot side: no " + MAP_FILE
                    + (isSnapshotRoot(dir) ? "; name one of its sides, e.g. " + dir.resolve("runtime") : ""));
        }
        List<DumpedLayer> layers = new ArrayList<>();
        List<String> lines = Files.readAllLines(map, StandardCharsets.UTF_8);
        for (int n = 0; n < lines.size(); n++) {
            String line = lines.get(n).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String[] t = line.split("\\s+");
            if (t.length != 2) {
                throw new DumpFormatException(map + " line " + (n + 1) + ": expected '<tensor name> <file>', got '" + line + "'");
            }
            boolean firstIsFile = Files.isRegularFile(dir.resolve(t[0])) && !Files.isRegularFile(dir.resolve(t[1]));
            String name = firstIsFile ? t[1] : t[0];
            String file = firstIsFile ? t[0] : t[1];
            layers.add(new DumpedLayer(layers.size(), name, null, null, false, file));
        }
        return new SimpleDump(NAME, dir, layers, (layer, file) -> LayerValue.of(readText(file)));
    }

    /** Reads a text tensor file as a flat float32 tensor. */
    static Tensor readText(Path file) throws IOException {
        float[] v = new float[1024];
        int n = 0;
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.US_ASCII)) {
            String line;
            while ((line = r.readLine()) != null) {
                for (String tok : line.trim().split("\\s+")) {
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
        switch (tok.toLowerCase(java.util.Locale.ROOT)) {
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
