package dev.layerprobe.host.analyze;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.dump.DumpManifest;
import dev.layerprobe.dump.DumpValues;
import dev.layerprobe.dump.DumpWriter;
import dev.layerprobe.host.client.AgentException;
import dev.layerprobe.host.client.DeviceFarm;
import dev.layerprobe.host.golden.GoldenException;
import dev.layerprobe.host.golden.GoldenRunner;
import dev.layerprobe.proto.v1.DumpFormat;
import dev.layerprobe.simulator.Layer;
import dev.layerprobe.simulator.NpuProgram;
import dev.layerprobe.simulator.SimulatorException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

/**
 * One input through golden, the simulator and the device, in bounded memory. On disk: golden's
 * tensors are spilled to a dump as ONNX Runtime hands them over, the simulator's layers are compared
 * with them a range of elements at a time as they are produced (the program frees each value after
 * its last consumer) and written to the simulator's dump, and the device's layers are compared with
 * both dumps chunk by chunk as they stream in ({@link StreamingComparison}); the heap holds a few
 * layers of the simulator and one chunk of each dump, never a run. That is how the input whose dumps
 * are kept runs, and any input whose run would not fit in the memory budget. Other inputs keep
 * golden's and the simulator's values in memory instead, and the device runs alongside the host's
 * work ({@link #inMemory}). Every comparison goes through {@link ChunkedComparison} with the same
 * chunks either way, so where an input ran does not change the results.
 *
 * <p>Each input's comparisons go to rows of its own, which the caller pools in input order
 * ({@link LayerComparison#addInput}), so inputs may run at once. Thread-safe for inputs run at once
 * (the device's stream of an input runs in a thread of its own, and the input returns only after it),
 * as long as only one of them keeps its dumps or runs on disk at a time.
 */
final class InputRun implements AutoCloseable {
    /**
     * Each input's device run is compared as it streams in (and written to the report's own dumps
     * when kept), never pulled again: the device need not keep it on its disk.
     */
    private static final boolean STREAM_ONLY = true;

