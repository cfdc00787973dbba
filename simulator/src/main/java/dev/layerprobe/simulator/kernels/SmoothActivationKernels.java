package dev.layerprobe.simulator.kernels;

import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Node;

/**
 * The smooth activations of transformer and detector networks: Gelu (opset 20; {@code approximate}
 * none: {@code x/2 (1 + erf(x/sqrt 2))}, or tanh: {@code x/2 (1 + tanh(sqrt(2/pi)(x + 0.044715 x^3)))})
 * and Mish ({@code x tanh(softplus(x))}). Evaluated in double, rounded once to float32, like
 * {@link UnaryKernels}. Stateless and thread-safe.
 */
public final class SmoothActivationKernels {
    private SmoothActivationKernels() {}

    private static FloatKernel map(UnaryKernels.FloatFn f) {
        return inputs -> {
            Tensor x = KernelArgs.required(inputs, 0, "X");
            KernelArgs.requireFloating(x, "X");
            float[] s = x.floats();
            float[] r = new float[s.length];
            for (int i = 0; i < s.length; i++) {
                r[i] = f.apply(s[i]);
            }
            return new Tensor[] {Outputs.floats(x.dtype(), x.shape(), r)};
        };
    }

    static FloatKernel gelu(Node node, int opset) {
        String approx = KernelArgs.oneOf(node, "approximate", "none", "none", "tanh");
        if (approx.equals("tanh")) {
            double k = Math.sqrt(2 / Math.PI);
            return map(x -> (float) (0.5 * x * (1 + Math.tanh(k * (x + 0.044715 * (double) x * x * x)))));
        }
        return map(x -> (float) (0.5 * x * (1 + UnaryKernels.erf(x / Math.sqrt(2)))));
    }

    static FloatKernel mish(Node node, int opset) {
        // log1p(exp(x)) overflows for large x, where softplus(x) == x in double anyway.
        return map(x -> (float) (x * Math.tanh(x > 30 ? x : Math.log1p(Math.exp(x)))));
    }
}
