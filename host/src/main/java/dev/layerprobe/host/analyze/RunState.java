package dev.layerprobe.host.analyze;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.layerprobe.core.io.AtomicFiles;
import dev.layerprobe.core.io.Sha256;
import dev.layerprobe.host.input.InputException;
import dev.layerprobe.host.report.InputResult;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.CRC32;

/**
 * An analysis's state in its report folder ({@code state/}), written as inputs finish, so that an
 * interrupted run continues ({@code --resume}) and slices of the inputs run apart are combined
 * ({@code merge}) into the report one run would have written.
 *
 * <p>{@code state/header.json} (written atomically at the start) holds the run's key, the number of
 * inputs, the slice and the options; {@code state/inputs.journal} is append-only, one record per
 * finished input: a 4-byte length, the CRC-32 of the payload (8 bytes), and the payload: the
 * {@link InputResult} and the input's own sums of every layer's comparisons
 * ({@link LayerComparison#write}), doubles as their bits. A process killed mid-record leaves a short
 * or mismatching last record, which reading drops (and resuming cuts off), so the input is run again;
 * no record is written twice for an input. The key is the SHA-256 of the options (without the report
 * folder and how the run is spread) and of the model, QDQ, profile and labels files' contents: a
 * resume or merge with another key is refused. Not thread-safe: one writer.
 */
final class RunState implements AutoCloseable {
    static final String FOLDER = "state";
    private static final String HEADER = "header.json";
    private static final String JOURNAL = "inputs.journal";
    private static final int FORMAT = 1;
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final FileChannel journal;
    private final Map<Integer, Long> done;

    private RunState(FileChannel journal, Map<Integer, Long> done) {
        this.journal = journal;
        this.done = done;
    }

    /** Where a finished input's record is: which journal, at which byte. */
    record Location(Path journal, long offset) {}

    /** What a state folder says about its run. */
    record Header(String key, int inputs, DatasetOptions.Shard shard, AnalysisOptions options) {}

