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
import io.grpc.CallOptions;
import io.grpc.Drainable;
import io.grpc.HasByteBuffer;
import io.grpc.KnownLength;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.ChannelOption;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
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
 * Pulling a stored run over loopback against a raw loopback socket copy of the same bytes, all
 * measured in the same process, interleaved, so that machine noise hits every leg alike.
 *
 * <p>The agent (Netty, as {@code layerprobe agent} runs it, with its bulk port) holds a stored run
 * of {@code --mib} MiB of int8 layers (64 MiB each, random codes). One repetition of each leg:
 * <ul>
 *   <li><b>pull</b>: every layer through {@link AgentClient#pullLayer} as {@code layerprobe pull}
 *       makes it, over the agent's bulk port (a ticket from {@code OpenBulkPull}, then the layer's
 *       bytes unframed on a TCP connection), the bytes handed to a sink that only touches them;</li>
 *   <li><b>PullDump</b>: the same through gRPC's {@code PullDump} (a client with bulk pulls off),
 *       what a host gets where the bulk port is off or not reachable;</li>
 *   <li><b>bare gRPC</b>: gRPC-Java alone, with none of LayerProbe's code, at its best for this
 *       traffic through its public API ({@link BareGrpc}): the same number of bytes streamed from
 *       memory, copied once into the transport's buffers, by a server whose handlers run on the
 *       transport's thread, in 1 MiB messages, 64 per call as a layer has, to a client with the
 *       agent client's transport settings that skips them in place: what HTTP/2 itself costs, so
 *       that {@code PullDump} can be read against it;</li>
 *   <li><b>socket</b>: a plain {@link ServerSocketChannel} on 127.0.0.1 that reads the same layer
 *       files into a 1 MiB buffer and writes them to the socket, and a client that reads them into a
 *       1 MiB buffer: the copy that any protocol over TCP has to make, and nothing else.</li>
 * </ul>
 * It prints each repetition, then, once, the throughput of a whole {@code layerprobe pull} (sha256
 * of every byte checked, {@code .npy} files written), which is what a user waits for, then the
 * median MiB/s of each leg with its share of the socket's, and last {@code ratio: X} (pull /
 * socket). It fails if the pull leg did not go over the bulk port.
 *
 * <p>Usage: {@code TransferBench [--mib N] [--repetitions N] [--warmup N] [--grpc-only]}; defaults
 * 1024, 8 and 6. The repetitions run the four legs in eight orders in turn (each leg once in each
 * place, forwards and backwards). {@code --grpc-only} times the PullDump leg alone, without a ratio,
 * for a profiler. The gRPC path needs several GiB through it before the JIT has compiled all of it
 * (with 3 warm-ups its throughput was still climbing), hence at least 6; the warm-up goes on while
 * the JIT's compilers are still busy, and each repetition prints how long they worked during it.
 */
public final class TransferBench {
    private static final int LAYER_BYTES = 64 << 20;
    private static final int BUFFER = 1 << 20;
    /** The most warm-up rounds, however busy the JIT still is. */
    private static final int MAX_WARMUP = 40;

    private TransferBench() {}

