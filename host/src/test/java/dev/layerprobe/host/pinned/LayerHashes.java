package dev.layerprobe.host.pinned;

import dev.layerprobe.core.io.Sha256;
import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.core.tensor.QTensor;
import dev.layerprobe.core.tensor.QuantParams;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.NpuProgram;
import dev.layerprobe.simulator.SimulatorException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * SHA-256 of layer values for {@link PinnedCodesTest}: a quantized value hashes its shape, its
 * quantization (scales as float32 bits, zero points, axis) and its codes; a float value its type,
 * shape and elements (float32 bits, or the integers of an integer tensor). All little-endian.
 */
final class LayerHashes {
    private LayerHashes() {}

    /** The hash of each layer's output in execution order, then of each graph output ("output NAME"). */
    static Map<String, String> run(NpuProgram program, Map<String, Tensor> feeds) throws SimulatorException {
        Map<String, String> hashes = new LinkedHashMap<>();
        Map<String, LayerValue> outputs = program.run(feeds, (layer, value) -> {
            if (hashes.put(layer.name(), of(value)) != null) {
                throw new IllegalStateException("layer '" + layer.name() + "' reported twice");
            }
        });
        outputs.forEach((name, v) -> hashes.put("output " + name, of(v)));
        return hashes;
    }

    static String of(LayerValue v) {
        return v.isQuantized() ? of(v.codes()) : of(v.real());
    }

    static String of(QTensor t) {
        MessageDigest d = Sha256.newDigest();
        d.update((byte) 'q');
        ints(d, t.shape());
        QuantParams q = t.params();
        d.update(q.type().name().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        ints(d, new int[] {q.axis()});
        ByteBuffer b = ByteBuffer.allocate(12 * q.scale().length).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < q.scale().length; i++) {
            b.putInt(Float.floatToIntBits(q.scale()[i])).putLong(q.zeroPoint()[i]);
        }
        d.update(b.array());
        ints(d, t.codes());
        return Sha256.hex(d);
    }

    static String of(Tensor t) {
        MessageDigest d = Sha256.newDigest();
        d.update((byte) 'f');
        d.update(t.dtype().name().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        ints(d, t.shape());
        ByteBuffer b = ByteBuffer.allocate(8 * t.size()).order(ByteOrder.LITTLE_ENDIAN);
        if (t.isFloating()) {
            for (float f : t.toFloat().floats()) {
                b.putInt(Float.floatToIntBits(f));
            }
        } else {
            for (int i = 0; i < t.size(); i++) {
                b.putLong(t.getLong(i));
            }
        }
        d.update(b.array(), 0, b.position());
        return Sha256.hex(d);
    }

    private static void ints(MessageDigest d, int[] v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length + 4).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(v.length);
        for (int x : v) {
            b.putInt(x);
        }
        d.update(b.array());
    }
}
