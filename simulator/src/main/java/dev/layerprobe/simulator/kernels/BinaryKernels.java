package dev.layerprobe.simulator.kernels;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.Shapes;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Node;
import java.util.Arrays;

/**
 * Elementwise binary ONNX operators with numpy broadcasting, one factory per op type, plus the
 * variadic ones (Min, Max, Sum, Mean) folded left to right over their inputs.
 *
 * <p>Arithmetic on floating tensors is float32 (Pow in double, rounded once); on integer tensors it
 * is 64-bit and wraps to the tensor's width; integer Div truncates toward zero as in C and ONNX
 * Runtime. Comparisons yield BOOL. Stateless and thread-safe.
 */
public final class BinaryKernels {
    /**
     * From this row length, a broadcast row is applied through a scratch copy of each row of A:
     * C2 (JDK 17) vectorises a loop only when all its arrays share one index expression, and
     * {@code r[row + j] = x[row + j] + y[j]} does not (about 7x slower than two copies and a
     * vector loop).
     */
    private static final int ROW_SCRATCH_MIN = 16;

    private BinaryKernels() {}

    private enum Op {
        ADD,
        SUB,
        MUL,
        DIV,
        POW,
        MOD,
        FMOD,
        PRELU,
        MIN,
        MAX,
        EQ,
        GT,
        LT,
        GE,
        LE,
        AND,
        OR,
        XOR;

        boolean comparison() {
            return this == EQ || this == GT || this == LT || this == GE || this == LE;
        }

        boolean logical() {
            return this == AND || this == OR || this == XOR;
        }

        /** x op y == y op x bit for bit on floats (IEEE addition and multiplication, Math.min/max). */
        boolean commutative() {
            return this == ADD || this == MUL || this == MIN || this == MAX;
        }
    }

    private static FloatKernel binary(Op op) {
        return new FloatKernel() {
            @Override
            public Tensor[] run(Tensor[] inputs) {
                return new Tensor[] {
                    apply(op, KernelArgs.required(inputs, 0, "A"), KernelArgs.required(inputs, 1, "B"), null)
                };
            }

            @Override
            public Tensor[] runReusing(Tensor[] inputs, int reusable) {
                Tensor a = KernelArgs.required(inputs, 0, "A");
                Tensor b = KernelArgs.required(inputs, 1, "B");
                Tensor r = reusable == 0 || reusable == 1 ? inputs[reusable] : null;
                // Only an operand of the result's own shape and type, which every path reads at the
                // index it writes: each value is read before it is overwritten.
                boolean fits = r != null
                        && r.isFloating()
                        && r.dtype() == a.dtype()
                        && a.isFloating() == b.isFloating()
                        && !op.comparison()
                        && op != Op.POW
                        && Arrays.equals(r.shape(), Shapes.broadcast(a.shape(), b.shape()));
                return new Tensor[] {apply(op, a, b, fits ? r.floats() : null)};
            }
        };
    }

    static FloatKernel add(Node n, int opset) {
        return binary(Op.ADD);
    }

    static FloatKernel sub(Node n, int opset) {
        return binary(Op.SUB);
    }

    static FloatKernel mul(Node n, int opset) {
        return binary(Op.MUL);
    }

    static FloatKernel div(Node n, int opset) {
        return binary(Op.DIV);
    }

    static FloatKernel pow(Node n, int opset) {
        return binary(Op.POW);
    }

    static FloatKernel mod(Node n, int opset) {
        return binary(KernelArgs.oneOf(n, "fmod", 0, 0, 1) == 1 ? Op.FMOD : Op.MOD);
    }

    /** PRelu: the slope broadcasts to X (unidirectionally). */
    static FloatKernel prelu(Node n, int opset) {
        return inputs -> {
            Tensor x = KernelArgs.required(inputs, 0, "X");
            Tensor slope = KernelArgs.required(inputs, 1, "slope");
            Tensor y = apply(Op.PRELU, x, slope);
            if (!Arrays.equals(y.shape(), x.shape())) {
                throw new IllegalArgumentException("slope " + Arrays.toString(slope.shape())
                        + " does not broadcast to X " + Arrays.toString(x.shape()));
            }
            return new Tensor[] {y};
        };
    }

