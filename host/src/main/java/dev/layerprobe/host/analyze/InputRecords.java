package dev.layerprobe.host.analyze;

import dev.layerprobe.host.input.InputException;
import dev.layerprobe.host.report.InputResult;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * Finished inputs and their pooling: each input's own comparisons are pooled into the report's
 * rows in input order ({@link LayerComparison#addInput}), reading one record at a time from the
 * states' journals ({@link RunState}), so the rows do not depend on when, where or in which process
 * an input ran, and memory holds one input's sums besides the pool. Stateless.
 */
final class InputRecords {
    private InputRecords() {}

    /** One input as it finished: its result and its own comparisons, in execution order. */
    record Finished(InputResult result, List<LayerComparison> rows) {}

    /** Every input pooled: the rows of the report and each input's result, in input order. */
    record Pooled(List<LayerComparison> rows, List<InputResult> inputs) {}

    /**
     * Pools the records of inputs {@code 0 .. count-1}.
     *
     * @param fresh makes one input's (or the pool's) empty rows, in execution order
     * @throws InputException when an input has no record (a slice not run, or not to its end)
     */
    static Pooled pool(Map<Integer, RunState.Location> records, int count, Supplier<List<LayerComparison>> fresh)
            throws IOException, InputException {
        List<Integer> missing = new ArrayList<>();
        for (int i = 0; i < count && missing.size() < 4; i++) {
            if (!records.containsKey(i)) {
                missing.add(i);
            }
        }
        if (!missing.isEmpty()) {
            long n = count - records.keySet().stream().filter(i -> i < count).count();
            throw new InputException(n + " of " + count + " inputs have no result (positions " + missing
                    + (n > missing.size() ? ", ..." : "") + "); run the missing shards, or finish them with --resume");
        }
        List<LayerComparison> rows = fresh.get();
        List<InputResult> results = new ArrayList<>();
        Map<Path, FileChannel> open = new HashMap<>();
        try {
            for (int i = 0; i < count; i++) {
                RunState.Location at = records.get(i);
                FileChannel ch = open.get(at.journal());
                if (ch == null) {
                    ch = FileChannel.open(at.journal(), StandardOpenOption.READ);
                    open.put(at.journal(), ch);
                }
                List<LayerComparison> one = fresh.get();
                InputResult r = RunState.read(ch, at.offset(), one);
                for (int l = 0; l < rows.size(); l++) {
                    rows.get(l).addInput(one.get(l));
                }
                results.add(r);
            }
        } finally {
            for (FileChannel ch : open.values()) {
                ch.close();
            }
        }
        return new Pooled(rows, results);
    }

    static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(q);
            }
        }
    }
}
