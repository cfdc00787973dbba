package dev.layerprobe.simulator.kernels;

import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Node;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * ONNX Scan. From opset 9: N state values and M scan inputs; the body runs once per slice of the
 * scan inputs along their {@code scan_input_axes} (forward, or backward where
 * {@code scan_input_directions} is 1), gets the N states and the M slices and returns the N next
 * states and K scan outputs, which are stacked along {@code scan_output_axes} (in reverse order
 * where {@code scan_output_directions} is 1). Opset 8's form has a batch axis first on every input
 * and output, scans along axis 1 with {@code directions}, and takes an optional
 * {@code sequence_lens} first, of which only full lengths are supported. Thread-safe.
 */
final class ScanKernel implements FloatKernel {
    private final Subprogram body;
    private final boolean batched;
    private final int scanInputs;
    private final long[] inAxes;
    private final long[] inDirs;
    private final long[] outAxes;
    private final long[] outDirs;

    private ScanKernel(
            Subprogram body, boolean batched, int m, long[] inAxes, long[] inDirs, long[] outAxes, long[] outDirs) {
        this.body = body;
        this.batched = batched;
        this.scanInputs = m;
        this.inAxes = inAxes;
        this.inDirs = inDirs;
        this.outAxes = outAxes;
        this.outDirs = outDirs;
    }

    static FloatKernel create(Node node, int opset) {
        Subprogram body = Subprogram.of(node, "body");
        if (node.attr("num_scan_inputs") == null) {
            throw new IllegalArgumentException("attribute 'num_scan_inputs' is missing");
        }
        int m = (int) node.attrInt("num_scan_inputs", 0);
        int n = body.inputCount() - m;
        if (m < 1 || n < 0 || body.outputCount() < n) {
            throw new IllegalArgumentException("num_scan_inputs=" + m + " does not fit a body of " + body.inputCount()
                    + " inputs and " + body.outputCount() + " outputs");
        }
        int k = body.outputCount() - n;
        boolean batched = opset < 9;
        long[] inDirs = node.attrInts(batched ? "directions" : "scan_input_directions", new long[m]);
        long[] inAxes = batched ? new long[m] : node.attrInts("scan_input_axes", new long[m]);
        long[] outAxes = batched ? new long[k] : node.attrInts("scan_output_axes", new long[k]);
        long[] outDirs = batched ? new long[k] : node.attrInts("scan_output_directions", new long[k]);
        if (inDirs.length != m || inAxes.length != m || outAxes.length != k || outDirs.length != k) {
            throw new IllegalArgumentException("scan axes and directions must have one entry per scan input (" + m
                    + ") and per scan output (" + k + ")");
        }
        return new ScanKernel(body, batched, m, inAxes, inDirs, outAxes, outDirs);
    }

    @Override
    public Tensor[] run(Tensor[] inputs) {
        return run(inputs, Scope.NONE);
    }

    @Override
    public Tensor[] run(Tensor[] inputs, Scope scope) {
        if (!batched) {
            return scan(inputs, scope);
        }
        Tensor lens = KernelArgs.optional(inputs, 0);
        Tensor[] rest = Arrays.copyOfRange(inputs, 1, inputs.length);
        int batch = KernelArgs.required(rest, 0, "first state or scan input").dim(0);
        int steps =
                KernelArgs.required(rest, rest.length - 1, "last scan input").dim(1);
        if (lens != null) {
            for (long l : KernelArgs.longs(lens, "sequence_lens")) {
                if (l != steps) {
                    throw new IllegalArgumentException(
                            "sequence_lens shorter than the scan (" + l + " of " + steps + ") is not supported");
                }
            }
        }
        List<List<Tensor>> perOutput = new ArrayList<>();
        for (int b = 0; b < batch; b++) {
            Tensor[] one = new Tensor[rest.length];
            for (int i = 0; i < one.length; i++) {
                one[i] = ControlFlow.take(rest[i], 0, b);
            }
            Tensor[] out = scan(one, scope);
            for (int i = 0; i < out.length; i++) {
                if (b == 0) {
                    perOutput.add(new ArrayList<>());
                }
                perOutput.get(i).add(out[i]);
            }
        }
        Tensor[] result = new Tensor[perOutput.size()];
        for (int i = 0; i < result.length; i++) {
            result[i] = ControlFlow.stack(perOutput.get(i), 0, "output " + i);
        }
        return result;
    }

    /** The opset 9 form: no batch axis. */
    private Tensor[] scan(Tensor[] inputs, Scope scope) {
        int n = inputs.length - scanInputs;
        if (n < 0 || n + scanInputs != body.inputCount()) {
            throw new IllegalArgumentException(
                    "got " + inputs.length + " inputs for a body of " + body.inputCount() + " inputs");
        }
        Tensor[] state = new Tensor[n];
        for (int j = 0; j < n; j++) {
            state[j] = KernelArgs.required(inputs, j, "initial state " + j);
        }
        int[] axes = new int[scanInputs];
        int steps = -1;
        for (int j = 0; j < scanInputs; j++) {
            Tensor x = KernelArgs.required(inputs, n + j, "scan input " + j);
            axes[j] = KernelArgs.axis(inAxes[j], x.rank(), "scan_input_axes");
            int len = x.dim(axes[j]);
            if (steps >= 0 && len != steps) {
                throw new IllegalArgumentException("scan inputs have lengths " + steps + " and " + len);
            }
            steps = len;
        }
        int k = body.outputCount() - n;
        List<List<Tensor>> scanned = new ArrayList<>();
        for (int i = 0; i < k; i++) {
            scanned.add(new ArrayList<>());
        }
        Tensor[] in = new Tensor[n + scanInputs];
        for (int t = 0; t < steps; t++) {
            System.arraycopy(state, 0, in, 0, n);
            for (int j = 0; j < scanInputs; j++) {
                int at = inDirs[j] == 1 ? steps - 1 - t : t;
                in[n + j] = ControlFlow.take(inputs[n + j], axes[j], at);
            }
            Tensor[] out = body.run(in, scope);
            System.arraycopy(out, 0, state, 0, n);
            for (int i = 0; i < k; i++) {
                scanned.get(i).add(out[n + i]);
            }
        }
        if (steps == 0) {
            throw new IllegalArgumentException("a scan of length 0 is not supported");
        }
        Tensor[] result = new Tensor[n + k];
        System.arraycopy(state, 0, result, 0, n);
        for (int i = 0; i < k; i++) {
            List<Tensor> parts = new ArrayList<>(scanned.get(i));
            if (outDirs[i] == 1) {
                java.util.Collections.reverse(parts);
            }
            int rank = parts.get(0).rank() + 1;
            result[n + i] =
                    ControlFlow.stack(parts, KernelArgs.axis(outAxes[i], rank, "scan_output_axes"), "scan output " + i);
        }
        return result;
    }
}