    static FloatKernel equal(Node n, int opset) {
        return binary(Op.EQ);
    }

    static FloatKernel greater(Node n, int opset) {
        return binary(Op.GT);
    }

    static FloatKernel less(Node n, int opset) {
        return binary(Op.LT);
    }

    static FloatKernel greaterOrEqual(Node n, int opset) {
        return binary(Op.GE);
    }

    static FloatKernel lessOrEqual(Node n, int opset) {
        return binary(Op.LE);
    }

    static FloatKernel and(Node n, int opset) {
        return binary(Op.AND);
    }

    static FloatKernel or(Node n, int opset) {
        return binary(Op.OR);
    }

    static FloatKernel xor(Node n, int opset) {
        return binary(Op.XOR);
    }

    private static FloatKernel fold(Op op, boolean mean) {
        return inputs -> {
            Tensor acc = KernelArgs.required(inputs, 0, "data_0");
            for (int i = 1; i < inputs.length; i++) {
                acc = apply(op, acc, KernelArgs.required(inputs, i, "data_" + i));
            }
            if (mean && inputs.length > 1) {
                acc = apply(Op.DIV, acc, Tensor.ofFloats(acc.dtype(), new int[0], new float[] {inputs.length}));
            }
            return new Tensor[] {acc};
        };
    }

    static FloatKernel min(Node n, int opset) {
        return fold(Op.MIN, false);
    }

    static FloatKernel max(Node n, int opset) {
        return fold(Op.MAX, false);
    }

    static FloatKernel sum(Node n, int opset) {
        return fold(Op.ADD, false);
    }

    static FloatKernel mean(Node n, int opset) {
        return fold(Op.ADD, true);
    }

    private static Tensor apply(Op op, Tensor a, Tensor b) {
        return apply(op, a, b, null);
    }

    /** a op b; floating arithmetic results go into {@code into} when given (see runReusing). */
    private static Tensor apply(Op op, Tensor a, Tensor b, float[] into) {
        if (op.commutative()
                && a.isFloating()
                && a.dtype() == b.dtype()
                && a.size() < b.size()
                && (a.size() == 1 || isTrailing(a.shape(), b.shape()))
                && Arrays.equals(Shapes.broadcast(a.shape(), b.shape()), b.shape())) {
            // A bias row or scalar first (Add(bias, MatMul) as exporters write it): the same values
            // with the operands swapped, so that the row takes the fast path below.
            return apply(op, b, a, into);
        }
        int[] shape = Shapes.broadcast(a.shape(), b.shape());
        int n = Math.toIntExact(Shapes.size(shape));
        int[] ia = Arrays.equals(a.shape(), shape) ? null : IndexMaps.broadcast(a.shape(), shape);
        boolean bFull = Arrays.equals(b.shape(), shape);
        // A scalar or a trailing row broadcast over a full A needs no index map (the float fast paths).
        boolean bRow = !bFull
                && ia == null
                && a.isFloating()
                && !op.comparison()
                && op != Op.POW
                && (b.size() == 1 || isTrailing(b.shape(), shape));
        int[] ib = bFull || bRow ? null : IndexMaps.broadcast(b.shape(), shape);
        if (op.logical()) {
            if (a.dtype() != DType.BOOL || b.dtype() != DType.BOOL) {
                throw new IllegalArgumentException(
                        op + " of " + a.dtype() + " and " + b.dtype() + " is not supported (valid: BOOL)");
            }
        } else if (op != Op.POW && a.isFloating() != b.isFloating()) {
            throw new IllegalArgumentException(op + " of " + a.dtype() + " and " + b.dtype() + " mixes element types");
        }
        if (op == Op.POW) {
            return pow(a, b, shape, n, ia, ib);
        }
        if (a.isFloating()) {
            float[] x = a.floats();
            float[] y = b.floats();
            if (op.comparison()) {
                long[] r = new long[n];
                for (int i = 0; i < n; i++) {
                    r[i] = compare(op, x[ia == null ? i : ia[i]], y[ib == null ? i : ib[i]]) ? 1 : 0;
                }
                return Tensor.ofLongs(DType.BOOL, shape, r);
            }
            float[] r = into != null ? into : new float[n];
            if (ia == null && bFull) {
                sameShape(op, x, y, r);
            } else if (bRow && y.length == 1) {
                scalarB(op, x, y[0], r);
            } else if (bRow && y.length >= ROW_SCRATCH_MIN) {
                float[] scratch = new float[y.length];
                for (int row = 0; row < n; row += y.length) {
                    System.arraycopy(x, row, scratch, 0, y.length);
                    sameShape(op, scratch, y, scratch);
                    System.arraycopy(scratch, 0, r, row, y.length);
                }
            } else if (bRow) {
                for (int row = 0; row < n; row += y.length) {
                    rowB(op, x, y, r, row);
                }
            } else {
                for (int i = 0; i < n; i++) {
                    r[i] = floatOp(op, x[ia == null ? i : ia[i]], y[ib == null ? i : ib[i]]);
                }
            }
            return Outputs.floats(a.dtype(), shape, r);
        }
        long[] x = a.longs();
        long[] y = b.longs();
        long[] r = new long[n];
        boolean unsigned64 = a.dtype() == DType.UINT64;
        for (int i = 0; i < n; i++) {
            r[i] = longOp(op, x[ia == null ? i : ia[i]], y[ib == null ? i : ib[i]], unsigned64);
        }
        return op.comparison() ? Tensor.ofLongs(DType.BOOL, shape, r) : Outputs.longs(a.dtype(), shape, r);
    }

