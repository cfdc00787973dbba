package dev.layerprobe.agent;

import io.netty.util.ResourceLeakDetector;

/**
 * Process-wide Netty settings for LayerProbe's programs. They belong to the process, not to a
 * server or a client, so only a program's {@code main} applies them, once, before it opens a
 * channel: {@code LayerProbeCli.main} (the host, whose {@code agent} command and embedded device
 * serve from the same process) and {@link AgentMain#main} (the standalone agent). A library call
 * never changes them behind its caller's back; an application or test that embeds the agent or
 * the client and wants them calls {@link #apply()} itself.
 *
 * <p>Netty's buffer leak detection is off unless asked for with
 * {@code -Dio.netty.leakDetection.level=...}: LayerProbe hands no buffers of its own to Netty (gRPC
 * owns every one), and its default sampling, which records a stack trace for one allocation in 128
 * and tracks every sampled buffer, cost a sixth of the dump stream's throughput (1688 against
 * 1998 MiB/s over loopback, {@code bench transfer}).
 */
public final class NettyDefaults {
    private static final String LEAK_PROPERTY = "io.netty.leakDetection.level";

    private NettyDefaults() {}

    /** Idempotent; takes effect for buffers allocated afterwards. */
    public static void apply() {
        if (System.getProperty(LEAK_PROPERTY) == null) {
            ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
        }
    }
}