    /** The run's key (see the class comment). */
    static String key(AnalysisOptions o, DatasetOptions d) throws IOException {
        ObjectNode n = JSON.valueToTree(o.withReportDir(null));
        n.put("labels", d.labels() == null ? null : d.labels().toAbsolutePath().toString());
        StringBuilder b = new StringBuilder(JSON.writeValueAsString(n));
        for (Path p : new Path[] {o.model(), o.quantized(), o.profile(), d.labels()}) {
            b.append('\n').append(p == null || !Files.isRegularFile(p) ? "-" : Sha256.hexOf(p));
        }
        return Sha256.hexOf(b.toString().getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Starts the state of a run, or with {@code resume} continues the one in {@code reportDir}.
     *
     * @throws InputException when resuming finds no state or a run with another key or slice
     */
    static RunState open(Path reportDir, Header header, DatasetOptions d, boolean resume)
            throws IOException, InputException {
        Path dir = reportDir.resolve(FOLDER);
        Path file = dir.resolve(JOURNAL);
        if (resume) {
            checkResume(reportDir, header);
            Map<Integer, Long> done = new TreeMap<>();
            long end = scan(file, done, null);
            FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            ch.truncate(end); // a record cut off by the interruption
            ch.position(end);
            return new RunState(ch, done);
        }
        Files.createDirectories(dir);
        Files.deleteIfExists(file);
        ObjectNode h = JSON.createObjectNode();
        h.put("format", FORMAT);
        h.put("key", header.key());
        h.put("inputs", header.inputs());
        h.put("shard", header.shard() == null ? null : header.shard().toString());
        h.put("labels", d.labels() == null ? null : d.labels().toAbsolutePath().toString());
        h.set("options", JSON.valueToTree(header.options()));
        AtomicFiles.write(dir.resolve(HEADER), JSON.writeValueAsBytes(h));
        FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        return new RunState(ch, new TreeMap<>());
    }

    /** The header of the state in {@code reportDir}; {@code what} names the option that needs it, for the error. */
    /**
     * Whether the run in {@code reportDir} can be resumed as {@code header}'s run (its key, input
     * count and slice); {@code analyze --resume} asks before any calibration.
     *
     * @throws InputException when there is no state or it is another run's
     */
    static void checkResume(Path reportDir, Header header) throws InputException {
        Header old = readHeader(reportDir, "--resume");
        if (!old.key().equals(header.key()) || old.inputs() != header.inputs()) {
            throw new InputException("--resume: the run in " + reportDir + " used another model, other inputs"
                    + " or other options; run without --resume to start over");
        }
        if (!java.util.Objects.equals(old.shard(), header.shard())) {
            throw new InputException("--resume: the run in " + reportDir + " ran "
                    + (old.shard() == null ? "every input" : "shard " + old.shard()) + ", not "
                    + (header.shard() == null ? "every input" : "shard " + header.shard()));
        }
    }

    static Header readHeader(Path reportDir, String what) throws InputException {
        Path f = reportDir.resolve(FOLDER).resolve(HEADER);
        if (!Files.isRegularFile(f)) {
            throw new InputException(what + ": " + reportDir + " holds no analysis state (" + FOLDER + "/" + HEADER
                    + "); run analyze there first");
        }
        try {
            JsonNode h = JSON.readTree(f.toFile());
            if (h.path("format").asInt() != FORMAT) {
                throw new InputException(what + ": " + f + " is of another format (" + h.path("format") + ")");
            }
            String shard = h.path("shard").isNull() ? null : h.path("shard").asText();
            return new Header(
                    h.path("key").asText(),
                    h.path("inputs").asInt(),
                    shard == null ? null : DatasetOptions.Shard.parse(shard),
                    JSON.treeToValue(h.path("options"), AnalysisOptions.class));
        } catch (IOException e) {
            throw new InputException(what + ": cannot read " + f + ": " + dev.layerprobe.core.OneLine.of(e));
        }
    }

    /** The labels option of the state in {@code reportDir}, or null. */
    static Path labels(Path reportDir) throws IOException {
        JsonNode h = JSON.readTree(reportDir.resolve(FOLDER).resolve(HEADER).toFile());
        return h.path("labels").isNull() || h.path("labels").isMissingNode()
                ? null
                : Path.of(h.path("labels").asText());
    }

    /** Inputs already finished, by position. */
    boolean isDone(int position) {
        return done.containsKey(position);
    }

    int doneCount() {
        return done.size();
    }

    /** Appends a finished input's record. */
    void append(InputResult r, List<LayerComparison> rows) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            writeResult(out, r);
            out.writeInt(rows.size());
            for (LayerComparison c : rows) {
                c.write(out);
            }
        }
        byte[] payload = bytes.toByteArray();
        CRC32 crc = new CRC32();
        crc.update(payload);
        ByteBuffer b = ByteBuffer.allocate(12 + payload.length);
        b.putInt(payload.length).putLong(crc.getValue()).put(payload).flip();
        long at = journal.position();
        while (b.hasRemaining()) {
            journal.write(b);
        }
        done.put(r.index(), at);
    }

    /**
     * Reads every whole record of a journal from the start, putting each input's position and
     * location in {@code into} (the first record of a position wins); returns the byte where the
     * whole records end.
     *
     * @param positions when not null, receives every record's position in journal order
     */
    static long scan(Path journal, Map<Integer, Long> into, List<Integer> positions) throws IOException {
        if (!Files.exists(journal)) {
            return 0;
        }
        try (FileChannel ch = FileChannel.open(journal, StandardOpenOption.READ)) {
            long size = ch.size();
            long at = 0;
            ByteBuffer head = ByteBuffer.allocate(12);
            while (at + 12 <= size) {
                head.clear();
                readFully(ch, head, at);
                head.flip();
                int len = head.getInt();
                long sum = head.getLong();
                if (len < 0 || at + 12 + len > size) {
                    break;
                }
                byte[] payload = new byte[len];
                readFully(ch, ByteBuffer.wrap(payload), at + 12);
                CRC32 crc = new CRC32();
                crc.update(payload);
                if (crc.getValue() != sum) {
                    break;
                }
                int position = new DataInputStream(new ByteArrayInputStream(payload)).readInt();
                into.putIfAbsent(position, at);
                if (positions != null) {
                    positions.add(position);
                }
                at += 12 + len;
            }
            return at;
        }
    }

