package dev.layerprobe.host.client.wire;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.UnsafeByteOperations;
import dev.layerprobe.proto.v1.RunEvent;
import io.grpc.HasByteBuffer;
import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * A response marshaller that parses {@code RunEvent}s with their chunk bytes aliasing the
 * transport's own buffers, so a chunk reaches the sink without being copied at all. gRPC hands the
 * parser a stream over the received HTTP/2 frames; where it exposes them as ByteBuffers
 * ({@link HasByteBuffer}, as the Netty transport does), the event is parsed over those buffers in
 * place. The stream is marked first: gRPC would otherwise hand each frame's buffer back to Netty's
 * pool as soon as it has been skipped, where another thread's allocation may overwrite it while the
 * sink reads it; marked, they are kept until gRPC closes the stream, after the listener's
 * {@code onMessage} (and so the sink) has returned. Otherwise (the in-process transport) the event
 * is read into one reused array, which the next parse overwrites.
 *
 * <p>Contract for the call that uses it: a parsed event, and every {@link ByteString} taken from
 * it, is valid only until the listener's {@code onMessage} returns, so the call must handle each
 * event in {@code onMessage} itself (a direct executor, no hand-off to another thread) and keep
 * nothing from it. One instance per call: the reused array makes it not thread-safe. Serializing
 * (requests never go through it) is protobuf's own.
 */
public final class InPlaceParser implements MethodDescriptor.Marshaller<RunEvent> {
    private byte[] buf = new byte[0];

    @Override
    public InputStream stream(RunEvent value) {
        return value.toByteString().newInput();
    }

    @Override
    public RunEvent parse(InputStream in) {
        try {
            if (!(in instanceof KnownLength)) {
                return RunEvent.parseFrom(in);
            }
            CodedInputStream cis = in instanceof HasByteBuffer h && h.byteBufferSupported() && in.markSupported()
                    ? inPlace(in, h).newCodedInput()
                    : reused(in);
            cis.enableAliasing(true);
            return RunEvent.parseFrom(cis);
        } catch (IOException e) {
            throw Status.INTERNAL
                    .withDescription("cannot read a PullDump message: " + e.getMessage())
                    .withCause(e)
                    .asRuntimeException();
        }
    }

    /** The message as a rope over the transport's buffers, which stay held until the stream closes. */
    private static ByteString inPlace(InputStream in, HasByteBuffer h) throws IOException {
        in.mark(in.available());
        List<ByteString> parts = new ArrayList<>();
        for (int left = in.available(); left > 0; ) {
            ByteBuffer b = h.getByteBuffer();
            if (b == null || !b.hasRemaining()) {
                parts.add(ByteString.readFrom(in));
                break;
            }
            int n = b.remaining();
            parts.add(UnsafeByteOperations.unsafeWrap(b));
            in.skipNBytes(n);
            left -= n;
        }
        return ByteString.copyFrom(parts);
    }

    private CodedInputStream reused(InputStream in) throws IOException {
        int size = in.available();
        if (buf.length < size) {
            buf = new byte[size];
        }
        int n = in.readNBytes(buf, 0, size);
        return CodedInputStream.newInstance(buf, 0, n);
    }
}