    public static void main(String[] args) throws Exception {
        int mib = 1024;
        int reps = 8;
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
                BareGrpc bare = grpcOnly ? null : new BareGrpc(LAYER_BYTES / BareGrpc.MESSAGE_BYTES);
                AgentClient client = new AgentClient("127.0.0.1", agent.port());
                AgentClient grpcClient =
                        new AgentClient("127.0.0.1", agent.port(), AgentClient.Options.DEFAULT.withoutBulkPulls())) {
            String runId = storeRun(agent.runs(), layers);
            RunInfo run = client.storedRun(runId);
            System.out.printf(
                    Locale.ROOT, "agent: gRPC on port %d, bulk pulls on port %d%n", agent.port(), agent.bulkPort());
            System.out.printf(
                    Locale.ROOT,
                    "transfer: %d MiB in %d layers of %d MiB over 127.0.0.1, %d repetitions"
                            + " after at least %d warm-ups of each%n",
                    total >> 20,
                    layers,
                    LAYER_BYTES >> 20,
                    reps,
                    warmup);
            // The gRPC path runs far more Java code than the socket copy; until the JIT has compiled
            // it, the first passes measure the interpreter, and while it is still compiling, its
            // compiler threads take one of the two cores from the transfer. So the warm-up goes on
            // past --warmup rounds until a round in which the compilers worked less than a twentieth
            // of its time (at most MAX_WARMUP rounds).
            int rounds = 0;
            for (boolean settled = false; rounds < warmup || (!settled && rounds < MAX_WARMUP); rounds++) {
                long j0 = jitMillis();
                long t0 = System.nanoTime();
                pull(grpcClient, run);
                if (!grpcOnly) {
                    pull(client, run);
                    bare.stream(layers);
                    raw.copy(runId, layers);
                }
                settled = jitMillis() - j0 < (System.nanoTime() - t0) / 1e6 / 20;
            }
            System.out.printf(
                    Locale.ROOT,
                    "warm-up: %d rounds, the JIT's compilers at work for %.1f s in all%n",
                    rounds,
                    jitMillis() / 1e3);
            if (grpcOnly) {
                profileGrpc(grpcClient, run, reps, total);
                return;
            }
            if (client.bulkUnavailable().isPresent()) {
                System.err.println("transfer: the pull leg did not use the bulk port ("
                        + client.bulkUnavailable().get() + "); its figure would be PullDump's");
                System.exit(1);
            }
            String[] names = {"pull", "PullDump", "bare gRPC", "socket"};
            double[][] speed = new double[names.length][reps];
            double[][] cpu = new double[names.length][reps];
            double gib = total / (double) (1L << 30);
            // Where a leg stands measurably changes its figure (run right after another gRPC leg,
            // either gRPC leg was the faster by a tenth or more), so the repetitions go through
            // eight orders: each leg once in each place, forwards and backwards.
            int[][] orders = {
                {0, 1, 2, 3},
                {3, 2, 1, 0},
                {1, 2, 3, 0},
                {0, 3, 2, 1},
                {2, 3, 0, 1},
                {1, 0, 3, 2},
                {3, 0, 1, 2},
                {2, 1, 0, 3}
            };
            long[] jit = new long[reps];
            for (int r = 0; r < reps; r++) {
                long j0 = jitMillis();
                for (int leg : orders[r % orders.length]) {
                    long c0 = processCpuNanos();
                    long nanos = switch (leg) {
                        case 0 -> pull(client, run);
                        case 1 -> pull(grpcClient, run);
                        case 2 -> bare.stream(layers);
                        default -> raw.copy(runId, layers);
                    };
                    speed[leg][r] = mibPerSecond(total, nanos);
                    cpu[leg][r] = (processCpuNanos() - c0) / 1e9 / gib;
                }
                jit[r] = jitMillis() - j0;
                StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "  repetition %d:", r + 1));
                for (int leg = 0; leg < names.length; leg++) {
                    line.append(String.format(
                            Locale.ROOT,
                            "%s %s %.0f MiB/s (%.2f CPU-s/GiB)",
                            leg == 0 ? "" : ",",
                            names[leg],
                            speed[leg][r],
                            cpu[leg][r]));
                }
                System.out.println(line.append(String.format(Locale.ROOT, ", JIT %d ms", jit[r])));
            }
            System.out.printf(
                    Locale.ROOT,
                    "process CPU per GiB (median, all threads): pull %.2f s, PullDump %.2f s, bare gRPC %.2f s,"
                            + " socket %.2f s%n",
                    median(cpu[0]),
                    median(cpu[1]),
                    median(cpu[2]),
                    median(cpu[3]));
            // The pull first, so that the ratio is the last line.
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
            double sm = median(speed[3]);
            for (int leg = 0; leg < 3; leg++) {
                System.out.printf(
                        Locale.ROOT,
                        "%-10s %5.0f MiB/s (median), %.2f of the raw socket%n",
                        names[leg] + ":",
                        median(speed[leg]),
                        median(speed[leg]) / sm);
            }
            System.out.printf(Locale.ROOT, "%-10s %5.0f MiB/s (median)%n", "socket:", sm);
            System.out.printf(Locale.ROOT, "ratio: %.2f%n", median(speed[0]) / sm);
        }
    }

    /** The PullDump leg alone, for a profiler: throughput and CPU per GiB of each repetition. */
    private static void profileGrpc(AgentClient client, RunInfo run, int reps, long total) throws AgentException {
        double gib = total / (double) (1L << 30);
        for (int r = 0; r < reps; r++) {
            long c0 = processCpuNanos();
            long j0 = jitMillis();
            double g = mibPerSecond(total, pull(client, run));
            System.out.printf(
                    Locale.ROOT,
                    "  repetition %d: PullDump %.0f MiB/s (%.2f CPU-s/GiB), JIT %d ms%n",
                    r + 1,
                    g,
                    (processCpuNanos() - c0) / 1e9 / gib,
                    jitMillis() - j0);
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
    private static long pull(AgentClient client, RunInfo run) throws AgentException {
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

    /**
     * Milliseconds the JIT's compiler threads have spent compiling in this process, 0 where the JVM
     * does not say.
     */
    private static long jitMillis() {
        var jit = ManagementFactory.getCompilationMXBean();
        return jit != null && jit.isCompilationTimeMonitoringSupported() ? jit.getTotalCompilationTime() : 0;
    }

    private static double mibPerSecond(long bytes, long nanos) {
        return bytes / 1048576.0 / (nanos / 1e9);
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    /**
     * gRPC-Java by itself, the best it does for this traffic, without LayerProbe's code: a
     * server-streaming method whose handlers run on the transport's thread (a direct executor, so no
     * hand-off per message) sends 1 MiB messages from one array, each drained into the transport's
     * buffers in 128 KiB pieces (the single copy gRPC's framer allows through its public API), as fast as
     * {@code isReady()} lets it; the client has {@code AgentClient}'s transport settings (8 MiB
     * flow-control window, socket reads growing to 256 KiB) and skips each message in place over
     * the received buffers, touching one byte of each. One call per {@code perCall} messages, as
     * PullDump makes one per layer.
     */
    private static final class BareGrpc implements AutoCloseable {
        static final int MESSAGE_BYTES = 1 << 20;
        private static final int PIECE = 128 << 10;
        private static final MethodDescriptor<Integer, Received> METHOD =
                MethodDescriptor.<Integer, Received>newBuilder()
                        .setType(MethodDescriptor.MethodType.SERVER_STREAMING)
                        .setFullMethodName(MethodDescriptor.generateFullMethodName("bench.Bare", "Stream"))
                        .setRequestMarshaller(new Count())
                        .setResponseMarshaller(new Skip())
                        .build();

        private final byte[] payload = new byte[MESSAGE_BYTES];
        private final int perCall;
        private final Server server;
        private final ManagedChannel channel;
        private long touched;

        BareGrpc(int perCall) throws IOException {
            this.perCall = perCall;
            new Random(7).nextBytes(payload);
            MethodDescriptor<Integer, byte[]> sending =
                    METHOD.toBuilder(new Count(), new Payload()).build();
            ServerServiceDefinition service = ServerServiceDefinition.builder("bench.Bare")
                    .addMethod(sending, ServerCalls.asyncServerStreamingCall(this::serve))
                    .build();
            this.server = NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                    .directExecutor()
                    .addService(service)
                    .build()
                    .start();
            this.channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort())
                    .usePlaintext()
                    .maxInboundMessageSize(AgentClient.MAX_INBOUND_MESSAGE_BYTES)
                    .flowControlWindow(AgentClient.FLOW_CONTROL_WINDOW_BYTES)
                    .withOption(
                            ChannelOption.RECVBUF_ALLOCATOR,
                            new AdaptiveRecvByteBufAllocator(2048, 16 << 10, 256 << 10))
                    .build();
        }

        private void serve(Integer messages, StreamObserver<byte[]> observer) {
            ServerCallStreamObserver<byte[]> out = (ServerCallStreamObserver<byte[]>) observer;
            out.setOnReadyThreshold(4 * MESSAGE_BYTES);
            int[] sent = {0};
            out.setOnReadyHandler(() -> {
                while (sent[0] < messages && out.isReady()) {
                    out.onNext(payload);
                    sent[0]++;
                }
                if (sent[0] == messages) {
                    sent[0]++;
                    out.onCompleted();
                }
            });
        }

        /** Nanoseconds to stream {@code calls} calls of {@code perCall} messages each. */
        long stream(int calls) throws Exception {
            long t0 = System.nanoTime();
            for (int c = 0; c < calls; c++) {
                CompletableFuture<Void> done = new CompletableFuture<>();
                ClientCalls.asyncServerStreamingCall(
                        channel.newCall(METHOD, CallOptions.DEFAULT.withExecutor(Runnable::run)),
                        perCall,
                        new StreamObserver<Received>() {
                            @Override
                            public void onNext(Received message) {
                                touched += message.first();
                            }

                            @Override
                            public void onError(Throwable t) {
                                done.completeExceptionally(t);
                            }

                            @Override
                            public void onCompleted() {
                                done.complete(null);
                            }
                        });
                done.get();
            }
            long t = System.nanoTime() - t0;
            if (touched == Long.MIN_VALUE) {
                System.out.println();
            }
            return t;
        }

        @Override
        public void close() {
            channel.shutdownNow();
            server.shutdownNow();
        }

        /** The request: how many messages to send, as a varint-free int of four bytes. */
        private static final class Count implements MethodDescriptor.Marshaller<Integer> {
            @Override
            public InputStream stream(Integer value) {
                return new ByteArrayInputStream(
                        ByteBuffer.allocate(4).putInt(value).array());
            }

            @Override
            public Integer parse(InputStream stream) {
                try {
                    return ByteBuffer.wrap(stream.readNBytes(4)).getInt();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        }

        /** The server's side of a message: the payload array, drained in pieces. */
        private static final class Payload implements MethodDescriptor.Marshaller<byte[]> {
            @Override
            public InputStream stream(byte[] value) {
                return new Drained(value);
            }

            @Override
            public byte[] parse(InputStream stream) {
                try {
                    return stream.readAllBytes();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        }

        private static final class Drained extends InputStream implements Drainable, KnownLength {
            private final byte[] bytes;
            private int at;

            Drained(byte[] bytes) {
                this.bytes = bytes;
            }

            @Override
            public int drainTo(OutputStream target) throws IOException {
                int n = bytes.length - at;
                for (; at < bytes.length; at += PIECE) {
                    target.write(bytes, at, Math.min(PIECE, bytes.length - at));
                }
                at = bytes.length;
                return n;
            }

            @Override
            public int available() {
                return bytes.length - at;
            }

            @Override
            public int read() {
                return at < bytes.length ? bytes[at++] & 0xff : -1;
            }

            @Override
            public int read(byte[] b, int off, int len) {
                if (len == 0) {
                    return 0;
                }
                if (at >= bytes.length) {
                    return -1;
                }
                int n = Math.min(len, bytes.length - at);
                System.arraycopy(bytes, at, b, off, n);
                at += n;
                return n;
            }
        }

        /**
         * What the client keeps of a message: its length and its first byte (-1 when empty), all
         * the bench needs to touch the bytes without copying them.
         */
        record Received(int bytes, int first) {}

        /**
         * The client's side: skips the message over the transport's buffers without copying it,
         * keeping its length and first byte. Serializing gives a message of that length that
         * starts with that byte, zeros after it, which parses back to the same {@link Received}.
         */
        private static final class Skip implements MethodDescriptor.Marshaller<Received> {
            @Override
            public InputStream stream(Received value) {
                byte[] bytes = new byte[value.bytes()];
                if (value.bytes() > 0) {
                    bytes[0] = (byte) value.first();
                }
                return new Drained(bytes);
            }

            @Override
            public Received parse(InputStream stream) {
                try {
                    int bytes = 0;
                    int first = -1;
                    if (stream instanceof HasByteBuffer h && h.byteBufferSupported()) {
                        while (stream.available() > 0) {
                            ByteBuffer b = h.getByteBuffer();
                            if (first < 0) {
                                first = b.get(b.position()) & 0xff;
                            }
                            bytes += b.remaining();
                            stream.skipNBytes(b.remaining());
                        }
                    } else {
                        first = stream.read();
                        bytes = first < 0 ? 0 : 1 + (int) stream.transferTo(OutputStream.nullOutputStream());
                    }
                    return new Received(bytes, first);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        }
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
                    throw new UncheckedIOException(e);
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
