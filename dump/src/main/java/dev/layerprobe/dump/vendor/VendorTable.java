package dev.layerprobe.dump.vendor;

import java.nio.file.Path;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * A vendor tool's own per-layer error table, as read from its report file (RKNN-Toolkit2's
 * {@code error_analysis.txt}): for each layer the tool lists, its cosine (and Euclidean distance
 * where the tool prints one) in each column it computed, keyed by the LayerProbe column that compares
 * the same pair of runs. Immutable.
 *
 * @param tool    the tool, e.g. {@code rknn-toolkit2}
 * @param source  the file read
 * @param form    which form of the table the file had, in words (e.g. {@code cos | euc per cell})
 * @param columns the columns the table has, in its order
 * @param rows    the layers, in the table's order (execution order)
 */
public record VendorTable(String tool, Path source, String form, List<Column> columns, List<Row> rows) {
    public VendorTable {
        columns = List.copyOf(columns);
        rows = List.copyOf(rows);
    }

    /** A column of the vendor's table, named after LayerProbe's column measuring the same pair of runs. */
    public enum Column {
        /** golden vs simulator, errors accumulated through the network (RKNN {@code entire} of {@code simulator_error}). */
        ENTIRE("entire"),
        /** golden vs simulator, the layer alone fed golden inputs (RKNN {@code single}). */
        PER_LAYER("per_layer"),
        /** simulator vs device (RKNN {@code single_sim}: the device's layer fed the simulator's inputs). */
        SIMU_ERR("simu_err"),
        /** golden vs device, accumulated (RKNN {@code entire} of {@code runtime_error}). */
        GOLDEN_ERR("golden_err");

        private final String key;

        Column(String key) {
            this.key = key;
        }

        /** LayerProbe's name of the column ({@code entire}, {@code per_layer}, {@code simu_err}, {@code golden_err}). */
        public String key() {
            return key;
        }
    }

    /**
     * One figure: the cosine similarity and, where the tool prints it, the Euclidean distance.
     *
     * @param cos the cosine, as printed (NaN when printed as {@code nan})
     * @param euc the Euclidean distance, or NaN when not printed
     */
    public record Cell(double cos, double euc) {}

    /**
     * One layer of the table.
     *
     * @param index position in the table, from 0
     * @param name  the tensor name the tool prints
     * @param op    the op type in brackets before it (the tool's spelling, e.g. {@code Conv}), or null
     * @param cells the figures by column; empty for a row the tool prints without numbers (a layer
     *              fused into the next one)
     */
    public record Row(int index, String name, String op, Map<Column, Cell> cells) {
        public Row {
            cells = cells.isEmpty() ? Map.of() : Collections.unmodifiableMap(new EnumMap<>(cells));
        }
    }
}
