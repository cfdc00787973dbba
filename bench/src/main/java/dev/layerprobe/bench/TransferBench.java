package dev.layerprobe.bench;

import dev.layerprobe.agent.AgentConfig;
import dev.layerprobe.agent.AgentServer;
import dev.layerprobe.agent.NettyDefaults;
import dev.layerprobe.agent.store.RunStore;
import dev.layerprobe.core.io.Sha256;
import dev.layerprobe.host.client.AgentClient;
import dev.layerprobe.host.client.AgentException;
import dev.layerprobe.host.pull.RunPull;
import dev.layerprobe.proto.v1.DataType;
import dev.layerprobe.proto.v1.DumpFormat;
import dev.layerprobe.proto.v1.LayerHeader;
import dev.layerprobe.proto.v1.QuantInfo;
import dev.layerprobe.proto.v1.RunInfo;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.CompletableFuture;

/**
 * Dump streaming over loopback gRPC against a raw loopback socket copy of the same bytes, both
 * measured in the same process, interleaved, so that machine noise hits both alike.
 *
 * <p>The agent (Netty, as {@code layerprobe agent} runs it) holds a stored run of {@code --mib}
 * MiB of int8 layers (64 MiB each, random codes). One repetition of each:
 * <ul>
 *   <li><b>grpc</b>: {@code PullDump} of every layer through {@link AgentClient#pullLayer}, the
 *       bytes handed to a sink that only touches them;</li>
 *   <li><b>socket</b>: a plain {@link ServerSocketChannel} on 127.0.0.1 that reads the same layer
 *       files into a 1 MiB buffer and writes them to the socket, and a client that reads them into a
 *       1 MiB buffer: the copy that any protocol over TCP has to make, and nothing else.</li>
 * </ul>
 * It prints the median MiB/s of each and {@code ratio: X} (grpc / socket), then, once, the
 * throughput of a whole {@code layerprobe pull} (sha256 of every byte checked, {@code .npy} files
 * written), which is what a user waits for.
 *
 * <p>Usage: {@code TransferBench [--mib N] [--repetitions N] [--warmup N] [--grpc-only]}; defaults
 * 1024, 7 and 6. {@code --grpc-only} times the gRPC path alone, without a ratio, for a profiler.
 * The gRPC path needs several GiB through it before the JIT has compiled all of it (with 3 warm-ups
 * its throughput was still climbing), hence 6.
 */
public final class TransferBench {
    private static final int LAYER_BYTES = 64 << 20;
    private static final int BUFFER = 1 << 20;

    private TransferBench() {}