    private static boolean compare(Op op, float x, float y) {
        return switch (op) {
            case EQ -> x == y;
            case GT -> x > y;
            case LT -> x < y;
            case GE -> x >= y;
            case LE -> x <= y;
            default -> throw new AssertionError(op);
        };
    }

    /** Separate loops per op so that each is a simple loop the JIT vectorises. */
    private static void sameShape(Op op, float[] x, float[] y, float[] r) {
        switch (op) {
            case ADD -> {
                for (int i = 0; i < r.length; i++) {
                    r[i] = x[i] + y[i];
                }
            }
            case SUB -> {
                for (int i = 0; i < r.length; i++) {
                    r[i] = x[i] - y[i];
                }
            }
            case MUL -> {
                for (int i = 0; i < r.length; i++) {
                    r[i] = x[i] * y[i];
                }
            }
            case DIV -> {
                for (int i = 0; i < r.length; i++) {
                    r[i] = x[i] / y[i];
                }
            }
            default -> {
                for (int i = 0; i < r.length; i++) {
                    r[i] = floatOp(op, x[i], y[i]);
                }
            }
        }
    }

    private static void scalarB(Op op, float[] x, float y, float[] r) {
        switch (op) {
            case ADD -> {
                for (int i = 0; i < r.length; i++) {
                    r[i] = x[i] + y;
                }
            }
            case SUB -> {
                for (int i = 0; i < r.length; i++) {
                    r[i] = x[i] - y;
                }
            }
            case MUL -> {
                for (int i = 0; i < r.length; i++) {
                    r[i] = x[i] * y;
                }
            }
            case DIV -> {
                for (int i = 0; i < r.length; i++) {
                    r[i] = x[i] / y;
                }
            }
            default -> {
                for (int i = 0; i < r.length; i++) {
                    r[i] = floatOp(op, x[i], y);
                }
            }
        }
    }

    /** Whether {@code b} (leading 1s aside) is the trailing dimensions of {@code shape}: a bias row. */
    private static boolean isTrailing(int[] b, int[] shape) {
        int lead = 0;
        while (lead < b.length && b[lead] == 1) {
            lead++;
        }
        int len = b.length - lead;
        if (len == 0 || len > shape.length) {
            return false;
        }
        for (int i = 0; i < len; i++) {
            if (b[lead + i] != shape[shape.length - len + i]) {
                return false;
            }
        }
        return true;
    }

