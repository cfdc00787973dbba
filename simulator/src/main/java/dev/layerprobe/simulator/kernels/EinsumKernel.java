package dev.layerprobe.simulator.kernels;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Node;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * ONNX Einsum: {@code "ij,jk->ik"}-style equations over any number of inputs, with an explicit
 * output ({@code ->}) or the implicit one (the broadcast {@code ...} dimensions, then every letter
 * that appears once, in alphabetical order). A letter repeated within one term takes the diagonal;
 * a letter absent from the output is summed over. {@code ...} stands for the same broadcast
 * dimensions in every term. Each output element is one float32 sum over the summed indices in C
 * order of their first appearance; integer types sum in 64 bits and wrap to the element type.
 * Thread-safe.
 */
public final class EinsumKernel implements FloatKernel {
    /** Label ids: 0..51 for letters, 52 + k for the k-th broadcast dimension of {@code ...}. */
    private static final int ELLIPSIS_BASE = 52;

    private final String equation;

    private EinsumKernel(String equation) {
        this.equation = equation;
    }

    static FloatKernel create(Node node, int opset) {
        String eq = node.attrString("equation", null);
        if (eq == null) {
            throw new IllegalArgumentException("attribute 'equation' is missing");
        }
        return new EinsumKernel(eq.replace(" ", ""));
    }

    private static int letter(char c) {
        if (c >= 'a' && c <= 'z') {
            return c - 'a';
        }
        if (c >= 'A' && c <= 'Z') {
            return 26 + c - 'A';
        }
        throw new IllegalArgumentException("equation has invalid character '" + c + "'");
    }

    /** The labels of one term; {@code ...} expands to the last of {@code ellipsisMax} broadcast labels. */
    private static int[] labels(String term, int rank, int ellipsisMax) {
        int dots = term.indexOf("...");
        String plain = dots < 0 ? term : term.substring(0, dots) + term.substring(dots + 3);
        if (plain.contains(".")) {
            throw new IllegalArgumentException("equation term '" + term + "' has a '.' outside '...'");
        }
        int ellipsisRank = dots < 0 ? 0 : rank - plain.length();
        if (rank >= 0 && (ellipsisRank < 0 || (dots < 0 && plain.length() != rank))) {
            throw new IllegalArgumentException("equation term '" + term + "' does not fit an input of rank " + rank);
        }
        int[] out = new int[plain.length() + ellipsisRank];
        int k = 0;
        for (int i = 0; i < term.length(); i++) {
            if (i == dots) {
                for (int e = 0; e < ellipsisRank; e++) {
                    out[k++] = ELLIPSIS_BASE + ellipsisMax - ellipsisRank + e;
                }
                i += 2;
            } else {
                out[k++] = letter(term.charAt(i));
            }
        }
        return out;
    }

    @Override
    public Tensor[] run(Tensor[] inputs) {
        int arrow = equation.indexOf("->");
        String lhs = arrow < 0 ? equation : equation.substring(0, arrow);
        String[] terms = lhs.split(",", -1);
        if (terms.length != inputs.length) {
            throw new IllegalArgumentException(
                    "equation '" + equation + "' has " + terms.length + " terms for " + inputs.length + " inputs");
        }
        int ellipsisMax = 0;
        for (int t = 0; t < terms.length; t++) {
            Tensor x = KernelArgs.required(inputs, t, "input " + t);
            if (terms[t].contains("...")) {
                int letters = terms[t].length() - 3;
                ellipsisMax = Math.max(ellipsisMax, x.rank() - letters);
            }
        }
        int nLabels = ELLIPSIS_BASE + ellipsisMax;
        int[] size = new int[nLabels];
        Arrays.fill(size, -1);
        int[][] termLabels = new int[terms.length][];
        int[] count = new int[nLabels];
        List<Integer> order = new ArrayList<>(); // labels in order of first appearance
        for (int t = 0; t < terms.length; t++) {
            Tensor x = inputs[t];
            termLabels[t] = labels(terms[t], x.rank(), ellipsisMax);
            for (int d = 0; d < termLabels[t].length; d++) {
                int l = termLabels[t][d];
                int n = x.dim(d);
                boolean broadcast = l >= ELLIPSIS_BASE;
                if (size[l] < 0 || (broadcast && size[l] == 1)) {
                    size[l] = n;
                } else if (size[l] != n && !(broadcast && n == 1)) {
                    throw new IllegalArgumentException("equation '" + equation + "': dimension of '" + terms[t]
                            + "' is " + n + " where another term has " + size[l]);
                }
                if (count[l]++ == 0) {
                    order.add(l);
                }
            }
        }
        int[] outLabels = outputLabels(arrow < 0 ? null : equation.substring(arrow + 2), count, ellipsisMax);
        boolean[] inOut = new boolean[nLabels];
        for (int l : outLabels) {
            if (count[l] == 0 && l < ELLIPSIS_BASE) {
                throw new IllegalArgumentException("equation '" + equation + "': output letter appears in no input");
            }
            if (inOut[l]) {
                throw new IllegalArgumentException("equation '" + equation + "': output repeats a letter");
            }
            inOut[l] = true;
            if (size[l] < 0) {
                size[l] = 1;
            }
        }
        List<Integer> summed = new ArrayList<>();
        for (int l : order) {
            if (!inOut[l]) {
                summed.add(l);
            }
        }
        int[] outShape = new int[outLabels.length];
        for (int i = 0; i < outLabels.length; i++) {
            outShape[i] = size[outLabels[i]];
        }
        // Per input, the stride each label advances it by (repeated labels add up: the diagonal).
        int[][] strides = new int[inputs.length][nLabels];
        for (int t = 0; t < inputs.length; t++) {
            int[] shape = inputs[t].shape();
            int s = 1;
            for (int d = shape.length - 1; d >= 0; d--) {
                if (shape[d] != 1) {
                    strides[t][termLabels[t][d]] += s;
                }
                s *= shape[d];
            }
        }
        return new Tensor[] {compute(inputs, outLabels, outShape, summed, size, strides)};
    }

