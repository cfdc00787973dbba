package dev.layerprobe.host.client;

import dev.layerprobe.proto.v1.LayerHeader;

/**
 * How far one layer's bytes have come in a {@code RunEvent} stream, and whether a chunk continues
 * them: it must start where the previous one ended and stay within the size the layer's header
 * states. The one place that order is checked for both streams that carry layers,
 * {@link RunReceiver} (every layer from byte 0) and {@link PullDumpReceiver} (one layer from the
 * offset asked for); each words a violation in its own call's terms. Not thread-safe: one per
 * layer of a call.
 */
final class LayerProgress {
    /** What a chunk is to the layer. */
    enum Step {
        /** It starts where the previous one ended and fits in the layer: taken. */
        CONTINUES,
        /** It starts elsewhere: a gap, a repeat, or chunks out of order. */
        WRONG_OFFSET,
        /** It starts in place but runs past the header's size. */
        PAST_END
    }

    private final LayerHeader layer;
    private long position;

    /** @param from the byte the first chunk must start at */
    LayerProgress(LayerHeader layer, long from) {
        this.layer = layer;
        this.position = from;
    }

    LayerHeader layer() {
        return layer;
    }

    /** Where the next chunk must start: the bytes before it have arrived. */
    long position() {
        return position;
    }

    /** Checks a chunk of {@code length} bytes at {@code offset}, and moves past it if it continues the layer. */
    Step take(long offset, int length) {
        if (offset != position) {
            return Step.WRONG_OFFSET;
        }
        if (position + length > layer.getSizeBytes()) {
            return Step.PAST_END;
        }
        position += length;
        return Step.CONTINUES;
    }

    /** Whether every byte up to the header's size has arrived. */
    boolean complete() {
        return position == layer.getSizeBytes();
    }
}
