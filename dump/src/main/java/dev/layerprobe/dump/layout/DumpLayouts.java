package dev.layerprobe.dump.layout;

import dev.layerprobe.dump.DumpFormatException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

/**
 * Every supported dump layout, and detection of the one a folder uses. Detection looks only at
 * file names, most specific layout first: LayerProbe's {@code manifest.json}, an RKNN snapshot side
 * ({@code map_name_to_file.txt} in it or at the snapshot's root beside it), RKNN runtime
 * {@code .npy} names, TIDL trace names (either naming, or per-core), Vitis AI {@code .bin} files,
 * then any {@code .npy} folder. Stateless.
 */
public final class DumpLayouts {
    private static final List<DumpLayout> ALL = List.of(
            ManifestLayout.withManifest(),
            new RknnSnapshotLayout(),
            new RknnRuntimeLayout(),
            new TidlTraceLayout(),
            new VitisDumpLayout(),
            ManifestLayout.plainNpy());

    private DumpLayouts() {}

    /** All layouts, in detection order. */
    public static List<DumpLayout> all() {
        return ALL;
    }

    /** The names users choose layouts by. */
    public static List<String> names() {
        return ALL.stream().map(DumpLayout::name).toList();
    }

    /**
     * The layout with this name.
     *
     * @throws IllegalArgumentException naming the known layouts
     */
    public static DumpLayout named(String name) {
        return ALL.stream()
                .filter(l -> l.name().equals(name))
                .findFirst()
                .orElseThrow(() ->
                        new IllegalArgumentException("unknown dump layout '" + name + "', expected one of " + names()));
    }

    /**
     * The layout of a folder.
     *
     * @throws IOException naming the folder when it is missing or no layout recognises it
     */
    public static DumpLayout detect(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new NoSuchFileException(dir.toString(), null, "dump folder not found");
        }
        for (DumpLayout l : ALL) {
            if (l.detect(dir)) {
                return l;
            }
        }
        if (RknnSnapshotLayout.isSnapshotRoot(dir)) {
            throw new DumpFormatException(dir + " is a whole RKNN snapshot; name one of its sides "
                    + RknnSnapshotLayout.SIDES + ", e.g. " + dir.resolve("runtime"));
        }
        throw new DumpFormatException(dir + " is not a dump in any known layout " + names()
                + ": no manifest.json, map_name_to_file.txt, .npy, TIDL trace or .bin files");
    }

    /** Opens a folder in the named layout, or the detected one when {@code layout} is null. */
    public static LayerDump open(Path dir, String layout, FixedPointOptions options) throws IOException {
        DumpLayout l = layout == null ? detect(dir) : named(layout);
        return l.open(dir, options);
    }
}
