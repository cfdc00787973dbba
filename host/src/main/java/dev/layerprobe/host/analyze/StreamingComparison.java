package dev.layerprobe.host.analyze;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.QuantParams;
import dev.layerprobe.dump.DumpValues;
import dev.layerprobe.dump.DumpWriter;
import dev.layerprobe.host.client.LayerSink;
import dev.layerprobe.host.client.WireTensors;
import dev.layerprobe.proto.v1.DataType;
import dev.layerprobe.proto.v1.LayerHeader;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Map;

/**
 * Compares the device's layers with the simulator's and golden's chunk by chunk as they stream in
 * ({@code simu_err} and {@code golden_err}), reading the matching element ranges of the simulator's
 * and golden's values, on disk or in memory ({@link LayerRanges}, {@link ChunkedComparison}), and
 * writes the device's dump as it goes.
 * Only a chunk of each side is in memory at a time, whatever the size of the run. Codes are compared (bit_exact, max_lsb) where
 * the simulator and the device share a quantization. Not thread-safe: a sink is called from one
 * thread.
 */
final class StreamingComparison implements LayerSink {
    private final Map<String, LayerComparison> byName;
    private final LayerRanges sim;
    private final LayerRanges golden;
    private final DumpWriter runtimeDump;

    private LayerComparison current;
    private DType type;
    private QuantParams quant;
    private int[] shape;
    private LayerRanges.Range simLayer;
    private LayerRanges.Range goldenLayer;
    private boolean sameCodes;
    private float[] rtReal = new float[0];
    private int[] rtCodes = new int[0];
    private final ChunkedComparison chunks;
    private final OutputCapture output;

    /**
     * @param runtimeDump where the device's layers are written, or null
     * @param chunks the comparison routine (and its buffers), not used by anyone else meanwhile
     * @param output where the device's value of the model output is kept, or null
     */
    StreamingComparison(
            Map<String, LayerComparison> byName,
            LayerRanges sim,
            LayerRanges golden,
            DumpWriter runtimeDump,
            ChunkedComparison chunks,
            OutputCapture output) {
        this.byName = byName;
        this.sim = sim;
        this.golden = golden;
        this.runtimeDump = runtimeDump;
        this.chunks = chunks;
        this.output = output;
    }

    @Override
    public void begin(LayerHeader h) throws IOException {
        try {
            type = WireTensors.dtype(h.getDtype());
            shape = WireTensors.shape(h);
            quant = h.getDtype() == DataType.FLOAT32 || h.getDtype() == DataType.FLOAT16
                    ? null
                    : WireTensors.quantParams(h.getDtype(), h.hasQuant() ? h.getQuant() : null);
        } catch (IllegalArgumentException e) {
            throw new IOException(h.getName() + ": " + e.getMessage(), e);
        }
        if (type != DType.FLOAT32
                && type != DType.INT8
                && type != DType.UINT8
                && type != DType.INT16
                && type != DType.INT32) {
            throw new IOException("layer '" + h.getName() + "' arrived as " + h.getDtype()
                    + ", expected one of [FLOAT32, INT8, UINT8, INT16, INT32]");
        }
        current = byName.get(h.getName());
        long elements = ChunkedComparison.elements(shape);
        simLayer = current == null ? null : sim.layer(h.getName());
        goldenLayer = current == null ? null : golden.layer(h.getName());
        if (simLayer != null && ChunkedComparison.elements(simLayer.shape()) != elements) {
            throw new IOException("layer '" + h.getName() + "': simulator has "
                    + ChunkedComparison.elements(simLayer.shape()) + " values, the device sent " + elements);
        }
        if (goldenLayer != null && ChunkedComparison.elements(goldenLayer.shape()) != elements) {
            throw new IOException("layer '" + h.getName() + "': reference has "
                    + ChunkedComparison.elements(goldenLayer.shape()) + " values, the device sent " + elements);
        }
        QuantParams simQuant = simLayer == null ? null : simLayer.quant();
        sameCodes = sameMapping(simQuant, quant);
        if (runtimeDump != null) {
            runtimeDump.beginLayer(h.getName(), h.getOp(), shape, type, quant);
        }
    }

    /** As {@link QuantParams#sameMapping}, except that the axis of per-tensor parameters is moot (a dump does not keep it). */
    private static boolean sameMapping(QuantParams a, QuantParams b) {
        return a != null
                && b != null
                && a.type() == b.type()
                && java.util.Arrays.equals(a.scale(), b.scale())
                && java.util.Arrays.equals(a.zeroPoint(), b.zeroPoint())
                && (a.isPerTensor() || a.axis() == b.axis());
    }

    @Override
    public void chunk(LayerHeader h, long offset, byte[] data) throws IOException {
        if (runtimeDump != null) {
            runtimeDump.write(data);
        }
        if (current == null) {
            return; // a layer the host simulator does not have: nothing to compare it with
        }
        int eb = type.bytes();
        if (offset % eb != 0 || data.length % eb != 0) {
            throw new IOException("layer '" + h.getName() + "': a chunk at byte " + offset + " of " + data.length
                    + " bytes splits its " + eb + "-byte elements");
        }
        long first = offset / eb;
        int n = data.length / eb;
        if (rtReal.length < n) {
            rtReal = new float[n];
            rtCodes = new int[n];
        }
        DumpValues.decode(type, quant, shape, ByteBuffer.wrap(data), first, n, rtReal, quant == null ? null : rtCodes);
        if (simLayer != null) {
            chunks.addRange(simLayer, first, rtReal, sameCodes ? rtCodes : null, n, current.simuErrMetrics());
        }
        if (goldenLayer != null) {
            chunks.addRange(goldenLayer, first, rtReal, null, n, current.goldenErrMetrics());
        }
        if (output != null) {
            output.device(h.getName(), shape, first, rtReal, n);
        }
    }

    @Override
    public void end(LayerHeader h, String sha256) throws IOException {
        if (runtimeDump != null) {
            runtimeDump.endLayer();
        }
        current = null;
    }
}
