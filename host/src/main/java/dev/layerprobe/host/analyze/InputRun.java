package dev.layerprobe.host.analyze;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.dump.DumpManifest;
import dev.layerprobe.dump.DumpValues;
import dev.layerprobe.dump.DumpWriter;
import dev.layerprobe.host.client.AgentClient;
import dev.layerprobe.host.client.AgentException;
import dev.layerprobe.host.golden.GoldenException;
import dev.layerprobe.host.golden.GoldenRunner;
import dev.layerprobe.proto.v1.DumpFormat;
import dev.layerprobe.simulator.NpuProgram;
import dev.layerprobe.simulator.SimulatorException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;

/**
 * One input through golden, the simulator and the device, in bounded memory: golden's tensors are
 * spilled to a dump on disk as ONNX Runtime hands them over, the simulator's layers are compared with
 * them a range of elements at a time as they are produced (the program frees each value after its
 * last consumer) and written to the simulator's dump, and the device's layers are compared with both
 * dumps chunk by chunk as they stream in ({@link StreamingComparison}); every comparison goes through
 * {@link ChunkedComparison}. At any time the heap holds a few layers of the simulator and one chunk of
 * each dump, never a run.
 *
 * <p>The comparisons accumulate into the rows given; the caller marks the end of each input on them.
 * Not thread-safe: inputs run one after the other.
 */
final class InputRun {
    private final Path reportDir;
    private final String modelName;
    private final GoldenRunner golden;
    private final Map<String, float[]> goldenDivisors;
    private final NpuProgram sim;
    private final AgentClient client;
    private final String modelId;
    private final Map<String, LayerComparison> byName;
    private final ChunkedComparison chunks = new ChunkedComparison();

    /**
     * @param reportDir where the temporary spill of golden's tensors goes (removed after each input)
     * @param goldenDivisors per-channel factors (last axis) by which golden's tensors of those names
     *     are divided, to compare in the space of a SmoothQuant model; empty for none
     * @param modelId the device's id of the uploaded model {@code sim} was compiled from
     * @param byName the rows, by layer name, that the comparisons add to
     */
    InputRun(
            Path reportDir,
            String modelName,
            GoldenRunner golden,
            Map<String, float[]> goldenDivisors,
            NpuProgram sim,
            AgentClient client,
            String modelId,
            Map<String, LayerComparison> byName) {
        this.reportDir = reportDir;
        this.modelName = modelName;
        this.golden = golden;
        this.goldenDivisors = goldenDivisors;
        this.sim = sim;
        this.client = client;
        this.modelId = modelId;
        this.byName = byName;
    }

    /**
     * Runs and compares one input.
     *
     * @param dumps where the golden, simulator and runtime dumps of this input are kept, or null to keep none
     */
    void run(Map<String, Tensor> feed, Path dumps)
            throws IOException, GoldenException, SimulatorException, AgentException {
        Path spill = Files.createTempDirectory(reportDir, ".spill-");
        try {
            Path goldenAll = spill.resolve("golden");
            try (DumpWriter w = DumpWriter.create(goldenAll, modelName, "golden", true)) {
                golden.run(feed, (name, t) -> w.writeLayer(name, null, LayerValue.of(divided(name, t))));
            }
            DumpValues g = DumpValues.open(goldenAll);
            Path simDir = dumps != null ? dumps.resolve("simulator") : spill.resolve("simulator");
            try (DumpWriter goldenDump = dumps == null
                            ? null
                            : DumpWriter.create(dumps.resolve("golden"), modelName, "golden", true);
                    DumpWriter simDump = DumpWriter.create(simDir, modelName, "simulator", true)) {
                sim.run(feed, (layer, v) -> {
                    LayerComparison c = byName.get(layer.name());
                    c.setShape(v.shape());
                    try {
                        DumpManifest.Layer gl = ChunkedComparison.floatLayer(g, layer.name());
                        if (gl != null) {
                            ChunkedComparison.checkSize(layer, gl, v);
                            if (goldenDump != null) {
                                goldenDump.beginLayer(layer.name(), layer.opLabel(), gl.shape(), DType.FLOAT32, null);
                            }
                            chunks.addLayer(g, gl, v, c.entireMetrics(), goldenDump);
                            if (goldenDump != null) {
                                goldenDump.endLayer();
                            }
                        }
                        simDump.writeLayer(layer.name(), layer.opLabel(), v);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
            }
            sim.runPerLayer(
                    name -> {
                        DumpManifest.Layer l = g.layer(name);
                        try {
                            return l == null ? null : g.readWhole(l);
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                    },
                    (layer, v) -> {
                        DumpManifest.Layer gl = ChunkedComparison.floatLayer(g, layer.name());
                        if (gl == null) {
                            return;
                        }
                        ChunkedComparison.checkSize(layer, gl, v);
                        try {
                            chunks.addLayer(g, gl, v, byName.get(layer.name()).perLayerMetrics(), null);
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                    });
            try (DumpWriter runtimeDump =
                    dumps == null ? null : DumpWriter.create(dumps.resolve("runtime"), modelName, "runtime", true)) {
                client.run(
                        modelId,
                        feed,
                        DumpFormat.NATIVE,
                        new StreamingComparison(byName, DumpValues.open(simDir), g, runtimeDump, chunks));
            }
        } finally {
            deleteTree(spill);
        }
    }

    private static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(q);
            }
        }
    }

    /** Golden's value of a tensor in the device model's space: divided per channel where SmoothQuant divided it. */
    private Tensor divided(String name, Tensor t) {
        float[] f = goldenDivisors.get(name);
        if (f == null || t.rank() == 0 || t.dim(t.rank() - 1) != f.length || !t.isFloating()) {
            return t;
        }
        float[] v = t.toFloat().floats().clone();
        for (int i = 0; i < v.length; i++) {
            v[i] /= f[i % f.length];
        }
        return Tensor.ofFloats(t.shape(), v);
    }
}