    private final Path reportDir;
    private final String modelName;
    private final GoldenRunner golden;
    private final Map<String, float[]> goldenDivisors;
    private final NpuProgram sim;
    private final DeviceFarm devices;
    private final String modelId;
    /** The device's stream and the layers run alone of each input, beside the whole program on the input's thread. */
    private final ExecutorService workers = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "layerprobe-input");
        t.setDaemon(true);
        return t;
    });
    /** Bytes of golden's and the simulator's values an input may keep in memory. */
    private final long memoryBudget;
    /** Bytes of golden's and the simulator's values of one input, from the largest run on disk so far; -1 before. */
    private volatile long runBytes = -1;

    /**
     * @param reportDir where the temporary spill of golden's tensors goes (removed after each input)
     * @param goldenDivisors per-channel factors (last axis) by which golden's tensors of those names
     *     are divided, to compare in the space of a SmoothQuant model; empty for none
     * @param devices where each input's device run goes (another device when one is lost mid-run)
     * @param modelId the devices' id of the uploaded model {@code sim} was compiled from
     * @param memoryBudget bytes of golden's and the simulator's values an input may keep in memory
     */
    InputRun(
            Path reportDir,
            String modelName,
            GoldenRunner golden,
            Map<String, float[]> goldenDivisors,
            NpuProgram sim,
            DeviceFarm devices,
            String modelId,
            long memoryBudget) {
        this.reportDir = reportDir;
        this.modelName = modelName;
        this.golden = golden;
        this.goldenDivisors = goldenDivisors;
        this.sim = sim;
        this.devices = devices;
        this.modelId = modelId;
        this.memoryBudget = memoryBudget;
    }

    /**
     * Runs and compares one input: in memory when it is not the one whose dumps are kept and an
     * earlier input showed that golden's and the simulator's values of one input fit in the memory
     * budget; on disk otherwise.
     *
     * @param dumps where the golden, simulator and runtime dumps of this input are kept, or null to keep none
     * @param byName this input's own rows, by layer name, that the comparisons add to
     * @param output where the model output's values are kept, or null
     * @return the device (its address) that ran the input's device side
     */
    String run(Map<String, Tensor> feed, Path dumps, Map<String, LayerComparison> byName, OutputCapture output)
            throws IOException, GoldenException, SimulatorException, AgentException {
        if (dumps == null && fitsInMemory(1)) {
            return inMemory(feed, byName, output);
        }
        return onDisk(feed, dumps, byName, output);
    }

    /**
     * Whether {@code inputs} inputs may be in memory at once: an earlier input ran through disk and
     * showed that golden's and the simulator's values of that many fit in the budget.
     */
    boolean fitsInMemory(int inputs) {
        long b = runBytes;
        return b >= 0 && b <= memoryBudget / inputs;
    }

    /**
     * Golden's tensors and the simulator's layers stay in memory for the input's time. The device
     * streams in a thread of its own from the start, comparing each layer as soon as the simulator
     * has produced it ({@link SimLayers}); once golden has run, the simulator's layers alone on
     * golden's inputs run in another thread while the whole program runs on this one. So the device,
     * the program and the layers alone run at once, each comparing as it goes; every comparison
     * still gets its chunks in the same order as on disk, so the results are the same.
     */
    private String inMemory(Map<String, Tensor> feed, Map<String, LayerComparison> byName, OutputCapture output)
            throws IOException, GoldenException, SimulatorException, AgentException {
        ChunkedComparison chunks = new ChunkedComparison();
        ChunkedComparison perLayerChunks = new ChunkedComparison();
        ChunkedComparison deviceChunks = new ChunkedComparison();
        SimLayers simLayers = new SimLayers();
        Map<String, Tensor> goldenValues = new HashMap<>();
        LayerRanges g = LayerRanges.ofTensors(goldenValues);
        // The device thread reads golden only after the simulator's first layer, which comes after
        // golden has run: the board's lock orders the two.
        String deviceName;
        Future<String> device = workers.submit(() -> devices.run(client -> {
                    clearDevice(byName); // what an attempt on a lost device added
                    client.run(
                            modelId,
                            feed,
                            DumpFormat.NATIVE,
                            0,
                            STREAM_ONLY,
                            new StreamingComparison(byName, simLayers, g, null, deviceChunks, output));
                    return null;
                })
                .device());
        Future<?> perLayer = null;
        try {
            try {
                golden.run(feed, (name, t) -> {
                    Tensor d = divided(name, t);
                    goldenValues.put(name, d);
                    if (output != null) {
                        output.golden(name, d);
                    }
                });
                perLayer = workers.submit(() -> {
                    sim.runPerLayer(
                            goldenValues::get, (layer, v) -> comparePerLayer(byName, layer, v, g, perLayerChunks));
                    return null;
                });
                sim.run(feed, (layer, v) -> {
                    compareEntire(byName, output, layer, v, g, null, chunks);
                    simLayers.put(layer.name(), v);
                });
            } finally {
                simLayers.finish();
                if (perLayer != null) {
                    await(perLayer);
                }
            }
        } finally {
            deviceName = await(device);
        }
        return deviceName;
    }

    private String onDisk(
            Map<String, Tensor> feed, Path dumps, Map<String, LayerComparison> byName, OutputCapture output)
            throws IOException, GoldenException, SimulatorException, AgentException {
        ChunkedComparison chunks = new ChunkedComparison();
        Path spill = Files.createTempDirectory(reportDir, ".spill-");
        long[] bytes = {0};
        try {
            Path goldenAll = spill.resolve("golden");
            try (DumpWriter w = DumpWriter.create(goldenAll, modelName, "golden", true)) {
                golden.run(feed, (name, t) -> {
                    Tensor d = divided(name, t);
                    bytes[0] += 4L * d.size();
                    w.writeLayer(name, null, LayerValue.of(d));
                    if (output != null) {
                        output.golden(name, d);
                    }
                });
            }
            DumpValues goldenDump = DumpValues.open(goldenAll);
            LayerRanges g = LayerRanges.of(goldenDump, true);
            Path simDir = dumps != null ? dumps.resolve("simulator") : spill.resolve("simulator");
            try (DumpWriter goldenCopy = dumps == null
                            ? null
                            : DumpWriter.create(dumps.resolve("golden"), modelName, "golden", true);
                    DumpWriter simDump = DumpWriter.create(simDir, modelName, "simulator", true)) {
                sim.run(feed, (layer, v) -> {
                    bytes[0] += 4L * size(v);
                    compareEntire(byName, output, layer, v, g, goldenCopy, chunks);
                    try {
                        simDump.writeLayer(layer.name(), layer.opLabel(), v);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
            }
            sim.runPerLayer(
                    name -> {
                        DumpManifest.Layer l = goldenDump.layer(name);
                        try {
                            return l == null ? null : goldenDump.readWhole(l);
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                    },
                    (layer, v) -> comparePerLayer(byName, layer, v, g, chunks));
            Path runtimeDir = dumps == null ? null : dumps.resolve("runtime");
            String device = devices.run(client -> {
                        clearDevice(byName); // what an attempt on a lost device added
                        if (runtimeDir != null) {
                            deleteTree(runtimeDir); // and wrote
                        }
                        try (DumpWriter runtimeDump =
                                runtimeDir == null ? null : DumpWriter.create(runtimeDir, modelName, "runtime", true)) {
                            client.run(
                                    modelId,
                                    feed,
                                    DumpFormat.NATIVE,
                                    0,
                                    STREAM_ONLY,
                                    new StreamingComparison(
                                            byName,
                                            LayerRanges.of(DumpValues.open(simDir), false),
                                            g,
                                            runtimeDump,
                                            chunks,
                                            output));
                        }
                        return null;
                    })
                    .device();
            runBytes = Math.max(runBytes, bytes[0]);
            return device;
        } finally {
            deleteTree(spill);
        }
    }

    /** {@code entire}: golden against the simulator's layer, copying golden to {@code goldenCopy} when not null. */
    private static void compareEntire(
            Map<String, LayerComparison> byName,
            OutputCapture output,
            Layer layer,
            LayerValue v,
            LayerRanges g,
            DumpWriter goldenCopy,
            ChunkedComparison chunks) {
        LayerComparison c = byName.get(layer.name());
        if (output != null) {
            output.simulator(layer.name(), v);
        }
        try {
            c.setShape(v.shape());
            LayerRanges.Range gl = g.layer(layer.name());
            if (gl != null) {
                ChunkedComparison.checkSize(layer, gl, v);
                if (goldenCopy != null) {
                    goldenCopy.beginLayer(layer.name(), layer.opLabel(), gl.shape(), DType.FLOAT32, null);
                }
                chunks.addLayer(gl, v, c.entireMetrics(), goldenCopy);
                if (goldenCopy != null) {
                    goldenCopy.endLayer();
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@code per_layer}: golden against the simulator's layer run alone on golden's inputs. */
    private static void comparePerLayer(
            Map<String, LayerComparison> byName, Layer layer, LayerValue v, LayerRanges g, ChunkedComparison chunks) {
        try {
            LayerRanges.Range gl = g.layer(layer.name());
            if (gl != null) {
                ChunkedComparison.checkSize(layer, gl, v);
                chunks.addLayer(gl, v, byName.get(layer.name()).perLayerMetrics(), null);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Waits for a task of an input (the device's stream, the layers alone), and rethrows its failure. */
    private static <T> T await(Future<T> task) throws AgentException, IOException, SimulatorException {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return task.get();
                } catch (InterruptedException e) {
                    interrupted = true; // the task holds the device or the rows: let it finish, not run on unseen
                } catch (ExecutionException e) {
                    Throwable cause = e.getCause();
                    if (cause instanceof AgentException a) {
                        throw a;
                    }
                    if (cause instanceof IOException io) {
                        throw io;
                    }
                    if (cause instanceof SimulatorException se) {
                        throw se;
                    }
                    if (cause instanceof UncheckedIOException u) {
                        throw u.getCause();
                    }
                    if (cause instanceof RuntimeException r) {
                        throw r;
                    }
                    throw new IllegalStateException(cause);
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Stops the worker threads; call when no input runs. */
    @Override
    public void close() {
        workers.shutdownNow();
    }

    private static void clearDevice(Map<String, LayerComparison> byName) {
        for (LayerComparison c : byName.values()) {
            c.clearDevice();
        }
    }

    private static int size(LayerValue v) {
        return v.codes() != null ? v.codes().size() : v.real().size();
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
