package dev.layerprobe.agent.store;

import dev.layerprobe.core.io.AtomicFiles;
import dev.layerprobe.proto.v1.DumpFormat;
import dev.layerprobe.proto.v1.LayerHeader;
import dev.layerprobe.proto.v1.RunInfo;
import dev.layerprobe.proto.v1.StoredLayer;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.regex.Pattern;

/**
 * Runs kept on the agent's disk, so a host can list them and pull their dumps later, resuming where
 * a pull stopped (docs/architecture.md#wire-protocol). Each run is a directory {@code <runs dir>/<run id>/} holding one
 * {@code NNNN.bin} per layer (the layer's bytes exactly as {@code Run} streamed them),
 * {@code layers.idx} (the layers' headers and sha256s, appended as each layer completes) and, once
 * the run has finished, {@code run.pb} (its {@link RunInfo}); a directory without {@code run.pb} is
 * a run that never finished, and is deleted when the store opens.
 *
 * <p>Retention: after every committed run, and when the store opens, runs older than
 * {@link Retention#maxAge()} are deleted, then the oldest runs until the total is within
 * {@link Retention#maxBytes()}. The run just committed is never evicted by its own commit, so the
 * run id a {@code Run} returns always names a stored run, even one larger than the limit.
 *
 * <p>Thread-safe: the index is guarded by the store's lock; each {@link Writer} belongs to the one
 * thread that runs its model. Files of an evicted run that a pull still reads stay readable through
 * the open channel until it is closed.
 */
