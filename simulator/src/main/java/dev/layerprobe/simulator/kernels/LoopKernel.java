package dev.layerprobe.simulator.kernels;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Node;
import java.util.ArrayList;
import java.util.List;

/**
 * ONNX Loop (opset 1 to 19 forms for tensors): runs {@code body} while the iteration count is below
 * the trip count {@code M} (when given) and the condition is true (when {@code cond} is given; the
 * body's condition output is then the next one). The body gets the iteration number (int64), the
 * condition and the N loop-carried values, and returns the condition, the N new values and K scan
 * outputs; the node returns the final N values and each scan output stacked over the iterations
 * along a new first axis (an empty float tensor of shape [0] when no iteration ran). A loop with
 * neither trip count nor condition never ends and is refused. Thread-safe.
 */
final class LoopKernel implements FloatKernel {
    private final Subprogram body;
    private final int carried;
    private final int scans;

    private LoopKernel(Subprogram body, int carried, int scans) {
        this.body = body;
        this.carried = carried;
        this.scans = scans;
    }

    static FloatKernel create(Node node, int opset) {
        Subprogram body = Subprogram.of(node, "body");
        int n = body.inputCount() - 2;
        int k = body.outputCount() - 1 - n;
        if (n < 0 || k < 0) {
            throw new IllegalArgumentException("body has " + body.inputCount() + " inputs and " + body.outputCount()
                    + " outputs; it needs the iteration number, the condition and as many carried values"
                    + " in as out");
        }
        return new LoopKernel(body, n, k);
    }

    @Override
    public Tensor[] run(Tensor[] inputs) {
        return run(inputs, Scope.NONE);
    }

    @Override
    public Tensor[] run(Tensor[] inputs, Scope scope) {
        Tensor m = KernelArgs.optional(inputs, 0);
        Tensor c = KernelArgs.optional(inputs, 1);
        if (m == null && c == null) {
            throw new IllegalArgumentException("neither trip count M nor condition cond is given: the loop never ends");
        }
        long max = m == null ? Long.MAX_VALUE : KernelArgs.longs(m, "M")[0];
        boolean cond = c == null || ControlFlow.truth(c, "cond");
        Tensor[] state = new Tensor[carried];
        for (int j = 0; j < carried; j++) {
            state[j] = KernelArgs.required(inputs, 2 + j, "v_initial " + j);
        }
        List<List<Tensor>> scanned = new ArrayList<>();
        for (int k = 0; k < scans; k++) {
            scanned.add(new ArrayList<>());
        }
        Tensor[] in = new Tensor[2 + carried];
        for (long i = 0; i < max && cond; i++) {
            in[0] = ControlFlow.int64(i);
            in[1] = ControlFlow.bool(cond);
            System.arraycopy(state, 0, in, 2, carried);
            Tensor[] out = body.run(in, scope);
            if (c != null) {
                cond = ControlFlow.truth(out[0], "the body's condition output");
            }
            System.arraycopy(out, 1, state, 0, carried);
            for (int k = 0; k < scans; k++) {
                scanned.get(k).add(out[1 + carried + k]);
            }
        }
        Tensor[] result = new Tensor[carried + scans];
        System.arraycopy(state, 0, result, 0, carried);
        for (int k = 0; k < scans; k++) {
            List<Tensor> parts = scanned.get(k);
            result[carried + k] = parts.isEmpty()
                    ? Tensor.ofFloats(DType.FLOAT32, new int[] {0}, new float[0])
                    : ControlFlow.stack(parts, 0, "scan output " + k);
        }
        return result;
    }
}
