package dev.layerprobe.host.input;

import dev.layerprobe.core.tensor.Tensor;
import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;

/**
 * Turns an image file (PNG, JPEG, BMP, whatever {@code javax.imageio} reads) into a float NCHW
 * tensor of shape {@code [1, 3, H, W]} following an {@link InputSpec}.
 *
 * <p>Colour: grey images are replicated to three channels from their raw samples (not through
 * Java's linear-grey colour space, which would brighten them; PIL and OpenCV do the same); alpha
 * is dropped. Resizing is bilinear with half-pixel centres and no antialiasing, the rule of
 * OpenCV's {@code INTER_LINEAR} and ONNX Resize {@code half_pixel}: source coordinate
 * {@code (d + 0.5) * in / out - 0.5}, clamped at the edges. It interpolates in float on the
 * 0..255 values; OpenCV's uint8 path uses fixed-point weights and rounds to integers, so values can
 * differ from it by up to one grey level. Stateless and thread-safe.
 */
public final class ImageLoader {
    private ImageLoader() {}

    /**
     * Loads {@code file} as a {@code [1, 3, height, width]} float tensor.
     *
     * @param height target height; {@code <= 0} keeps the image's own
     * @param width target width; {@code <= 0} keeps the image's own
     */
    public static Tensor load(Path file, int height, int width, InputSpec spec) throws InputException {
        return toTensor(read(file), height, width, spec);
    }

    /** Reads an image file, with one-line errors naming the file. */
    public static BufferedImage read(Path file) throws InputException {
        if (!Files.isRegularFile(file)) {
            throw new InputException("input image not found: " + file);
        }
        BufferedImage img;
        try {
            img = ImageIO.read(file.toFile());
        } catch (IOException e) {
            throw new InputException("cannot read image " + file + ": " + e.getMessage(), e);
        }
        if (img == null) {
            throw new InputException(
                    "cannot read image " + file + ": not a format javax.imageio can decode " + "(PNG, JPEG, BMP, GIF)");
        }
        return img;
    }

    /** Converts a decoded image; see the class comment for the exact steps. */
    public static Tensor toTensor(BufferedImage img, int height, int width, InputSpec spec) throws InputException {
        spec.checkChannels(3);
        int h0 = img.getHeight();
        int w0 = img.getWidth();
        int h = height > 0 ? height : h0;
        int w = width > 0 ? width : w0;
        float[][] rgb = rgbPlanes(img);
        float[] out = new float[3 * h * w];
        for (int c = 0; c < 3; c++) {
            // The model's channel c reads image channel 2-c when it wants BGR.
            float[] plane = resize(rgb[spec.rgb2bgr() ? 2 - c : c], h0, w0, h, w);
            float mean = spec.mean(c);
            float std = spec.std(c);
            float scale = spec.scale();
            int base = c * h * w;
            for (int i = 0; i < plane.length; i++) {
                out[base + i] = (plane[i] * scale - mean) / std;
            }
        }
        return Tensor.ofFloats(new int[] {1, 3, h, w}, out);
    }

    /** Three planes of 0..255 values, R, G, B, each in row-major order. */
    static float[][] rgbPlanes(BufferedImage img) {
        int h = img.getHeight();
        int w = img.getWidth();
        float[][] p = new float[3][h * w];
        Raster r = img.getRaster();
        int bands = r.getNumBands();
        boolean grey8 = (bands == 1 || bands == 2)
                && r.getSampleModel().getSampleSize(0) == 8
                && img.getColorModel().getColorSpace().getType() == java.awt.color.ColorSpace.TYPE_GRAY;
        if (grey8) {
            int[] row = new int[w];
            for (int y = 0; y < h; y++) {
                r.getSamples(0, y, w, 1, 0, row);
                for (int x = 0; x < w; x++) {
                    float v = row[x];
                    p[0][y * w + x] = v;
                    p[1][y * w + x] = v;
                    p[2][y * w + x] = v;
                }
            }
            return p;
        }
        int[] argb = img.getRGB(0, 0, w, h, null, 0, w);
        for (int i = 0; i < argb.length; i++) {
            p[0][i] = (argb[i] >>> 16) & 0xFF;
            p[1][i] = (argb[i] >>> 8) & 0xFF;
            p[2][i] = argb[i] & 0xFF;
        }
        return p;
    }

    /** Bilinear, half-pixel centres, edge clamp, no antialias; returns the input when sizes match. */
    static float[] resize(float[] src, int h0, int w0, int h, int w) {
        if (h == h0 && w == w0) {
            return src;
        }
        int[] y0 = new int[h];
        int[] y1 = new int[h];
        float[] fy = new float[h];
        taps(h0, h, y0, y1, fy);
        int[] x0 = new int[w];
        int[] x1 = new int[w];
        float[] fx = new float[w];
        taps(w0, w, x0, x1, fx);
        float[] out = new float[h * w];
        for (int y = 0; y < h; y++) {
            int r0 = y0[y] * w0;
            int r1 = y1[y] * w0;
            float wy = fy[y];
            for (int x = 0; x < w; x++) {
                float top = src[r0 + x0[x]] * (1 - fx[x]) + src[r0 + x1[x]] * fx[x];
                float bottom = src[r1 + x0[x]] * (1 - fx[x]) + src[r1 + x1[x]] * fx[x];
                out[y * w + x] = top * (1 - wy) + bottom * wy;
            }
        }
        return out;
    }

    private static void taps(int in, int out, int[] i0, int[] i1, float[] frac) {
        double scale = (double) in / out;
        for (int d = 0; d < out; d++) {
            double s = (d + 0.5) * scale - 0.5;
            if (s < 0) {
                s = 0;
            }
            int lo = (int) Math.floor(s);
            if (lo >= in - 1) {
                i0[d] = in - 1;
                i1[d] = in - 1;
                frac[d] = 0f;
            } else {
                i0[d] = lo;
                i1[d] = lo + 1;
                frac[d] = (float) (s - lo);
            }
        }
    }
}