public final class RunStore implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(RunStore.class.getName());
    private static final Pattern RUN_ID =
            Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
    private static final String INFO = "run.pb";
    private static final String INDEX = "layers.idx";

    /**
     * How much the store keeps.
     *
     * @param maxBytes total bytes of stored layers beyond which the oldest runs are deleted
     * @param maxAge runs older than this are deleted
     */
    public record Retention(long maxBytes, Duration maxAge) {
        public static final long DEFAULT_MAX_BYTES = 4L << 30;
        public static final Duration DEFAULT_MAX_AGE = Duration.ofDays(1);
        public static final Retention DEFAULT = new Retention(DEFAULT_MAX_BYTES, DEFAULT_MAX_AGE);

        public Retention {
            if (maxBytes <= 0) {
                throw new IllegalArgumentException("run retention size must be positive, got " + maxBytes + " bytes");
            }
            if (maxAge == null || maxAge.isNegative() || maxAge.isZero()) {
                throw new IllegalArgumentException("run retention age must be positive, got " + maxAge);
            }
        }
    }

    private final Path dir;
    private final boolean temporary;
    private final Retention retention;
    private final Clock clock;
    /** Committed runs by id, oldest first. */
    private final Map<String, RunInfo> runs = new LinkedHashMap<>();

    private RunStore(Path dir, boolean temporary, Retention retention, Clock clock) {
        this.dir = dir;
        this.temporary = temporary;
        this.retention = retention;
        this.clock = clock;
    }

    /** A store in {@code dir} (created if missing) that keeps the runs it finds there. */
    public static RunStore open(Path dir, Retention retention) throws IOException {
        return open(dir, retention, Clock.systemUTC());
    }

    static RunStore open(Path dir, Retention retention, Clock clock) throws IOException {
        RunStore s = new RunStore(Files.createDirectories(dir), false, retention, clock);
        s.load();
        return s;
    }

    /** A store in a fresh temporary directory, deleted with everything in it by {@link #close()}. */
    public static RunStore temporary(Retention retention) throws IOException {
        return new RunStore(Files.createTempDirectory("layerprobe-runs-"), true, retention, Clock.systemUTC());
    }

    /** Whether {@code id} has the form of a run id (a lowercase UUID), so it can never name a path outside the store. */
    public static boolean isRunId(String id) {
        return id != null && RUN_ID.matcher(id).matches();
    }

    public Path dir() {
        return dir;
    }

    public Retention retention() {
        return retention;
    }

    private void load() throws IOException {
        List<RunInfo> found = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
            for (Path p : s) {
                String name = p.getFileName().toString();
                if (!Files.isDirectory(p) || !isRunId(name)) {
                    continue;
                }
                Path info = p.resolve(INFO);
                if (!Files.isRegularFile(info)) {
                    deleteTree(p); // interrupted before it finished: nobody was given its id
                    continue;
                }
                try (InputStream in = Files.newInputStream(info)) {
                    found.add(RunInfo.parseFrom(in));
                } catch (IOException e) {
                    LOG.log(Level.WARNING, "dropping unreadable stored run " + p, e);
                    deleteTree(p);
                }
            }
        }
        found.sort(Comparator.comparingLong(RunInfo::getCreatedUnixMillis));
        synchronized (this) {
            for (RunInfo r : found) {
                runs.put(r.getRunId(), r);
            }
            evict(null);
        }
    }

    /** Starts storing a new run. */
    public Writer begin(String modelId, DumpFormat format) throws IOException {
        String id = UUID.randomUUID().toString();
        Path runDir = Files.createDirectories(dir.resolve(id));
        return new Writer(id, runDir, modelId, format, clock.millis());
    }

    /** The committed runs, newest first, without their layers. */
    public synchronized List<RunInfo> list() {
        List<RunInfo> out = new ArrayList<>(runs.values());
        java.util.Collections.reverse(out);
        return out;
    }

    /** A committed run with its layers, or empty if there is no such run (any more). */
    public Optional<RunInfo> get(String runId) throws IOException {
        RunInfo info;
        synchronized (this) {
            info = isRunId(runId) ? runs.get(runId) : null;
        }
        if (info == null) {
            return Optional.empty();
        }
        List<StoredLayer> layers = new ArrayList<>();
        try (InputStream in =
                new BufferedInputStream(Files.newInputStream(dir.resolve(runId).resolve(INDEX)))) {
            StoredLayer l;
            while ((l = StoredLayer.parseDelimitedFrom(in)) != null) {
                layers.add(l);
            }
        } catch (java.nio.file.NoSuchFileException e) {
            return Optional.empty(); // evicted between the lookup and the read
        }
        return Optional.of(info.toBuilder().addAllLayerList(layers).build());
    }

    /**
     * Opens a stored layer's bytes for reading. The caller closes the channel; it stays readable
     * even if the run is evicted meanwhile.
     */
    public FileChannel openLayer(String runId, int index) throws IOException {
        return FileChannel.open(dir.resolve(runId).resolve(layerFile(index)), StandardOpenOption.READ);
    }

    private static String layerFile(int index) {
        return String.format("%04d.bin", index);
    }

    private synchronized void commit(RunInfo info, Path runDir) throws IOException {
        AtomicFiles.write(runDir.resolve(INFO), info::writeTo);
        runs.put(info.getRunId(), info);
        evict(info.getRunId());
    }

    /** Applies the retention, sparing {@code keep} (may be null). Caller holds the lock. */
    private void evict(String keep) {
        long now = clock.millis();
        long total = runs.values().stream().mapToLong(RunInfo::getTotalBytes).sum();
        var it = runs.values().iterator();
        while (it.hasNext()) {
            RunInfo r = it.next(); // oldest first
            if (r.getRunId().equals(keep)) {
                continue;
            }
            boolean old = now - r.getCreatedUnixMillis() > retention.maxAge().toMillis();
            if (old || total > retention.maxBytes()) {
                it.remove();
                total -= r.getTotalBytes();
                try {
                    deleteTree(dir.resolve(r.getRunId()));
                } catch (IOException e) {
                    LOG.log(Level.WARNING, "could not delete evicted run " + r.getRunId(), e);
                }
            }
        }
    }

    /** Deletes a temporary store's directory; a store on a data directory keeps its runs. */
    @Override
    public void close() {
        if (temporary) {
            try {
                deleteTree(dir);
            } catch (IOException e) {
                LOG.log(Level.WARNING, "could not delete temporary run store " + dir, e);
            }
        }
    }

    /**
     * Deletes {@code p} and everything below it. Another deleter may be at the same tree (a run
     * aborting while the store closes or evicts): what vanishes meanwhile is skipped, not an error.
     */
    private static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        Files.walkFileTree(p, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.deleteIfExists(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                if (e instanceof NoSuchFileException) {
                    return FileVisitResult.CONTINUE;
                }
                throw e;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
                if (e != null && !(e instanceof NoSuchFileException)) {
                    throw e;
                }
                Files.deleteIfExists(dir);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    /**
     * Stores one run as it streams: {@link #beginLayer}, {@link #write} the layer's bytes in order,
     * {@link #endLayer} with their sha256; then {@link #commit} or {@link #abort}. Not thread-safe.
     */
    public final class Writer implements AutoCloseable {
        private final String runId;
        private final Path runDir;
        private final String modelId;
        private final DumpFormat format;
        private final long created;
        private final OutputStream index;
        private FileChannel layer;
        private LayerHeader header;
        private int layers;
        private long totalBytes;
        private boolean done;

        private Writer(String runId, Path runDir, String modelId, DumpFormat format, long created) throws IOException {
            this.runId = runId;
            this.runDir = runDir;
            this.modelId = modelId;
            this.format = format;
            this.created = created;
            this.index = Files.newOutputStream(runDir.resolve(INDEX));
        }

        public String runId() {
            return runId;
        }

        public void beginLayer(LayerHeader h) throws IOException {
            header = h;
            layer = FileChannel.open(
                    runDir.resolve(layerFile(h.getIndex())),
                    StandardOpenOption.CREATE,
                    StandardOpenOption.TRUNCATE_EXISTING,
                    StandardOpenOption.WRITE);
        }

        /** Appends the bytes remaining in {@code data} (its position is left unchanged). */
        public void write(ByteBuffer data) throws IOException {
            ByteBuffer b = data.duplicate();
            while (b.hasRemaining()) {
                layer.write(b);
            }
        }

        public void endLayer(String sha256) throws IOException {
            layer.close();
            layer = null;
            StoredLayer.newBuilder().setHeader(header).setSha256(sha256).build().writeDelimitedTo(index);
            totalBytes += header.getSizeBytes();
            layers++;
            header = null;
        }

        /** Makes the run visible to {@link #list()} and pulls, and applies the retention. */
        public RunInfo commit() throws IOException {
            index.close();
            RunInfo info = RunInfo.newBuilder()
                    .setRunId(runId)
                    .setModelId(modelId)
                    .setCreatedUnixMillis(created)
                    .setLayers(layers)
                    .setTotalBytes(totalBytes)
                    .setFormat(format)
                    .build();
            RunStore.this.commit(info, runDir);
            done = true;
            return info;
        }

        /** Deletes what was stored of an unfinished run. Idempotent; a no-op after commit. */
        public void abort() {
            if (done) {
                return;
            }
            done = true;
            try {
                if (layer != null) {
                    layer.close();
                }
                index.close();
                deleteTree(runDir);
            } catch (IOException e) {
                throw new UncheckedIOException("could not delete unfinished run " + runId, e);
            }
        }

        /** Aborts unless committed. */
        @Override
        public void close() {
            abort();
        }
    }
}
