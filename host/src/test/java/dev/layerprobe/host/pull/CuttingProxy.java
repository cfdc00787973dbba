package dev.layerprobe.host.pull;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A loopback TCP proxy in front of an agent that cuts every connection after a random number of
 * bytes from the agent (between {@code minBytes} and {@code maxBytes}), the way a flaky link drops a
 * pull in the middle of an HTTP/2 frame. Budgets come from a seeded generator, so a failure repeats.
 */
final class CuttingProxy implements AutoCloseable {
    private final ServerSocket listener;
    private final int agentPort;
    private final Random random;
    private final long minBytes;
    private final long maxBytes;
    final AtomicLong cuts = new AtomicLong();
    volatile boolean cutting = true;

    CuttingProxy(int agentPort, long seed, long minBytes, long maxBytes) throws IOException {
        this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        this.agentPort = agentPort;
        this.random = new Random(seed);
        this.minBytes = minBytes;
        this.maxBytes = maxBytes;
        Thread t = new Thread(this::accept, "cutting-proxy");
        t.setDaemon(true);
        t.start();
    }

    int port() {
        return listener.getLocalPort();
    }

    private void accept() {
        while (!listener.isClosed()) {
            try {
                Socket client = listener.accept();
                Socket agent = new Socket(InetAddress.getLoopbackAddress(), agentPort);
                long budget;
                synchronized (random) {
                    budget = cutting ? minBytes + (long) (random.nextDouble() * (maxBytes - minBytes)) : Long.MAX_VALUE;
                }
                pump(client, agent, Long.MAX_VALUE, client, agent);
                pump(agent, client, budget, client, agent);
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    private void pump(Socket from, Socket to, long budget, Socket a, Socket b) {
        Thread t = new Thread(
                () -> {
                    byte[] buf = new byte[1 << 14];
                    long left = budget;
                    try (InputStream in = from.getInputStream();
                            OutputStream out = to.getOutputStream()) {
                        for (int n; (n = in.read(buf, 0, (int) Math.min(buf.length, left))) > 0; ) {
                            out.write(buf, 0, n);
                            left -= n;
                            if (left == 0) {
                                cuts.incrementAndGet();
                                break;
                            }
                        }
                    } catch (IOException e) {
                        // the other direction closed the sockets
                    } finally {
                        close(a);
                        close(b);
                    }
                },
                "cutting-proxy-pump");
        t.setDaemon(true);
        t.start();
    }

    private static void close(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            // already closed
        }
    }

    @Override
    public void close() throws IOException {
        listener.close();
    }
}