    public static void main(String[] args) throws Exception {
        int mib = 1024;
        int reps = 7;
        int warmup = 6;
        boolean grpcOnly = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--mib" -> mib = Integer.parseInt(args[++i]);
                case "--repetitions" -> reps = Integer.parseInt(args[++i]);
                case "--warmup" -> warmup = Integer.parseInt(args[++i]);
                case "--grpc-only" -> grpcOnly = true;
                default -> {
                    System.err.println("transfer: unexpected argument '" + args[i]
                            + "'; usage: transfer [--mib N] [--repetitions N] [--warmup N] [--grpc-only]");
                    System.exit(2);
                }
            }
        }
        // As layerprobe's and the agent's main do: the transport is measured as they run it.
        NettyDefaults.apply();
        int layers = Math.max(1, (int) (((long) mib << 20) / LAYER_BYTES));
        long total = (long) layers * LAYER_BYTES;
        try (AgentServer agent = AgentServer.netty(AgentConfig.builder()
                                .port(0)
                                .runRetention(new RunStore.Retention(total * 2, RunStore.Retention.DEFAULT_MAX_AGE))
                                .build())
                        .start();
                RawServer raw = new RawServer(agent.runs().dir());
                AgentClient client = new AgentClient("127.0.0.1", agent.port())) {
            String runId = storeRun(agent.runs(), layers);
            RunInfo run = client.storedRun(runId);
            System.out.printf(
                    Locale.ROOT,
                    "transfer: %d MiB in %d layers of %d MiB over 127.0.0.1, %d repetitions"
                            + " after %d warm-ups of each%n",
                    total >> 20,
                    layers,
                    LAYER_BYTES >> 20,
                    reps,
                    warmup);
            // The gRPC path runs far more Java code than the socket copy; until the JIT has compiled
            // it, the first passes measure the interpreter.
            for (int w = 0; w < warmup; w++) {
                grpc(client, run);
                if (!grpcOnly) {
                    raw.copy(runId, layers);
                }
            }
            if (grpcOnly) {
                profileGrpc(client, run, reps, total);
                return;
            }
            double[] g = new double[reps];
            double[] s = new double[reps];
            double[] gc = new double[reps];
            double[] sc = new double[reps];
            double gib = total / (double) (1L << 30);
            for (int r = 0; r < reps; r++) {
                long c0 = processCpuNanos();
                g[r] = mibPerSecond(total, grpc(client, run));
                long c1 = processCpuNanos();
                s[r] = mibPerSecond(total, raw.copy(runId, layers));
                long c2 = processCpuNanos();
                gc[r] = (c1 - c0) / 1e9 / gib;
                sc[r] = (c2 - c1) / 1e9 / gib;
                System.out.printf(
                        Locale.ROOT,
                        "  repetition %d: grpc %.0f MiB/s (%.2f CPU-s/GiB), socket %.0f MiB/s (%.2f CPU-s/GiB)%n",
                        r + 1,
                        g[r],
                        gc[r],
                        s[r],
                        sc[r]);
            }
            System.out.printf(
                    Locale.ROOT,
                    "process CPU per GiB (median, all threads): grpc %.2f s, socket %.2f s%n",
                    median(gc),
                    median(sc));
            double gm = median(g);
            double sm = median(s);
            System.out.printf(Locale.ROOT, "grpc PullDump: %.0f MiB/s (median)%n", gm);
            System.out.printf(Locale.ROOT, "raw socket:    %.0f MiB/s (median)%n", sm);
            System.out.printf(Locale.ROOT, "ratio: %.2f%n", gm / sm);

            Path out = Files.createTempDirectory("layerprobe-bench-pull-");
            try {
                long t0 = System.nanoTime();
                new RunPull(client, 0).pull(runId, out, n -> {});
                System.out.printf(
                        Locale.ROOT,
                        "layerprobe pull (sha256 verified, .npy written): %.0f MiB/s%n",
                        mibPerSecond(total, System.nanoTime() - t0));
            } finally {
                try (var files = Files.walk(out)) {
                    for (Path p :
                            files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                        Files.delete(p);
                    }
                }
            }
        }
    }

    /** The gRPC path alone, for a profiler: throughput and CPU per GiB of each repetition. */
    private static void profileGrpc(AgentClient client, RunInfo run, int reps, long total) throws AgentException {
        double gib = total / (double) (1L << 30);
        for (int r = 0; r < reps; r++) {
            long c0 = processCpuNanos();
            double g = mibPerSecond(total, grpc(client, run));
            System.out.printf(
                    Locale.ROOT,
                    "  repetition %d: grpc %.0f MiB/s (%.2f CPU-s/GiB)%n",
                    r + 1,
                    g,
                    (processCpuNanos() - c0) / 1e9 / gib);
        }
    }

    /** A run of int8 layers with random codes, stored as Run stores them. */
    private static String storeRun(RunStore store, int layers) throws IOException {
        byte[] block = new byte[BUFFER];
        Random random = new Random(42);
        RunStore.Writer w = store.begin("bench-model", DumpFormat.NATIVE);
        for (int i = 0; i < layers; i++) {
            LayerHeader h = LayerHeader.newBuilder()
                    .setIndex(i)
                    .setName("layer_" + i)
                    .setOp("Conv")
                    .setDtype(DataType.INT8)
                    .addAllShape(List.of(1L, 64L, 1024L, 1024L))
                    .setSizeBytes(LAYER_BYTES)
                    .setQuant(QuantInfo.newBuilder().addScale(0.02f).addZeroPoint(0))
                    .build();
            w.beginLayer(h);
            MessageDigest sha = Sha256.newDigest();
            for (int off = 0; off < LAYER_BYTES; off += BUFFER) {
                random.nextBytes(block);
                sha.update(block);
                w.write(ByteBuffer.wrap(block));
            }
            w.endLayer(Sha256.hex(sha));
        }
        return w.commit().getRunId();
    }

    /** Nanoseconds to pull every layer; the sink reads one byte per chunk so nothing is optimised away. */
    private static long grpc(AgentClient client, RunInfo run) throws AgentException {
        long[] touched = {0};
        long t0 = System.nanoTime();
        for (var layer : run.getLayerListList()) {
            client.pullLayer(run.getRunId(), layer.getHeader(), 0, 0, data -> touched[0] += data.get(data.position()));
        }
        long t = System.nanoTime() - t0;
        if (touched[0] == Long.MIN_VALUE) {
            System.out.println();
        }
        return t;
    }

    /** CPU time of the whole process, every thread (the agent's and the client's alike). */
    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    private static double mibPerSecond(long bytes, long nanos) {
        return bytes / 1048576.0 / (nanos / 1e9);
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    /** Serves a run's layer files over a plain socket: read into a buffer, write to the socket. */
    private static final class RawServer implements AutoCloseable {
        private final Path runs;
        private final ServerSocketChannel listener;

        RawServer(Path runs) throws IOException {
            this.runs = runs;
            this.listener = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        }

        /** Nanoseconds for the client to receive every layer. */
        long copy(String runId, int layers) throws Exception {
            CompletableFuture<Void> sent = CompletableFuture.runAsync(() -> {
                ByteBuffer buf = ByteBuffer.allocateDirect(BUFFER);
                try (SocketChannel s = listener.accept()) {
                    for (int i = 0; i < layers; i++) {
                        try (FileChannel f =
                                FileChannel.open(runs.resolve(runId).resolve(String.format("%04d.bin", i)))) {
                            while (f.read(buf.clear()) > 0) {
                                buf.flip();
                                while (buf.hasRemaining()) {
                                    s.write(buf);
                                }
                            }
                        }
                    }
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            ByteBuffer buf = ByteBuffer.allocateDirect(BUFFER);
            long received = 0;
            long t0 = System.nanoTime();
            try (SocketChannel c = SocketChannel.open(listener.getLocalAddress())) {
                for (int n; (n = c.read(buf.clear())) >= 0; ) {
                    received += n;
                }
            }
            long t = System.nanoTime() - t0;
            sent.get();
            if (received != (long) layers * LAYER_BYTES) {
                throw new IllegalStateException("raw copy received " + received + " bytes");
            }
            return t;
        }

        @Override
        public void close() throws IOException {
            listener.close();
        }
    }
}
