package dev.layerprobe.agent.service;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.core.tensor.QTensor;
import dev.layerprobe.core.tensor.QuantParams;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.proto.v1.DataType;
import dev.layerprobe.proto.v1.DumpFormat;
import dev.layerprobe.proto.v1.QuantInfo;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * One layer's output as bytes on the wire, produced a chunk at a time so that a layer is never
 * held twice in memory (once as the simulator's value, once as bytes).
 *
 * <p>Encoding (tensor.proto conventions: C order, little-endian):
 * <ul>
 *   <li>{@link DumpFormat#NATIVE}: a quantized layer as its integer codes in the quantization's type
 *       (INT8/UINT8 one byte, INT16 two, INT32 four) with its {@link QuantInfo}; any other layer,
 *       and codes of a type the wire has no name for (UINT16), as FLOAT32 of the real values.</li>
 *   <li>{@link DumpFormat#FLOAT}: every layer as FLOAT32 of {@link LayerValue#real()}.</li>
 * </ul>
 * Immutable; chunks may be taken in any order.
 */
final class LayerPayload {

    /** Writes elements {@code [from, from + count)} into {@code out}, which has room for them. */
    @FunctionalInterface
    private interface ElementWriter {
        void write(ByteBuffer out, int from, int count);
    }

    private final DataType dtype;
    private final int elementBytes;
    private final int elements;
    private final QuantInfo quant;
    private final ElementWriter writer;

    private LayerPayload(DataType dtype, int elementBytes, int elements, QuantInfo quant, ElementWriter writer) {
        this.dtype = dtype;
        this.elementBytes = elementBytes;
        this.elements = elements;
        this.quant = quant;
        this.writer = writer;
    }

    static LayerPayload of(LayerValue value, DumpFormat format) {
        if (format == DumpFormat.NATIVE && value.isQuantized()) {
            LayerPayload codes = ofCodes(value.codes());
            if (codes != null) {
                return codes;
            }
        }
        return ofReal(value.real());
    }

    private static LayerPayload ofCodes(QTensor q) {
        int[] c = q.codes();
        QuantParams p = q.params();
        return switch (p.type()) {
            case INT8 -> ofByteCodes(DataType.INT8, c, quantInfo(p));
            case UINT8 -> ofByteCodes(DataType.UINT8, c, quantInfo(p));
            case INT16 ->
                new LayerPayload(DataType.INT16, 2, c.length, quantInfo(p), (out, from, n) -> {
                    for (int i = from; i < from + n; i++) {
                        out.putShort((short) c[i]);
                    }
                });
            case INT32 ->
                new LayerPayload(DataType.INT32, 4, c.length, quantInfo(p), (out, from, n) -> {
                    for (int i = from; i < from + n; i++) {
                        out.putInt(c[i]);
                    }
                });
            default -> null;
        };
    }

    /** INT8 codes -128..127 and UINT8 codes 0..255 both keep their low byte, which is what the wire type means. */
    private static LayerPayload ofByteCodes(DataType type, int[] c, QuantInfo quant) {
        return new LayerPayload(type, 1, c.length, quant, (out, from, n) -> {
            if (!out.hasArray()) {
                for (int i = from; i < from + n; i++) {
                    out.put((byte) c[i]);
                }
                return;
            }
            // Straight into the buffer's array: a counted loop the JIT compiles to vector code,
            // where a put per byte checks bounds and moves the position each time.
            byte[] a = out.array();
            int at = out.arrayOffset() + out.position();
            for (int i = 0; i < n; i++) {
                a[at + i] = (byte) c[from + i];
            }
            out.position(out.position() + n);
        });
    }

    private static LayerPayload ofReal(Tensor t) {
        if (t.isFloating()) {
            float[] f = t.floats();
            return new LayerPayload(DataType.FLOAT32, Float.BYTES, f.length, null, (out, from, n) -> {
                for (int i = from; i < from + n; i++) {
                    out.putFloat(f[i]);
                }
            });
        }
        // Integer tensors (shape arithmetic, indices) are rare as layer outputs; float32 keeps the
        // wire to one non-quantized type and is exact up to 2^24.
        return new LayerPayload(DataType.FLOAT32, Float.BYTES, t.size(), null, (out, from, n) -> {
            for (int i = from; i < from + n; i++) {
                out.putFloat((float) t.getDouble(i));
            }
        });
    }

    private static QuantInfo quantInfo(QuantParams p) {
        QuantInfo.Builder b = QuantInfo.newBuilder().setAxis(p.axis());
        for (float s : p.scale()) {
            b.addScale(s);
        }
        for (long z : p.zeroPoint()) {
            b.addZeroPoint(z);
        }
        return b.build();
    }

    DataType dtype() {
        return dtype;
    }

    /** The quantization of the codes, or null when the payload is float. */
    QuantInfo quant() {
        return quant;
    }

    int elementBytes() {
        return elementBytes;
    }

    long sizeBytes() {
        return (long) elements * elementBytes;
    }

    /**
     * The bytes of elements {@code [firstElement, firstElement + count)}, clipped to the end of the
     * layer. The array is fresh and never written again, so it is wrapped rather than copied.
     */
    ByteString chunk(int firstElement, int count) {
        return UnsafeByteOperations.unsafeWrap(chunkArray(firstElement, count));
    }

    /** As {@link #chunk}, as the fresh array itself (for a caller that also hashes or stores it). */
    byte[] chunkArray(int firstElement, int count) {
        int n = Math.max(0, Math.min(count, elements - firstElement));
        ByteBuffer buf = ByteBuffer.allocate(n * elementBytes).order(ByteOrder.LITTLE_ENDIAN);
        writer.write(buf, firstElement, n);
        return buf.array();
    }

    int elements() {
        return elements;
    }
}
