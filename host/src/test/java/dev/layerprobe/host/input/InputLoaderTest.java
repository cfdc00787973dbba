package dev.layerprobe.host.input;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.dump.npy.Npy;
import dev.layerprobe.onnx.Onnx.TensorProto;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InputLoaderTest {
    @TempDir
    Path dir;

    @Test
    void npyMustMatchTheModelShape() throws Exception {
        Path f = dir.resolve("x.npy");
        Npy.write(f, new int[] {1, 3, 2, 2}, new float[12]);
        assertArrayEquals(
                new int[] {1, 3, 2, 2},
                InputLoader.load(f, new int[] {1, 3, 2, 2}, InputSpec.DEFAULT).shape());
        assertArrayEquals(
                new int[] {1, 3, 2, 2},
                InputLoader.load(f, new int[] {-1, 3, 2, 2}, InputSpec.DEFAULT).shape());
        InputException e = assertThrows(
                InputException.class, () -> InputLoader.load(f, new int[] {1, 3, 4, 4}, InputSpec.DEFAULT));
        assertEquals(f + " has shape [1, 3, 2, 2], the model input has shape [1, 3, 4, 4]", e.getMessage());
    }

    @Test
    void imagesAreResizedToTheModel() throws Exception {
        Path f = dir.resolve("img.PNG");
        ImageIO.write(new BufferedImage(7, 5, BufferedImage.TYPE_INT_RGB), "png", f.toFile());
        Tensor t = InputLoader.load(f, new int[] {1, 3, 4, 6}, InputSpec.IMAGENET);
        assertArrayEquals(new int[] {1, 3, 4, 6}, t.shape());
        assertEquals(-0.485f / 0.229f, t.floats()[0], 1e-6f);
    }

    @Test
    void readsOnnxTensorProtos() throws Exception {
        Path f = dir.resolve("input_0.pb");
        Files.write(
                f,
                TensorProto.newBuilder()
                        .setDataType(TensorProto.DataType.FLOAT_VALUE)
                        .addDims(2)
                        .addFloatData(1f)
                        .addFloatData(2f)
                        .build()
                        .toByteArray());
        assertArrayEquals(
                new float[] {1f, 2f},
                InputLoader.load(f, new int[] {2}, InputSpec.DEFAULT).floats());
    }

    @Test
    void errorsNameTheFile() {
        Path missing = dir.resolve("nope.npy");
        InputException e =
                assertThrows(InputException.class, () -> InputLoader.load(missing, new int[] {1}, InputSpec.DEFAULT));
        assertEquals("input file not found: " + missing, e.getMessage());
        Path txt = dir.resolve("x.txt");
        e = assertThrows(InputException.class, () -> {
            Files.writeString(txt, "1 2 3");
            InputLoader.load(txt, new int[] {3}, InputSpec.DEFAULT);
        });
        assertEquals(
                "unsupported input file type '.txt' for " + txt
                        + ", expected one of [.npy, .pb, .png, .jpg, .jpeg, .bmp, .gif]",
                e.getMessage());
    }

    @Test
    void meanStdMustFitTheChannels() {
        InputSpec two = new InputSpec(new float[] {0.1f, 0.2f}, new float[] {1f}, false, 1f);
        InputException e = assertThrows(
                InputException.class,
                () -> ImageLoader.toTensor(new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB), 1, 1, two));
        assertEquals("mean [0.1, 0.2] / std [1.0] do not fit a 3-channel input (give 1 or 3 values)", e.getMessage());
    }
}
