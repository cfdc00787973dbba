package dev.layerprobe.simulator.kernels;

import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Node;
import java.util.Arrays;

/**
 * ONNX RoiAlign (Mask R-CNN style detectors): X [N, C, H, W], rois [R, 4] as (x1, y1, x2, y2) in
 * input coordinates times {@code spatial_scale}, batch_indices [R]; output [R, C, output_height,
 * output_width]. Each bin averages (mode avg) or takes the maximum (mode max) of a grid of
 * bilinear samples, {@code sampling_ratio} per side or {@code ceil(roi size / bins)} when 0.
 * {@code coordinate_transformation_mode} half_pixel (opset 16 default) shifts coordinates by -0.5;
 * output_half_pixel (the opset-10 behaviour) does not and makes rois at least 1x1. Samples more
 * than one pixel outside the input contribute 0. Max mode takes, per sample, the largest of the
 * four weighted corner values, as ONNX Runtime does. Sums in double. Thread-safe.
 */
public final class RoiAlignKernel implements FloatKernel {
    private final boolean max;
    private final int outH;
    private final int outW;
    private final int samplingRatio;
    private final float spatialScale;
    private final boolean halfPixel;

    private RoiAlignKernel(Node node, int opset) {
        max = KernelArgs.oneOf(node, "mode", "avg", "avg", "max").equals("max");
        outH = Math.toIntExact(node.attrInt("output_height", 1));
        outW = Math.toIntExact(node.attrInt("output_width", 1));
        samplingRatio = Math.toIntExact(node.attrInt("sampling_ratio", 0));
        spatialScale = node.attrFloat("spatial_scale", 1f);
        halfPixel = KernelArgs.oneOf(
                        node,
                        "coordinate_transformation_mode",
                        opset >= 16 ? "half_pixel" : "output_half_pixel",
                        "half_pixel",
                        "output_half_pixel")
                .equals("half_pixel");
        if (outH < 1 || outW < 1 || samplingRatio < 0) {
            throw new IllegalArgumentException("output_height=" + outH + ", output_width=" + outW + ", sampling_ratio="
                    + samplingRatio + " must be positive (sampling_ratio may be 0)");
        }
    }

    static FloatKernel create(Node node, int opset) {
        return new RoiAlignKernel(node, opset);
    }

    @Override
    public Tensor[] run(Tensor[] inputs) {
        Tensor x = KernelArgs.required(inputs, 0, "X");
        Tensor rois = KernelArgs.required(inputs, 1, "rois").toFloat();
        long[] batch = KernelArgs.longs(KernelArgs.required(inputs, 2, "batch_indices"), "batch_indices");
        KernelArgs.requireFloating(x, "X");
        if (x.rank() != 4 || rois.rank() != 2 || rois.dim(1) != 4 || batch.length != rois.dim(0)) {
            throw new IllegalArgumentException(
                    "X " + Arrays.toString(x.shape()) + ", rois " + Arrays.toString(rois.shape())
                            + " and batch_indices of " + batch.length + " must be [N, C, H, W], [R, 4] and [R]");
        }
        int c = x.dim(1);
        int h = x.dim(2);
        int w = x.dim(3);
        int r = rois.dim(0);
        float[] xs = x.floats();
        float[] rs = rois.floats();
        float[] y = new float[r * c * outH * outW];
        double offset = halfPixel ? 0.5 : 0;
        for (int k = 0; k < r; k++) {
            if (batch[k] < 0 || batch[k] >= x.dim(0)) {
                throw new IndexOutOfBoundsException(
                        "batch index " + batch[k] + " of roi " + k + " out of range for N=" + x.dim(0));
            }
            double x1 = rs[k * 4] * spatialScale - offset;
            double y1 = rs[k * 4 + 1] * spatialScale - offset;
            double rw = rs[k * 4 + 2] * spatialScale - offset - x1;
            double rh = rs[k * 4 + 3] * spatialScale - offset - y1;
            if (!halfPixel) {
                rw = Math.max(rw, 1.0);
                rh = Math.max(rh, 1.0);
            }
            double binH = rh / outH;
            double binW = rw / outW;
            int gridH = samplingRatio > 0 ? samplingRatio : (int) Math.ceil(rh / outH);
            int gridW = samplingRatio > 0 ? samplingRatio : (int) Math.ceil(rw / outW);
            int count = Math.max(gridH * gridW, 1);
            for (int ch = 0; ch < c; ch++) {
                int base = (int) ((batch[k] * c + ch) * h * w);
                for (int ph = 0; ph < outH; ph++) {
                    for (int pw = 0; pw < outW; pw++) {
                        double acc = max ? Double.NEGATIVE_INFINITY : 0;
                        boolean any = false;
                        for (int iy = 0; iy < gridH; iy++) {
                            double yy = y1 + ph * binH + (iy + 0.5) * binH / gridH;
                            for (int ix = 0; ix < gridW; ix++) {
                                double xx = x1 + pw * binW + (ix + 0.5) * binW / gridW;
                                double v = sample(xs, base, h, w, yy, xx);
                                any = true;
                                acc = max ? Math.max(acc, v) : acc + v;
                            }
                        }
                        y[((k * c + ch) * outH + ph) * outW + pw] = (float) (max ? (any ? acc : 0) : acc / count);
                    }
                }
            }
        }
        return new Tensor[] {Outputs.floats(x.dtype(), new int[] {r, c, outH, outW}, y)};
    }

    /** Bilinear sample (or, in max mode, the largest weighted corner) at (yy, xx); 0 far outside. */
    private double sample(float[] xs, int base, int h, int w, double yy, double xx) {
        if (yy < -1.0 || yy > h || xx < -1.0 || xx > w) {
            return 0;
        }
        yy = Math.max(yy, 0);
        xx = Math.max(xx, 0);
        int yl = (int) yy;
        int xl = (int) xx;
        int yh;
        int xh;
        if (yl >= h - 1) {
            yh = yl = h - 1;
            yy = yl;
        } else {
            yh = yl + 1;
        }
        if (xl >= w - 1) {
            xh = xl = w - 1;
            xx = xl;
        } else {
            xh = xl + 1;
        }
        double ly = yy - yl;
        double lx = xx - xl;
        double hy = 1 - ly;
        double hx = 1 - lx;
        double v1 = hy * hx * xs[base + yl * w + xl];
        double v2 = hy * lx * xs[base + yl * w + xh];
        double v3 = ly * hx * xs[base + yh * w + xl];
        double v4 = ly * lx * xs[base + yh * w + xh];
        return max ? Math.max(Math.max(v1, v2), Math.max(v3, v4)) : v1 + v2 + v3 + v4;
    }
}