    /** The finished inputs of the state in {@code reportDir}, by position. */
    static Map<Integer, Location> locations(Path reportDir) throws IOException {
        Path file = reportDir.resolve(FOLDER).resolve(JOURNAL);
        Map<Integer, Long> at = new TreeMap<>();
        scan(file, at, null);
        Map<Integer, Location> out = new TreeMap<>();
        at.forEach((k, v) -> out.put(k, new Location(file, v)));
        return out;
    }

    /** Every record's position in journal order, to check that no input was journaled twice. */
    static List<Integer> journaled(Path reportDir) throws IOException {
        List<Integer> positions = new ArrayList<>();
        scan(reportDir.resolve(FOLDER).resolve(JOURNAL), new TreeMap<>(), positions);
        return positions;
    }

    /**
     * Reads one record into {@code rows} (one input's fresh comparisons, in layer order) and returns its result.
     *
     * @throws IOException when the record does not match the rows (another model)
     */
    static InputResult read(FileChannel ch, long offset, List<LayerComparison> rows) throws IOException {
        ByteBuffer head = ByteBuffer.allocate(12);
        readFully(ch, head, offset);
        head.flip();
        byte[] payload = new byte[head.getInt()];
        readFully(ch, ByteBuffer.wrap(payload), offset + 12);
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(payload));
        InputResult r = readResult(in);
        int n = in.readInt();
        if (n != rows.size()) {
            throw new IOException("a state record has " + n + " layers, the model " + rows.size());
        }
        for (LayerComparison c : rows) {
            c.read(in);
        }
        return r;
    }

    private static void readFully(FileChannel ch, ByteBuffer b, long at) throws IOException {
        long p = at;
        while (b.hasRemaining()) {
            int n = ch.read(b, p);
            if (n < 0) {
                throw new java.io.EOFException("state journal ends inside a record");
            }
            p += n;
        }
    }

    private static void writeResult(DataOutputStream out, InputResult r) throws IOException {
        out.writeInt(r.index());
        out.writeUTF(r.file());
        out.writeUTF(r.agent());
        out.writeBoolean(r.label() != null);
        if (r.label() != null) {
            out.writeInt(r.label());
        }
        for (int[] top : new int[][] {r.goldenTop(), r.simulatorTop(), r.deviceTop()}) {
            out.writeInt(top == null ? -1 : top.length);
            if (top != null) {
                for (int t : top) {
                    out.writeInt(t);
                }
            }
        }
        for (Double c : new Double[] {r.simulatorCos(), r.deviceCos(), r.simuErrCos()}) {
            out.writeBoolean(c != null);
            if (c != null) {
                out.writeDouble(c);
            }
        }
        out.writeBoolean(r.firstWrong() != null);
        if (r.firstWrong() != null) {
            out.writeUTF(r.firstWrong());
        }
    }

    private static InputResult readResult(DataInputStream in) throws IOException {
        int index = in.readInt();
        String file = in.readUTF();
        String agent = in.readUTF();
        Integer label = in.readBoolean() ? in.readInt() : null;
        int[][] tops = new int[3][];
        for (int i = 0; i < 3; i++) {
            int n = in.readInt();
            if (n >= 0) {
                tops[i] = new int[n];
                for (int j = 0; j < n; j++) {
                    tops[i][j] = in.readInt();
                }
            }
        }
        Double[] cos = new Double[3];
        for (int i = 0; i < 3; i++) {
            cos[i] = in.readBoolean() ? in.readDouble() : null;
        }
        String firstWrong = in.readBoolean() ? in.readUTF() : null;
        return new InputResult(
                index, file, agent, label, tops[0], tops[1], tops[2], cos[0], cos[1], cos[2], firstWrong);
    }

    @Override
    public void close() throws IOException {
        journal.close();
    }
}
