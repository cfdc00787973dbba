package dev.layerprobe.host.input;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.core.tensor.Tensor;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageLoaderTest {
    private static final float EPS = 1e-6f;

    @TempDir
    Path dir;

    private Path png(BufferedImage img, String name) throws IOException {
        Path f = dir.resolve(name);
        ImageIO.write(img, "png", f.toFile());
        return f;
    }

    @Test
    void meanStdAndBgrAreAppliedPerModelChannel() throws Exception {
        BufferedImage img = new BufferedImage(2, 1, BufferedImage.TYPE_INT_RGB);
        img.setRGB(0, 0, 0xFF0033); // R=255, G=0, B=51
        img.setRGB(1, 0, 0x000000);
        InputSpec spec = new InputSpec(new float[] {0.1f, 0.2f, 0.3f}, new float[] {0.5f, 0.5f, 0.5f}, true, 1f / 255f);
        Tensor t = ImageLoader.load(png(img, "a.png"), 1, 2, spec);
        assertArrayEquals(new int[] {1, 3, 1, 2}, t.shape());
        float[] v = t.floats();
        // NCHW: channel 0 is blue (0.2), 1 green (0.0), 2 red (1.0), each (x - mean[c]) / std[c].
        assertEquals((0.2f - 0.1f) / 0.5f, v[0], EPS);
        assertEquals((0f - 0.2f) / 0.5f, v[2], EPS);
        assertEquals((1f - 0.3f) / 0.5f, v[4], EPS);
        assertEquals((0f - 0.3f) / 0.5f, v[5], EPS);
    }

    @Test
    void bilinearResizeUsesHalfPixelCentres() throws Exception {
        BufferedImage img = new BufferedImage(2, 1, BufferedImage.TYPE_INT_RGB);
        img.setRGB(0, 0, 0x000000);
        img.setRGB(1, 0, 0xFFFFFF);
        InputSpec raw = InputSpec.DEFAULT.withScale(1f);
        Tensor t = ImageLoader.load(png(img, "b.png"), 1, 4, raw);
        // cv2.resize(np.float32([[0, 255]]), (4, 1)) == [0, 63.75, 191.25, 255]
        float[] red = java.util.Arrays.copyOf(t.floats(), 4);
        assertArrayEquals(new float[] {0f, 63.75f, 191.25f, 255f}, red, EPS);
    }

    @Test
    void downscaleAveragesNeighbours() {
        float[] src = {0, 10, 20, 30};
        // 4 -> 2: source coordinates 0.5 and 2.5, midway between pixels.
        assertArrayEquals(new float[] {5, 25}, ImageLoader.resize(src, 1, 4, 1, 2), EPS);
    }

    @Test
    void greyImagesKeepTheirRawLevels() throws Exception {
        BufferedImage img = new BufferedImage(1, 1, BufferedImage.TYPE_BYTE_GRAY);
        img.getRaster().setSample(0, 0, 0, 100);
        Tensor t = ImageLoader.load(png(img, "g.png"), 0, 0, InputSpec.DEFAULT.withScale(1f));
        assertArrayEquals(new float[] {100, 100, 100}, t.floats(), EPS);
    }

    @Test
    void notAnImageIsAOneLineError() throws IOException {
        Path f = dir.resolve("fake.png");
        Files.writeString(f, "hello");
        InputException e = assertThrows(InputException.class, () -> ImageLoader.load(f, 2, 2, InputSpec.DEFAULT));
        assertTrue(e.getMessage().contains("fake.png"), e.getMessage());
        assertEquals(1, e.getMessage().lines().count());
    }
}
