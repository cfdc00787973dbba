package dev.layerprobe.dump.vendor;

import dev.layerprobe.dump.DumpFormatException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Reads RKNN-Toolkit2's {@code error_analysis.txt}, the per-layer table {@code accuracy_analysis}
 * writes at the root of its snapshot folder. Two forms are read, told apart by their header words,
 * never by column positions:
 *
 * <pre>
 * # comment lines start with '#'
 * layer_name            simulator_error                 runtime_error
 *                     entire          single          entire          single_sim
 *                   cos      euc    cos      euc    cos      euc    cos      euc
 * -------------------------------------------------------------------------------
 * [Input] input2    1.00000 | 0.0   1.00000 | 0.0   0.99995 | 0.1627  0.99995 | 0.1627
 * [Conv] 779        0.99999 | 1.0755  0.99999 | 1.0755
 * [Relu] 524        0.99998 | 1.0397  1.00000 | 0.7689  0.99997 | 1.4931  1.00000 | 1.3477
 * </pre>
 *
 * (RKNN-Toolkit2 2.x: {@code simulator_error} with {@code entire} and {@code single},
 * {@code runtime_error} with {@code entire} and {@code single_sim}, each cell {@code cos | euc};
 * 1.x prints the same groups with one cosine per cell), and the older form whose header names the
 * columns {@code entire per_layer simu_err golden_err}. A group's {@code entire} is golden vs
 * simulator under {@code simulator_error} and golden vs runtime under {@code runtime_error}; the
 * other words map one to one ({@code single} to {@code per_layer}, {@code single_sim} to
 * {@code simu_err}). A row is {@code [Op] name} followed by its cells, filled from the left: rows
 * with only the simulator's columns (the board does not dump every tensor) and rows without any
 * number (a layer fused into the next) are kept as such. Header lines end at the {@code ----}
 * separator (or at the first row when there is none). Tensor names are taken to hold no
 * whitespace, as RKNN prints them. Stateless.
 */
public final class RknnErrorAnalysis {
    public static final String TOOL = "rknn-toolkit2";
    private static final Set<String> GROUPS = Set.of("simulator_error", "runtime_error");
    private static final Set<String> COLUMN_WORDS =
            Set.of("entire", "single", "per_layer", "single_sim", "simu_err", "golden_err");

    private RknnErrorAnalysis() {}

