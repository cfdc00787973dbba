package dev.layerprobe.core.ort;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtProvider;
import ai.onnxruntime.OrtSession;
import dev.layerprobe.core.LayerProbeException;
import dev.layerprobe.core.LayerProbeException.Code;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * ONNX Runtime execution providers chosen by name ({@code --ep}), checked against those the ONNX
 * Runtime build on this machine carries. A name is matched without case, with or without the
 * {@code ExecutionProvider} suffix and underscores: {@code xnnpack}, {@code XNNPACK} and
 * {@code XnnpackExecutionProvider} are the same provider; {@code cpu} is ONNX Runtime's own CPU
 * kernels, which run whatever the others do not take in any case. Providers are registered in the
 * order given, which is ONNX Runtime's order of preference, each with its default options.
 *
 * <p>Immutable and thread-safe.
 */
public final class ExecutionProviders {
    /** ONNX Runtime's CPU kernels only: what a session gets when no provider is named. */
    public static final ExecutionProviders CPU = new ExecutionProviders(List.of());

    /** Providers the Java API offers no registration call for (they need options only C/C++ set). */
    private static final EnumSet<OrtProvider> UNREGISTRABLE =
            EnumSet.of(OrtProvider.RK_NPU, OrtProvider.VITIS_AI, OrtProvider.MI_GRAPH_X, OrtProvider.AZURE);

    private final List<OrtProvider> providers;

    private ExecutionProviders(List<OrtProvider> providers) {
        this.providers = List.copyOf(providers);
    }

    /**
     * The providers with these names, in this order.
     *
     * @throws LayerProbeException code BAD_PROFILE naming the provider and the ones this machine's
     *     ONNX Runtime offers, for a name that is no provider or one this build does not carry
     */
    public static ExecutionProviders of(List<String> names) throws LayerProbeException {
        EnumSet<OrtProvider> available = available();
        List<OrtProvider> chosen = new ArrayList<>();
        for (String name : names) {
            OrtProvider p = byName(name.strip());
            if (p == null || !available.contains(p)) {
                throw new LayerProbeException(
                        Code.BAD_PROFILE,
                        (p == null ? "unknown ONNX Runtime execution provider '" : "execution provider '")
                                + name.strip() + (p == null ? "'" : "' is not in this machine's ONNX Runtime build")
                                + "; available: " + names(registrable(available)));
            }
            if (UNREGISTRABLE.contains(p)) {
                throw new LayerProbeException(
                        Code.BAD_PROFILE,
                        "execution provider '" + name.strip() + "' cannot be registered through ONNX Runtime's"
                                + " Java API; available: " + names(registrable(available)));
            }
            if (p != OrtProvider.CPU && !chosen.contains(p)) {
                chosen.add(p);
            }
        }
        return chosen.isEmpty() ? CPU : new ExecutionProviders(chosen);
    }

    /** The providers this machine's ONNX Runtime carries (CPU always). */
    public static EnumSet<OrtProvider> available() throws LayerProbeException {
        OrtSessions.environment(); // loads the natives, with its one-line error when they cannot load
        return OrtEnvironment.getAvailableProviders();
    }

    private static EnumSet<OrtProvider> registrable(EnumSet<OrtProvider> providers) {
        EnumSet<OrtProvider> r = EnumSet.copyOf(providers);
        r.removeAll(UNREGISTRABLE);
        r.add(OrtProvider.CPU);
        return r;
    }

    /** The short names of providers, as {@code --ep} takes them: {@code cpu, xnnpack}. */
    public static String names(EnumSet<OrtProvider> providers) {
        return providers.stream().map(ExecutionProviders::shortName).collect(Collectors.joining(", "));
    }

    /** The providers registered before ONNX Runtime's CPU kernels, in order of preference. */
    public List<OrtProvider> providers() {
        return providers;
    }

    /** Registers the providers on session options, in order. */
    void apply(OrtSession.SessionOptions options) throws OrtException {
        for (OrtProvider p : providers) {
            switch (p) {
                case XNNPACK -> options.addXnnpack(Map.of());
                case QNN -> options.addQnn(Map.of());
                case WEBGPU -> options.addWebGPU(Map.of());
                case CORE_ML -> options.addCoreML();
                case NNAPI -> options.addNnapi();
                case CUDA -> options.addCUDA();
                case ROCM -> options.addROCM();
                case DNNL -> options.addDnnl(true);
                case OPEN_VINO -> options.addOpenVINO("");
                case TENSOR_RT -> options.addTensorrt(0);
                case DIRECT_ML -> options.addDirectML(0);
                case ACL -> options.addACL(true);
                case ARM_NN -> options.addArmNN(true);
                default -> throw new IllegalStateException(p + " passed of() without a way to register it");
            }
        }
    }

    /** E.g. {@code cpu} or {@code xnnpack, cpu}: what runs the model, in order of preference. */
    @Override
    public String toString() {
        List<String> all = new ArrayList<>();
        providers.forEach(p -> all.add(shortName(p)));
        all.add(shortName(OrtProvider.CPU));
        return String.join(", ", all);
    }

    private static String shortName(OrtProvider p) {
        return p.name().replace("_", "").toLowerCase(Locale.ROOT);
    }

    private static OrtProvider byName(String name) {
        String key = name.toLowerCase(Locale.ROOT).replace("_", "").replace("-", "");
        for (OrtProvider p : OrtProvider.values()) {
            String full = p.getName().toLowerCase(Locale.ROOT);
            if (key.equals(shortName(p)) || key.equals(full) || key.equals(full.replace("executionprovider", ""))) {
                return p;
            }
        }
        return null;
    }
}