    private static int[] outputLabels(String rhs, int[] count, int ellipsisMax) {
        if (rhs != null) {
            return explicit(rhs, ellipsisMax);
        }
        // The implicit output: the broadcast dimensions, then the letters used once in ASCII order
        // (upper case first), as numpy orders them.
        List<Integer> out = new ArrayList<>();
        for (int e = 0; e < ellipsisMax; e++) {
            out.add(ELLIPSIS_BASE + e);
        }
        for (int l = 26; l < ELLIPSIS_BASE; l++) {
            if (count[l] == 1) {
                out.add(l);
            }
        }
        for (int l = 0; l < 26; l++) {
            if (count[l] == 1) {
                out.add(l);
            }
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    private static int[] explicit(String rhs, int ellipsisMax) {
        int dots = rhs.indexOf("...");
        int rank = (dots < 0 ? rhs.length() : rhs.length() - 3) + (dots < 0 ? 0 : ellipsisMax);
        return labels(rhs, rank, ellipsisMax);
    }

    private static Tensor compute(
            Tensor[] inputs, int[] outLabels, int[] outShape, List<Integer> summed, int[] size, int[][] strides) {
        int n = inputs.length;
        int outSize = 1;
        for (int d : outShape) {
            outSize *= d;
        }
        int[] sumLabels = summed.stream().mapToInt(Integer::intValue).toArray();
        int sumSize = 1;
        for (int l : sumLabels) {
            sumSize *= size[l];
        }
        boolean floating = true;
        DType dtype = inputs[0].dtype();
        for (Tensor t : inputs) {
            floating &= t.isFloating();
            if (t.dtype() != dtype) {
                throw new IllegalArgumentException("inputs have different types " + dtype + " and " + t.dtype());
            }
        }
        float[][] fx = new float[n][];
        long[][] lx = new long[n][];
        for (int t = 0; t < n; t++) {
            if (floating) {
                fx[t] = inputs[t].floats();
            } else {
                lx[t] = inputs[t].longs();
            }
        }
        float[] fy = floating ? new float[outSize] : null;
        long[] ly = floating ? null : new long[outSize];
        int[] outIdx = new int[outLabels.length];
        int[] sumIdx = new int[sumLabels.length];
        int[] base = new int[n];
        int[] off = new int[n];
        for (int o = 0; o < outSize; o++) {
            Arrays.fill(base, 0);
            for (int d = 0; d < outLabels.length; d++) {
                for (int t = 0; t < n; t++) {
                    base[t] += outIdx[d] * strides[t][outLabels[d]];
                }
            }
            Arrays.fill(sumIdx, 0);
            float facc = 0f;
            long lacc = 0;
            for (int s = 0; s < sumSize; s++) {
                System.arraycopy(base, 0, off, 0, n);
                for (int d = 0; d < sumLabels.length; d++) {
                    for (int t = 0; t < n; t++) {
                        off[t] += sumIdx[d] * strides[t][sumLabels[d]];
                    }
                }
                if (floating) {
                    float p = fx[0][off[0]];
                    for (int t = 1; t < n; t++) {
                        p *= fx[t][off[t]];
                    }
                    facc += p;
                } else {
                    long p = lx[0][off[0]];
                    for (int t = 1; t < n; t++) {
                        p *= lx[t][off[t]];
                    }
                    lacc += p;
                }
                increment(sumIdx, sumLabels, size);
            }
            if (floating) {
                fy[o] = facc;
            } else {
                ly[o] = lacc;
            }
            increment(outIdx, outLabels, size);
        }
        return floating ? Outputs.floats(dtype, outShape, fy) : Outputs.longs(dtype, outShape, ly);
    }

    /** Advances a C-order multi-index over the given labels' sizes. */
    private static void increment(int[] idx, int[] labels, int[] size) {
        for (int d = idx.length - 1; d >= 0; d--) {
            if (++idx[d] < size[labels[d]]) {
                return;
            }
            idx[d] = 0;
        }
    }
}
