package dev.layerprobe.simulator.kernels;

import java.util.concurrent.ForkJoinPool;
import java.util.stream.IntStream;

/**
 * Independent work over [0, n) cut into contiguous chunks, run on the common fork/join pool and
 * the calling thread (the threads the products of {@link Sgemm} use, and as many as the benchmark
 * gives ONNX Runtime) when there is enough of it, else in one piece on the calling thread. Each
 * index is handled by exactly one chunk, so a body that writes only its own indices gives the same
 * result whatever the threads.
 */
final class Chunks {
    /**
     * Work, in nanoseconds on one thread, from which the pool is used: a fork/join costs tens of
     * microseconds when the other core is busy (a waiting task waits for the scheduler).
     */
    static final long PARALLEL_NANOS = 100_000;

    /** A body over the indices [from, to). */
    @FunctionalInterface
    interface Body {
        void run(int from, int to);
    }

    private Chunks() {}

    /**
     * Runs body over [0, n) in chunks, in parallel when {@code n * nanos} reaches
     * {@link #PARALLEL_NANOS}.
     *
     * @param nanos the work per index, in nanoseconds on one thread (an estimate)
     */
    static void run(int n, long nanos, Body body) {
        int threads = ForkJoinPool.getCommonPoolParallelism() + 1;
        if (n <= 1 || threads == 1 || (long) n * nanos < PARALLEL_NANOS) {
            body.run(0, n);
            return;
        }
        // Two chunks per thread: a thread that starts late still finds work to take.
        int chunks = (int) Math.min(n, 2L * threads);
        IntStream.range(0, chunks).parallel().forEach(c -> {
            int from = (int) ((long) n * c / chunks);
            int to = (int) ((long) n * (c + 1) / chunks);
            body.run(from, to);
        });
    }
}
