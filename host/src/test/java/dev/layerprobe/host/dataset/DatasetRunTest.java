package dev.layerprobe.host.dataset;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.dump.npy.Npy;
import dev.layerprobe.host.cli.LayerProbeCli;
import dev.layerprobe.host.golden.GoldenRunner;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code analyze} over a set of inputs on a small classifier built here: slices merged into the
 * report of one run, resuming, the refusals, per-input results and the task figures against ONNX
 * Runtime run here.
 */
class DatasetRunTest {
    private static final int INPUTS = 16;
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path tmp;

    static Path model;
    static Path inputs;

    @BeforeAll
    static void data() throws Exception {
        model = SmallClassifier.write(tmp.resolve("small.onnx"), 7);
        inputs = SmallClassifier.inputs(tmp.resolve("inputs"), INPUTS, 11);
    }

    record Run(int exit, String out, String err) {
        /** One line starting with "layerprobe: ", no stack trace. */
        boolean oneLineError() {
            String e = err.strip();
            return exit != 0 && e.startsWith("layerprobe: ") && !e.contains("\n") && !e.contains("\tat ");
        }
    }

    static Run cli(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = LayerProbeCli.commandLine(new PrintWriter(out, true), new PrintWriter(err, true))
                .execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    static Run analyze(Path report, String... extra) {
        List<String> a = new ArrayList<>(
                List.of("analyze", model.toString(), "--input", inputs.toString(), "--report", report.toString()));
        a.addAll(List.of(extra));
        Run r = cli(a.toArray(String[]::new));
        return r;
    }

    static Run ok(Run r) {
        assertEquals(0, r.exit(), r.out() + r.err());
        return r;
    }

    @Test
    void shardsMergeIntoTheReportOfOneRun() throws Exception {
        Path whole = tmp.resolve("whole");
        ok(analyze(whole));
        List<String> merge = new ArrayList<>(List.of("merge"));
        for (int i = 0; i < 4; i++) {
            Path s = tmp.resolve("shard" + i);
            Run r = ok(analyze(s, "--shard", i + "/4"));
            assertTrue(r.out().contains("Shard " + i + "/4 done"), r.out());
            assertFalse(Files.exists(s.resolve("report.json")), "a shard writes no report");
            merge.add(s.toString());
        }
        Path merged = tmp.resolve("merged");
        merge.addAll(List.of("--report", merged.toString()));
        ok(cli(merge.toArray(String[]::new)));
        assertArrayEquals(
                Files.readAllBytes(whole.resolve("report.json")),
                Files.readAllBytes(merged.resolve("report.json")),
                "merged report.json differs from one run's");
        assertArrayEquals(
                Files.readAllBytes(whole.resolve("inputs.csv")), Files.readAllBytes(merged.resolve("inputs.csv")));
        assertTrue(Files.isDirectory(merged.resolve("dumps/runtime")), "the first input's dumps");

        JsonNode report = JSON.readTree(whole.resolve("report.json").toFile());
        assertEquals(INPUTS, report.get("inputs").size());
        for (int i = 0; i < INPUTS; i++) {
            assertEquals(i, report.get("inputs").get(i).get("index").asInt());
            assertEquals("", report.get("inputs").get(i).get("agent").asText());
        }
        JsonNode task = report.get("task");
        assertEquals(SmallClassifier.CLASSES, task.get("classes").asInt());
        assertEquals(INPUTS, task.get("inputs").asInt());
        assertTrue(
                task.at("/top1/simulator").asDouble() >= 0
                        && task.at("/top1/device").asDouble() <= 1,
                task.toString());
        int counted = 0;
        for (JsonNode c : task.at("/histogram/device")) {
            counted += c.asInt();
        }
        assertEquals(INPUTS, counted, "every input is in the histogram");
        assertEquals(10, task.get("worst").size());
        assertEquals(INPUTS + 1, Files.readAllLines(whole.resolve("inputs.csv")).size());
        assertTrue(Files.readString(whole.resolve("report.html")).contains("Output cos per input"));
    }

    @Test
    void mergeRefusesAMissingShardOrAnotherRun() throws Exception {
        List<String> dirs = new ArrayList<>();
        for (int i = 0; i < 3; i += 2) {
            Path s = tmp.resolve("partial" + i);
            ok(analyze(s, "--shard", i + "/3"));
            dirs.add(s.toString());
        }
        Run missing = cli(
                "merge", dirs.get(0), dirs.get(1), "--report", tmp.resolve("m1").toString());
        assertTrue(missing.oneLineError(), missing.err());
        assertTrue(missing.err().contains("shard 1/3 is missing"), missing.err());

        Path other = tmp.resolve("other1");
        ok(analyze(other, "--shard", "1/3", "--atol", "0.001"));
        Run mismatch = cli(
                "merge",
                dirs.get(0),
                other.toString(),
                dirs.get(1),
                "--report",
                tmp.resolve("m2").toString());
        assertTrue(mismatch.oneLineError(), mismatch.err());
        assertTrue(mismatch.err().contains("other options"), mismatch.err());

        Run none = cli("merge", tmp.resolve("nothing").toString());
        assertTrue(none.oneLineError(), none.err());
    }

    @Test
    void resumeContinuesOnlyTheSameRun() throws Exception {
        Path dir = tmp.resolve("resumed");
        ok(analyze(dir));
        byte[] first = Files.readAllBytes(dir.resolve("report.json"));
        Run again = ok(analyze(dir, "--resume"));
        assertTrue(again.out().contains("Resuming: " + INPUTS + " inputs done, 0 to go"), again.out());
        assertArrayEquals(first, Files.readAllBytes(dir.resolve("report.json")));

        Run other = analyze(dir, "--resume", "--wrong-cos", "0.5");
        assertTrue(other.oneLineError(), other.err());
        assertTrue(other.err().contains("--resume"), other.err());
        assertArrayEquals(first, Files.readAllBytes(dir.resolve("report.json")), "a refused resume changes nothing");

        Run fresh = analyze(tmp.resolve("never-ran"), "--resume");
        assertTrue(fresh.oneLineError(), fresh.err());

        Run badShard = analyze(tmp.resolve("bad-shard"), "--shard", "4/4");
        assertTrue(badShard.oneLineError(), badShard.err());
        Run badDumps = analyze(tmp.resolve("bad-dumps"), "--dump-inputs", "best");
        assertTrue(badDumps.oneLineError(), badDumps.err());
    }

    /** Labels from class subfolders; golden's classes and accuracy as ONNX Runtime gives them here. */
    @Test
    void labelsGiveTheAccuracyOfEachSide() throws Exception {
        Path folders = tmp.resolve("by-class");
        List<Path> files;
        try (Stream<Path> s = Files.list(inputs)) {
            files = s.sorted().toList();
        }
        for (int i = 0; i < files.size(); i++) {
            Path c = Files.createDirectories(folders.resolve("class" + (i % 3)));
            Files.copy(files.get(i), c.resolve(files.get(i).getFileName()));
        }
        Path dir = tmp.resolve("labelled");
        ok(cli(
                "analyze",
                model.toString(),
                "--input",
                folders.toString(),
                "--labels",
                folders.toString(),
                "--dump-inputs",
                "worst",
                "--report",
                dir.toString()));
        JsonNode report = JSON.readTree(dir.resolve("report.json").toFile());
        int correct = 0;
        try (GoldenRunner golden =
                GoldenRunner.of(dev.layerprobe.simulator.onnx.OnnxGraphs.readModel(model), "small")) {
            for (JsonNode in : report.get("inputs")) {
                Path file = folders.resolve("class" + in.get("label").asInt())
                        .resolve(in.get("file").asText());
                Tensor x = Npy.read(file);
                float[] y = golden.run(Map.of("x", x)).get("y").floats();
                int best = 0;
                for (int c = 1; c < y.length; c++) {
                    best = y[c] > y[best] ? c : best;
                }
                assertEquals(best, in.get("golden_top1").asInt(), in.toString());
                correct += best == in.get("label").asInt() ? 1 : 0;
            }
        }
        JsonNode accuracy = report.at("/task/accuracy");
        assertEquals(INPUTS, accuracy.get("labelled").asInt());
        assertEquals((double) correct / INPUTS, accuracy.get("golden").asDouble(), 1e-12);
        assertEquals(
                accuracy.get("golden").asDouble() - accuracy.get("device").asDouble(),
                accuracy.get("device_drop").asDouble(),
                1e-12);
        int worst = report.at("/task/worst/0/index").asInt();
        assertTrue(Files.isDirectory(dir.resolve("dumps/input-" + worst + "/runtime")), "the worst input's dumps");
    }
}
