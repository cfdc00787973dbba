package dev.layerprobe.host.analyze;

import dev.layerprobe.agent.AgentSetupException;
import dev.layerprobe.core.LayerProbeException;
import dev.layerprobe.host.client.AgentException;
import dev.layerprobe.host.golden.GoldenException;
import dev.layerprobe.host.input.InputException;
import dev.layerprobe.host.report.Report;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * {@code layerprobe merge}: combines the states of runs over slices of the same inputs
 * ({@code analyze --shard I/N}) into the report a single run would have written. The states must
 * share their key (model, inputs, options; {@link RunState}) and together hold every slice; the
 * inputs' records are pooled in input order as in a single run, the model is prepared again as the
 * run prepared it (the same calibration, so the same quantization), and what needs input tensors or
 * the device (the sample's evidence, the first input's dumps, the runtime fault's confirmation) is
 * done again here. Dumps the slices kept are copied. One merge per instance.
 */
public final class ShardMerge {
    private ShardMerge() {}

    /**
     * Merges the states in {@code dirs} into a report in {@code reportDir}, printing it as
     * {@code analyze} does.
     *
     * @throws InputException when a folder holds no state, the states differ in key or slicing, a
     *     slice is missing or given twice, or an input has no record
     */
    public static Report merge(List<Path> dirs, Path reportDir, PrintWriter out)
            throws InputException, LayerProbeException, GoldenException, AgentException, AgentSetupException,
                    IOException {
        if (dirs.isEmpty()) {
            throw new InputException("merge: give the report folders of the shards");
        }
        RunState.Header first = RunState.readHeader(dirs.get(0), "merge");
        Map<Integer, RunState.Location> records = new TreeMap<>();
        TreeSet<Integer> shards = new TreeSet<>();
        int count = first.shard() == null ? 1 : first.shard().count();
        for (Path dir : dirs) {
            RunState.Header h = RunState.readHeader(dir, "merge");
            if (!h.key().equals(first.key()) || h.inputs() != first.inputs()) {
                throw new InputException(
                        "merge: " + dir + " ran another model, other inputs or other options than " + dirs.get(0));
            }
            int n = h.shard() == null ? 1 : h.shard().count();
            int i = h.shard() == null ? 0 : h.shard().index();
            if (n != count) {
                throw new InputException("merge: " + dir + " is a shard of " + n + ", " + dirs.get(0) + " of " + count);
            }
            if (!shards.add(i)) {
                throw new InputException("merge: shard " + i + "/" + n + " is given twice (" + dir + ")");
            }
            RunState.locations(dir).forEach(records::putIfAbsent);
        }
        List<String> missing = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            if (!shards.contains(i)) {
                missing.add(i + "/" + count);
            }
        }
        if (!missing.isEmpty()) {
            throw new InputException("merge: shard" + (missing.size() > 1 ? "s " : " ") + String.join(", ", missing)
                    + (missing.size() > 1 ? " are" : " is") + " missing; run analyze --shard for "
                    + (missing.size() > 1 ? "them" : "it") + " and give every shard's folder");
        }
        Files.createDirectories(reportDir);
        for (Path dir : dirs) {
            copyDumps(dir.resolve("dumps"), reportDir.resolve("dumps"));
        }
        AnalysisOptions o = first.options().withReportDir(reportDir);
        DatasetOptions d = new DatasetOptions(RunState.labels(dirs.get(0)), DatasetOptions.Dumps.FIRST, false, null);
        out.println("Merging " + dirs.size() + " shard" + (dirs.size() > 1 ? "s" : "") + ": " + records.size() + " of "
                + first.inputs() + " inputs");
        out.flush();
        AnalysisResult r = new AnalysisPipeline(o, d, out, i -> {}).execute(records);
        return Analysis.print(r, reportDir, out);
    }

    /** Copies a shard's dumps, leaving dumps already there alone. */
    private static void copyDumps(Path from, Path to) throws IOException {
        if (!Files.isDirectory(from)
                || from.toAbsolutePath().normalize().equals(to.toAbsolutePath().normalize())) {
            return;
        }
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : s.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else if (!Files.exists(target)) {
                    Files.copy(p, target, StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
        }
    }
}
