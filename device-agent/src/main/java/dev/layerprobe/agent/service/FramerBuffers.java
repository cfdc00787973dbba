package dev.layerprobe.agent.service;

import io.netty.buffer.ByteBuf;
import java.io.OutputStream;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Hands a filled Netty buffer to gRPC's message framer as part of a message, instead of having the
 * framer copy its bytes into buffers of its own.
 *
 * <p>gRPC-Java serializes a message by draining it into an {@link OutputStream} that only takes
 * arrays, which it copies into pooled Netty buffers; it has no public way to pass a buffer along.
 * For a message of unknown length (its stream not {@code KnownLength}), that stream is the
 * framer's buffer chain: the list of buffers the message's bytes went into, which the framer then
 * sends in order behind the message's 5-byte gRPC header. Adding a buffer to that list sends its
 * bytes as they are, and the transport releases it once written, as it does its own. That takes
 * two members gRPC-Java does not export (the chain's list, and the Netty transport's buffer
 * wrapper's constructor); they are looked up once, and where they are missing (another gRPC-Java
 * than the one this was written for) {@link #AVAILABLE} is false and callers copy instead. Apache
 * Arrow Flight's Java server sends its record batches the same way.
 */
final class FramerBuffers {
    private static final Logger LOG = Logger.getLogger(FramerBuffers.class.getName());
    private static final String CHAIN = "io.grpc.internal.MessageFramer$BufferChainOutputStream";
    private static final String NETTY_BUFFER = "io.grpc.netty.NettyWritableBuffer";

    private static final Class<?> CHAIN_CLASS;
    private static final Field LIST;
    private static final Constructor<?> WRAP;

    /** Whether {@link #add} works with the gRPC-Java on the class path. */
    static final boolean AVAILABLE;

    static {
        Class<?> chain = null;
        Field list = null;
        Constructor<?> wrap = null;
        try {
            chain = Class.forName(CHAIN);
            list = chain.getDeclaredField("bufferList");
            list.setAccessible(true);
            wrap = Class.forName(NETTY_BUFFER).getDeclaredConstructor(ByteBuf.class);
            wrap.setAccessible(true);
            if (!List.class.isAssignableFrom(list.getType())) {
                throw new NoSuchFieldException(
                        CHAIN + ".bufferList is a " + list.getType().getName());
            }
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            LOG.log(Level.FINE, "gRPC's framer takes no buffers here; chunks are copied into it", e);
            chain = null;
            list = null;
            wrap = null;
        }
        CHAIN_CLASS = chain;
        LIST = list;
        WRAP = wrap;
        AVAILABLE = wrap != null;
    }

    private FramerBuffers() {}

    /** Whether {@code target} is a framer's buffer chain that {@link #add} can append to. */
    static boolean accepts(OutputStream target) {
        return AVAILABLE && target.getClass() == CHAIN_CLASS;
    }

    /**
     * Appends {@code buf}'s readable bytes to the message being drained into {@code target}, which
     * must be one that {@link #accepts}. Takes ownership of {@code buf} whether or not it succeeds.
     * The buffer must be full (no writable bytes left below its capacity), or the framer would go on
     * writing the next message's bytes into it.
     */
    static void add(OutputStream target, ByteBuf buf) {
        try {
            if (buf.writableBytes() != 0) {
                throw new IllegalArgumentException(
                        "a buffer handed to the framer has " + buf.writableBytes() + " writable bytes left");
            }
            @SuppressWarnings("unchecked")
            List<Object> list = (List<Object>) LIST.get(target);
            list.add(WRAP.newInstance(buf));
        } catch (ReflectiveOperationException | RuntimeException e) {
            buf.release();
            throw new IllegalStateException("could not hand a buffer to gRPC's framer", e);
        }
    }
}
