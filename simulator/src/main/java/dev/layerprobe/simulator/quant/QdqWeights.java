package dev.layerprobe.simulator.quant;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.QTensor;
import dev.layerprobe.core.tensor.QuantParams;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Node;
import java.util.ArrayList;
import java.util.List;

/**
 * The constants of {@link QdqWriter}'s integer layers: Conv/Gemm weights and biases as integer
 * initializers behind DequantizeLinear, quantized for each consumer and shared between consumers
 * whose parameters are equal. The conventions (symmetric weights per output channel, int32 biases
 * at {@code s_x * s_w[c]}, the exact form of biases beyond int32) are stated in QdqWriter's class
 * comment. Stateless; the state of a write is its {@link QdqOutput}.
 */
final class QdqWeights {
    /** A quantized copy of a constant already written: its parameters and the DequantizeLinear output. */
    record Dequantized(QuantParams params, String output) {}

    private QdqWeights() {}

    /**
     * Points a Conv/Gemm's weight (and bias) at integer codes behind DequantizeLinear, quantized for
     * this consumer: the weight symmetric over itself, the bias at {@code s_x * s_w[c]}, which
     * differs between consumers of one bias whose input scales differ.
     */
    static void quantize(Node n, List<String> inputs, QdqOutput out, QuantParams xq, DType type, boolean perChannel) {
        String wName = n.input(1);
        Tensor w = out.constant(wName);
        if (w == null || !w.isFloating() || xq == null) {
            return;
        }
        int axis = 0;
        if (n.opType().equals("Gemm")) {
            if (w.rank() != 2) {
                return;
            }
            axis = n.attrInt("transB", 0) != 0 ? 0 : 1;
        }
        QuantParams wq = weightParams(w, axis, type, perChannel);
        inputs.set(1, dequantized(out, wName, w, wq));
        if (n.hasInput(2) && out.constant(n.input(2)) != null) {
            Tensor b = out.constant(n.input(2)).toFloat();
            int channels = w.dim(axis);
            if (b.size() != channels) {
                return;
            }
            float[] s = new float[channels];
            boolean fits = true;
            for (int c = 0; c < channels && fits; c++) {
                s[c] = xq.scale(0) * wq.scale(wq.isPerTensor() ? 0 : c);
                double code = Math.rint(b.floats()[c] / (double) s[c]);
                fits = Math.abs(code) <= Integer.MAX_VALUE && s[c] > 0;
            }
            QuantParams bq;
            if (fits) {
                bq = wq.isPerTensor()
                        ? QuantParams.perTensor(DType.INT32, s[0], 0)
                        : new QuantParams(DType.INT32, s, new long[channels], 0);
            } else if (type == DType.INT16) {
                bq = exactBias(b); // see QdqWriter's class comment
            } else {
                return; // the bias stays float (see QdqWriter's class comment)
            }
            inputs.set(2, dequantized(out, n.input(2), b, bq));
        }
    }

    /**
     * INT32 parameters that hold a float32 bias exactly: per channel, the power of two of the last
     * bit of its 24-bit significand, so each code is that significand.
     */
    private static QuantParams exactBias(Tensor b) {
        float[] v = b.floats();
        float[] s = new float[v.length];
        for (int c = 0; c < v.length; c++) {
            s[c] = v[c] == 0 ? 1f : Math.scalb(1f, Math.max(Math.getExponent(v[c]), Float.MIN_EXPONENT) - 23);
        }
        return s.length == 1
                ? QuantParams.perTensor(DType.INT32, s[0], 0)
                : new QuantParams(DType.INT32, s, new long[s.length], 0);
    }

    /**
     * The output of a DequantizeLinear of the constant's codes under these parameters: the one
     * written already for an earlier consumer with the same parameters, else a new one.
     */
    private static String dequantized(QdqOutput out, String constant, Tensor value, QuantParams q) {
        List<Dequantized> written = out.dequantized.computeIfAbsent(constant, k -> new ArrayList<>());
        for (Dequantized d : written) {
            if (d.params().sameMapping(q)) {
                return d.output();
            }
        }
        String codes = out.tensor(constant + "_quantized");
        String result = out.tensor(constant + "_DequantizeLinear_Output");
        out.constants.put(codes, codesTensor(codesOf(value, q), q.type()));
        out.addDq(codes, result, q);
        written.add(new Dequantized(q, result));
        return result;
    }

    /**
     * Codes of a constant: per channel along q's axis. INT32 (bias) codes are rounded half to even
     * in double, {@code b / (s_x * s_w)}, as quantizers compute them; the caller has checked they fit.
     */
    private static QTensor codesOf(Tensor value, QuantParams q) {
        if (q.type() != DType.INT32) {
            return QTensor.quantize(value.toFloat(), q);
        }
        float[] b = value.toFloat().floats();
        int[] codes = new int[b.length];
        for (int c = 0; c < b.length; c++) {
            codes[c] = (int) Math.rint(b[c] / (double) q.scale(c));
        }
        return new QTensor(value.shape(), codes, q);
    }

    /** Symmetric weight parameters, per channel along axis or per tensor. */
    static QuantParams weightParams(Tensor w, int axis, DType type, boolean perChannel) {
        float[] x = w.toFloat().floats();
        long qmax = type.max();
        int[] shape = w.shape();
        int channels = perChannel ? shape[axis] : 1;
        int inner = 1;
        for (int i = axis + 1; i < shape.length; i++) {
            inner *= shape[i];
        }
        float[] absmax = new float[channels];
        for (int i = 0; i < x.length; i++) {
            int c = perChannel ? (i / inner) % shape[axis] : 0;
            absmax[c] = Math.max(absmax[c], Math.abs(x[i]));
        }
        float[] s = new float[channels];
        for (int c = 0; c < channels; c++) {
            s[c] = absmax[c] > 0 ? absmax[c] / qmax : 1f;
        }
        return new QuantParams(type, s, new long[channels], perChannel ? axis : 0);
    }

    private static Tensor codesTensor(QTensor q, DType type) {
        long[] l = new long[q.size()];
        for (int i = 0; i < l.length; i++) {
            l[i] = q.codes()[i];
        }
        return Tensor.ofLongs(type, q.shape(), l);
    }
}
