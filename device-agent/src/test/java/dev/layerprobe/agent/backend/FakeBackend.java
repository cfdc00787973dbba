package dev.layerprobe.agent.backend;

import dev.layerprobe.core.LayerProbeException;
import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.LayerValue;
import dev.layerprobe.core.tensor.QTensor;
import dev.layerprobe.core.tensor.QuantParams;
import dev.layerprobe.core.tensor.Shapes;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.Layer;
import dev.layerprobe.simulator.LayerObserver;
import dev.layerprobe.simulator.Placement;
import dev.layerprobe.simulator.graph.ValueInfo;
import dev.layerprobe.simulator.profile.DeviceProfile;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;

/**
 * A backend whose every model is a fixed list of layers with fixed values, for protocol tests
 * that must not depend on the compiler. It records how its observer loop went: layers produced,
 * whether the loop ended by an exception from the observer, and a latch released when it ended.
 */
public final class FakeBackend implements Backend {
    public static final String INPUT = "input";

    /** One layer and the value the fake "device" produces for it. */
    public record FakeLayer(Layer layer, LayerValue value) {}

    private final DeviceProfile profile;
    private final List<FakeLayer> layers;
    public final AtomicInteger loads = new AtomicInteger();
    public final AtomicInteger produced = new AtomicInteger();
    public final AtomicBoolean aborted = new AtomicBoolean();
    public volatile CountDownLatch runEnded = new CountDownLatch(1);
    /** Called with a layer's index just before the observer sees it. */
    public volatile IntConsumer beforeLayer = i -> {};

    public FakeBackend(DeviceProfile profile, List<FakeLayer> layers) {
        this.profile = profile;
        this.layers = List.copyOf(layers);
    }

    public List<FakeLayer> layers() {
        return layers;
    }

    @Override
    public String name() {
        return "fake";
    }

    @Override
    public String device() {
        return profile.name();
    }

    @Override
    public Set<Capability> capabilities() {
        return EnumSet.of(Capability.RUN, Capability.NATIVE_DUMPS, Capability.RUN_LAYER);
    }

    @Override
    public Map<String, String> versions() {
        return Map.of("fake", "1.0");
    }

    @Override
    public Optional<DeviceProfile> profile() {
        return Optional.of(profile);
    }

    @Override
    public LoadedModel load(byte[] model, String modelId) {
        loads.incrementAndGet();
        return new IsolatingModel() {
            @Override
            public List<ValueInfo> inputs() {
                return List.of(new ValueInfo(INPUT, DType.FLOAT32, new int[] {1, 4}));
            }

            @Override
            public void run(Map<String, Tensor> feeds, LayerObserver observer) {
                try {
                    for (FakeLayer l : layers) {
                        beforeLayer.accept(l.layer().index());
                        observer.onLayer(l.layer(), l.value());
                        produced.incrementAndGet();
                    }
                } catch (RuntimeException e) {
                    aborted.set(true);
                    throw e;
                } finally {
                    runEnded.countDown();
                }
            }

            @Override
            public LayerValue runLayer(String layer, Map<String, Tensor> layerInputs) throws LayerProbeException {
                for (FakeLayer l : layers) {
                    if (l.layer().name().equals(layer)) {
                        return l.value();
                    }
                }
                throw new LayerProbeException(LayerProbeException.Code.BAD_INPUT, "unknown layer '" + layer + "'");
            }

            @Override
            public void close() {}
        };
    }

    /** A layer of int8 codes {@code (i * 7) % 256 - 128}, per-tensor quantized. */
    public static FakeLayer int8Layer(int index, String name, String op, int... shape) {
        int[] codes = new int[(int) Shapes.size(shape)];
        for (int i = 0; i < codes.length; i++) {
            codes[i] = (i * 7) % 256 - 128;
        }
        QuantParams q = QuantParams.perTensor(DType.INT8, 0.05f, -3);
        return new FakeLayer(
                layer(index, name, op, Placement.NPU, q, List.of(name + "_node")),
                LayerValue.of(new QTensor(shape, codes, q)));
    }

    /** A layer of uint8 codes {@code i % 256}, quantized per channel along axis 1. */
    public static FakeLayer uint8PerChannelLayer(int index, String name, String op, int... shape) {
        int[] codes = new int[(int) Shapes.size(shape)];
        for (int i = 0; i < codes.length; i++) {
            codes[i] = i % 256;
        }
        int channels = shape[1];
        float[] scales = new float[channels];
        long[] zps = new long[channels];
        for (int c = 0; c < channels; c++) {
            scales[c] = 0.01f * (c + 1);
            zps[c] = 128L + c;
        }
        QuantParams q = new QuantParams(DType.UINT8, scales, zps, 1);
        return new FakeLayer(
                layer(index, name, op, Placement.NPU, q, List.of(name + "_conv", name + "_relu")),
                LayerValue.of(new QTensor(shape, codes, q)));
    }

    /** A layer of int16 codes spanning the type's range. */
    public static FakeLayer int16Layer(int index, String name, String op, int... shape) {
        int[] codes = new int[(int) Shapes.size(shape)];
        for (int i = 0; i < codes.length; i++) {
            codes[i] = (i * 4099) % 65536 - 32768;
        }
        QuantParams q = QuantParams.perTensor(DType.INT16, 0.001f, 0);
        return new FakeLayer(
                layer(index, name, op, Placement.NPU, q, List.of(name + "_node")),
                LayerValue.of(new QTensor(shape, codes, q)));
    }

    /** A float layer of values {@code i * 0.5 - 3}, placed on the CPU. */
    public static FakeLayer floatLayer(int index, String name, String op, int... shape) {
        float[] data = new float[(int) Shapes.size(shape)];
        for (int i = 0; i < data.length; i++) {
            data[i] = i * 0.5f - 3;
        }
        return new FakeLayer(
                layer(index, name, op, Placement.CPU, null, List.of(name + "_node")),
                LayerValue.of(Tensor.ofFloats(shape, data)));
    }

    /** {@code n} int8 layers of the given shape, named {@code l0, l1, ...}. */
    public static List<FakeLayer> int8Layers(int n, int... shape) {
        List<FakeLayer> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(int8Layer(i, "l" + i, "Conv", shape));
        }
        return out;
    }

    private static Layer layer(
            int index, String name, String op, Placement placement, QuantParams q, List<String> fused) {
        return new Layer(index, name, op, List.of(INPUT), List.of(name), fused, List.of(), Map.of(), placement, q);
    }

    /** The fake's loaded model, which can also run single layers. */
    private interface IsolatingModel extends LoadedModel, LayerIsolation {}
}
