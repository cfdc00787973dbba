package dev.layerprobe.simulator.kernels;

import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.simulator.graph.Node;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * ONNX NonMaxSuppression, the CPU step of detectors: boxes [B, N, 4], scores [B, C, N], optional
 * max_output_boxes_per_class (default 0: select nothing), iou_threshold (default 0) and
 * score_threshold (default: none). Boxes are {@code [y1, x1, y2, x2]} with either corner first
 * ({@code center_point_box=0}) or {@code [x_center, y_center, width, height]} (=1).
 *
 * <p>Per batch and class, candidates scoring strictly above score_threshold are taken greedily in
 * descending score (equal scores: lower box index first, as ONNX Runtime does); a candidate is
 * dropped when its IoU with an already selected box exceeds iou_threshold. Output: INT64
 * {@code [selected, 3]} rows of (batch, class, box index), by batch, then class, then selection
 * order. IoU is computed in float32 like ONNX Runtime; a box of zero area never suppresses.
 */
public final class NonMaxSuppressionKernel implements FloatKernel {
    private final boolean centerPoint;

    private NonMaxSuppressionKernel(boolean centerPoint) {
        this.centerPoint = centerPoint;
    }

    static FloatKernel create(Node node, int opset) {
        return new NonMaxSuppressionKernel(KernelArgs.oneOf(node, "center_point_box", 0, 0, 1) == 1);
    }

    @Override
    public Tensor[] run(Tensor[] inputs) {
        Tensor boxes = KernelArgs.required(inputs, 0, "boxes");
        Tensor scores = KernelArgs.required(inputs, 1, "scores");
        Tensor maxT = KernelArgs.optional(inputs, 2);
        Tensor iouT = KernelArgs.optional(inputs, 3);
        Tensor scoreT = KernelArgs.optional(inputs, 4);
        KernelArgs.requireFloating(boxes, "boxes");
        KernelArgs.requireFloating(scores, "scores");
        if (boxes.rank() != 3
                || boxes.dim(2) != 4
                || scores.rank() != 3
                || scores.dim(0) != boxes.dim(0)
                || scores.dim(2) != boxes.dim(1)) {
            throw new IllegalArgumentException("boxes " + Arrays.toString(boxes.shape()) + " and scores "
                    + Arrays.toString(scores.shape()) + " must be [B, N, 4] and [B, C, N]");
        }
        long maxOut = maxT == null || maxT.size() == 0 ? 0 : maxT.getLong(0);
        float iouTh = iouT == null || iouT.size() == 0 ? 0f : (float) iouT.getDouble(0);
        boolean hasScoreTh = scoreT != null && scoreT.size() > 0;
        float scoreTh = hasScoreTh ? (float) scoreT.getDouble(0) : 0f;
        int nb = boxes.dim(0);
        int nc = scores.dim(1);
        int n = boxes.dim(1);
        float[] bx = boxes.floats();
        float[] sc = scores.floats();
        List<long[]> selected = new ArrayList<>();
        for (int b = 0; b < nb; b++) {
            float[][] corners = new float[n][];
            for (int i = 0; i < n; i++) {
                corners[i] = corners(bx, (b * n + i) * 4);
            }
            for (int c = 0; c < nc; c++) {
                int base = (b * nc + c) * n;
                List<Integer> cand = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    if (!hasScoreTh || sc[base + i] > scoreTh) {
                        cand.add(i);
                    }
                }
                cand.sort((p, q) -> {
                    int byScore = Float.compare(sc[base + q], sc[base + p]);
                    return byScore != 0 ? byScore : Integer.compare(p, q);
                });
                List<Integer> kept = new ArrayList<>();
                for (int i : cand) {
                    if (kept.size() >= maxOut) {
                        break;
                    }
                    boolean suppressed = false;
                    for (int j : kept) {
                        if (iou(corners[i], corners[j]) > iouTh) {
                            suppressed = true;
                            break;
                        }
                    }
                    if (!suppressed) {
                        kept.add(i);
                        selected.add(new long[] {b, c, i});
                    }
                }
            }
        }
        long[] out = new long[selected.size() * 3];
        for (int i = 0; i < selected.size(); i++) {
            System.arraycopy(selected.get(i), 0, out, i * 3, 3);
        }
        return new Tensor[] {Tensor.ofLongs(DType.INT64, new int[] {selected.size(), 3}, out)};
    }

    /** {y_min, x_min, y_max, x_max} of one box. */
    private float[] corners(float[] bx, int o) {
        if (centerPoint) {
            float xc = bx[o];
            float yc = bx[o + 1];
            float hw = bx[o + 2] / 2f;
            float hh = bx[o + 3] / 2f;
            return new float[] {yc - hh, xc - hw, yc + hh, xc + hw};
        }
        return new float[] {
            Math.min(bx[o], bx[o + 2]),
            Math.min(bx[o + 1], bx[o + 3]),
            Math.max(bx[o], bx[o + 2]),
            Math.max(bx[o + 1], bx[o + 3])
        };
    }

    private static float iou(float[] a, float[] b) {
        float areaA = (a[2] - a[0]) * (a[3] - a[1]);
        float areaB = (b[2] - b[0]) * (b[3] - b[1]);
        if (areaA <= 0f || areaB <= 0f) {
            return 0f;
        }
        float ih = Math.max(0f, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
        float iw = Math.max(0f, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
        float inter = ih * iw;
        return inter / (areaA + areaB - inter);
    }
}
