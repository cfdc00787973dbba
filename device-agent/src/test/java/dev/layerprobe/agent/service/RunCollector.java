package dev.layerprobe.agent.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.core.io.Sha256;
import dev.layerprobe.proto.v1.LayerHeader;
import dev.layerprobe.proto.v1.RunEvent;
import dev.layerprobe.proto.v1.RunSummary;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * Reassembles a {@code Run} stream as a host would, asserting the protocol on the way: every
 * layer is header, chunks at increasing contiguous offsets, end with the sha256 of exactly those
 * bytes; the summary comes last. Not thread-safe: feed it from one thread or under a lock.
 */
final class RunCollector {
    /** One layer as received. */
    record Received(LayerHeader header, byte[] data, String sha256, int chunks) {}

    final List<Received> layers = new ArrayList<>();
    RunSummary summary;
    private LayerHeader open;
    private ByteArrayOutputStream bytes;
    private int chunks;
    int ends;

    void accept(RunEvent e) {
        assertNull(summary, "nothing may follow the summary");
        switch (e.getEventCase()) {
            case HEADER -> {
                assertNull(open, "header while layer " + (open == null ? "" : open.getName()) + " is open");
                open = e.getHeader();
                assertEquals(layers.size(), open.getIndex(), "layers come in execution order");
                bytes = new ByteArrayOutputStream();
                chunks = 0;
            }
            case CHUNK -> {
                assertNotNull(open, "chunk outside a layer");
                assertEquals(open.getIndex(), e.getChunk().getIndex());
                assertEquals(bytes.size(), e.getChunk().getOffset(), "chunks are contiguous");
                bytes.writeBytes(e.getChunk().getData().toByteArray());
                chunks++;
            }
            case END -> {
                assertNotNull(open, "end outside a layer");
                assertEquals(open.getIndex(), e.getEnd().getIndex());
                byte[] data = bytes.toByteArray();
                assertEquals(open.getSizeBytes(), data.length, "size_bytes matches the bytes sent");
                assertEquals(Sha256.hexOf(data), e.getEnd().getSha256(), "end carries the sha256 of the bytes");
                layers.add(new Received(open, data, e.getEnd().getSha256(), chunks));
                open = null;
                ends++;
            }
            case SUMMARY -> {
                assertNull(open, "summary while a layer is open");
                summary = e.getSummary();
            }
            default -> throw new AssertionError("empty event");
        }
    }

    void assertComplete() {
        assertNotNull(summary, "the stream ends with a summary");
        assertEquals(layers.size(), summary.getLayers());
        assertEquals(layers.stream().mapToLong(l -> l.data().length).sum(), summary.getTotalBytes());
        assertFalse(summary.getRunId().isEmpty());
        assertTrue(summary.getDeviceMillis() >= 0);
    }
}