    /** One row of {@code x op y} where y repeats every row; a loop per op for the JIT to vectorise. */
    private static void rowB(Op op, float[] x, float[] y, float[] r, int row) {
        int len = y.length;
        switch (op) {
            case ADD -> {
                for (int j = 0; j < len; j++) {
                    r[row + j] = x[row + j] + y[j];
                }
            }
            case SUB -> {
                for (int j = 0; j < len; j++) {
                    r[row + j] = x[row + j] - y[j];
                }
            }
            case MUL -> {
                for (int j = 0; j < len; j++) {
                    r[row + j] = x[row + j] * y[j];
                }
            }
            case DIV -> {
                for (int j = 0; j < len; j++) {
                    r[row + j] = x[row + j] / y[j];
                }
            }
            default -> {
                for (int j = 0; j < len; j++) {
                    r[row + j] = floatOp(op, x[row + j], y[j]);
                }
            }
        }
    }

    private static float floatOp(Op op, float x, float y) {
        return switch (op) {
            case ADD -> x + y;
            case SUB -> x - y;
            case MUL -> x * y;
            case DIV -> x / y;
            case FMOD -> x % y;
            case MOD -> {
                float m = x % y;
                yield m != 0f && (m < 0f) != (y < 0f) ? m + y : m;
            }
            case PRELU -> x < 0f ? y * x : x;
            case MIN -> Math.min(x, y);
            case MAX -> Math.max(x, y);
            default -> throw new AssertionError(op);
        };
    }

    private static long longOp(Op op, long x, long y, boolean unsigned64) {
        return switch (op) {
            case ADD -> x + y;
            case SUB -> x - y;
            case MUL -> x * y;
            case DIV -> unsigned64 ? Long.divideUnsigned(x, y) : x / y;
            case FMOD -> x % y;
            case MOD -> unsigned64 ? Long.remainderUnsigned(x, y) : Math.floorMod(x, y);
            case PRELU -> x < 0 ? y * x : x;
            case MIN -> unsigned64 ? (Long.compareUnsigned(x, y) <= 0 ? x : y) : Math.min(x, y);
            case MAX -> unsigned64 ? (Long.compareUnsigned(x, y) >= 0 ? x : y) : Math.max(x, y);
            case EQ -> x == y ? 1 : 0;
            case GT -> (unsigned64 ? Long.compareUnsigned(x, y) : Long.compare(x, y)) > 0 ? 1 : 0;
            case LT -> (unsigned64 ? Long.compareUnsigned(x, y) : Long.compare(x, y)) < 0 ? 1 : 0;
            case GE -> (unsigned64 ? Long.compareUnsigned(x, y) : Long.compare(x, y)) >= 0 ? 1 : 0;
            case LE -> (unsigned64 ? Long.compareUnsigned(x, y) : Long.compare(x, y)) <= 0 ? 1 : 0;
            case AND -> x & y;
            case OR -> x | y;
            case XOR -> x ^ y;
            default -> throw new AssertionError(op);
        };
    }

    /** Pow: the result has the base's type; the exponent may be of another type (opset 12+). */
    private static Tensor pow(Tensor a, Tensor b, int[] shape, int n, int[] ia, int[] ib) {
        if (a.isFloating()) {
            float[] r = new float[n];
            for (int i = 0; i < n; i++) {
                r[i] = (float) Math.pow(a.getDouble(ia == null ? i : ia[i]), b.getDouble(ib == null ? i : ib[i]));
            }
            return Outputs.floats(a.dtype(), shape, r);
        }
        long[] r = new long[n];
        for (int i = 0; i < n; i++) {
            long base = a.getLong(ia == null ? i : ia[i]);
            if (b.isFloating()) {
                r[i] = (long) Math.pow((double) base, b.getDouble(ib == null ? i : ib[i]));
            } else {
                long e = b.getLong(ib == null ? i : ib[i]);
                long p = 1;
                for (long k = 0; k < e; k++) {
                    p *= base;
                }
                r[i] = e < 0 ? (long) Math.pow((double) base, (double) e) : p;
            }
        }
        return Outputs.longs(a.dtype(), shape, r);
    }
}
