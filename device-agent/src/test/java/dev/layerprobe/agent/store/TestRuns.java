package dev.layerprobe.agent.store;

import dev.layerprobe.core.io.Sha256;
import dev.layerprobe.proto.v1.DataType;
import dev.layerprobe.proto.v1.DumpFormat;
import dev.layerprobe.proto.v1.LayerHeader;
import java.io.IOException;
import java.nio.ByteBuffer;

/** Stored runs for tests: int8 layers of given bytes, named {@code l<index>}, with their sha256. */
public final class TestRuns {
    private TestRuns() {}

    /** The header of int8 layer {@code index} of {@code bytes} bytes, as {@link #layer} stores it. */
    public static LayerHeader header(int index, int bytes) {
        return LayerHeader.newBuilder()
                .setIndex(index)
                .setName("l" + index)
                .setOp("Conv")
                .setDtype(DataType.INT8)
                .addShape(bytes)
                .setSizeBytes(bytes)
                .build();
    }

    /** Writes layer {@code index} holding {@code data} into a run being stored; its header. */
    public static LayerHeader layer(RunStore.Writer w, int index, byte[] data) throws IOException {
        LayerHeader h = header(index, data.length);
        w.beginLayer(h);
        w.write(ByteBuffer.wrap(data));
        w.endLayer(Sha256.hexOf(data));
        return h;
    }

    /** Stores a run of one layer holding {@code data}; its run id. */
    public static String oneLayer(RunStore store, byte[] data) throws IOException {
        RunStore.Writer w = store.begin("model-id", DumpFormat.NATIVE);
        layer(w, 0, data);
        return w.commit().getRunId();
    }
}