    /**
     * Reads the table.
     *
     * @throws IOException naming the file and line when it is missing or not such a table
     */
    public static VendorTable read(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toString(), null, "vendor report not found");
        }
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        List<String> header = new ArrayList<>();
        int n = 0;
        for (; n < lines.size(); n++) {
            String line = lines.get(n).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            if (line.matches("-{4,}")) {
                n++;
                break;
            }
            if (line.startsWith("[")) {
                break;
            }
            header.addAll(List.of(line.split("\\s+")));
        }
        List<VendorTable.Column> columns = columns(header, file);
        boolean euc = header.contains("euc");
        List<VendorTable.Row> rows = new ArrayList<>();
        for (; n < lines.size(); n++) {
            String line = lines.get(n).strip();
            if (line.isEmpty() || line.startsWith("#") || line.matches("-{4,}")) {
                continue;
            }
            rows.add(row(rows.size(), line, columns, file, n + 1));
        }
        if (rows.isEmpty()) {
            throw new DumpFormatException(file + ": no layer rows under the header " + header);
        }
        euc |= rows.stream().flatMap(r -> r.cells().values().stream()).anyMatch(c -> !Double.isNaN(c.euc()));
        return new VendorTable(TOOL, file, euc ? "cos | euc per cell" : "cos per cell", columns, rows);
    }

    /** The table's columns from its header words, in order. */
    private static List<VendorTable.Column> columns(List<String> header, Path file) throws IOException {
        List<String> groups = header.stream().filter(GROUPS::contains).toList();
        List<VendorTable.Column> columns = new ArrayList<>();
        int g = 0;
        Set<String> inGroup = new HashSet<>();
        for (String w : header) {
            if (!COLUMN_WORDS.contains(w)) {
                continue;
            }
            if (!groups.isEmpty() && (inGroup.contains(w) || !allowed(groups.get(g), w)) && g + 1 < groups.size()) {
                g++;
                inGroup.clear();
            }
            inGroup.add(w);
            String group = groups.isEmpty() ? null : groups.get(g);
            VendorTable.Column c = switch (w) {
                case "entire" ->
                    "runtime_error".equals(group) ? VendorTable.Column.GOLDEN_ERR : VendorTable.Column.ENTIRE;
                case "single", "per_layer" -> VendorTable.Column.PER_LAYER;
                case "single_sim", "simu_err" -> VendorTable.Column.SIMU_ERR;
                default -> VendorTable.Column.GOLDEN_ERR;
            };
            if (columns.contains(c)) {
                throw new DumpFormatException(file + ": the header names the " + c.key() + " column twice: " + header);
            }
            columns.add(c);
        }
        if (columns.isEmpty()) {
            throw new DumpFormatException(file + ": not an RKNN error analysis table: no header naming its columns"
                    + " (entire, single, single_sim or entire, per_layer, simu_err, golden_err)");
        }
        return columns;
    }

    private static boolean allowed(String group, String word) {
        return group.equals("simulator_error")
                ? Set.of("entire", "single", "per_layer").contains(word)
                : Set.of("entire", "single_sim", "simu_err", "golden_err").contains(word);
    }

    private static VendorTable.Row row(int index, String line, List<VendorTable.Column> columns, Path file, int lineNo)
            throws IOException {
        String op = null;
        String rest = line;
        if (line.startsWith("[")) {
            int close = line.indexOf(']');
            if (close < 0) {
                throw new DumpFormatException(
                        file + " line " + lineNo + ": expected '[Op] name ...', got '" + line + "'");
            }
            op = line.substring(1, close).strip();
            rest = line.substring(close + 1).strip();
        }
        String[] t = rest.replace("|", " | ").strip().split("\\s+", -1);
        if (t.length == 0 || t[0].isEmpty()) {
            throw new DumpFormatException(file + " line " + lineNo + ": no layer name in '" + line + "'");
        }
        Map<VendorTable.Column, VendorTable.Cell> cells = new EnumMap<>(VendorTable.Column.class);
        int k = 1;
        while (k < t.length) {
            double cos = number(t[k++], file, lineNo, line);
            double euc = Double.NaN;
            if (k < t.length && t[k].equals("|")) {
                if (k + 1 >= t.length) {
                    throw new DumpFormatException(file + " line " + lineNo + ": a cell ends in '|': '" + line + "'");
                }
                euc = number(t[k + 1], file, lineNo, line);
                k += 2;
            }
            if (cells.size() == columns.size()) {
                throw new DumpFormatException(file + " line " + lineNo + ": more cells than the " + columns.size()
                        + " columns of the header: '" + line + "'");
            }
            cells.put(columns.get(cells.size()), new VendorTable.Cell(cos, euc));
        }
        return new VendorTable.Row(index, t[0], op, cells);
    }

    private static double number(String tok, Path file, int lineNo, String line) throws IOException {
        switch (tok.toLowerCase(Locale.ROOT)) {
            case "nan", "-nan" -> {
                return Double.NaN;
            }
            case "inf", "+inf" -> {
                return Double.POSITIVE_INFINITY;
            }
            case "-inf" -> {
                return Double.NEGATIVE_INFINITY;
            }
            default -> {
                try {
                    return Double.parseDouble(tok);
                } catch (NumberFormatException e) {
                    throw new DumpFormatException(
                            file + " line " + lineNo + ": '" + tok + "' is not a number in '" + line + "'");
                }
            }
        }
    }
}
