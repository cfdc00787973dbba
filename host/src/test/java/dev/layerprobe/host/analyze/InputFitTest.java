package dev.layerprobe.host.analyze;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.layerprobe.core.tensor.Channels;
import dev.layerprobe.core.tensor.DType;
import dev.layerprobe.core.tensor.QuantParams;
import dev.layerprobe.core.tensor.Tensor;
import dev.layerprobe.host.SharedData;
import dev.layerprobe.host.input.ImageLoader;
import dev.layerprobe.host.input.InputSpec;
import dev.layerprobe.host.report.Report;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The input evidence of the model verdict on the shared photos: no alarm for any photo preprocessed
 * as the calibration set was, and the mix-ups users make named.
 */
class InputFitTest {
    private static final InputSpec SPEC = InputSpec.IMAGENET;

    private static InputFit.Reference calib224() throws Exception {
        return calib224(64);
    }

    private static InputFit.Reference calib224(int first) throws Exception {
        Path dir = SharedData.require("images/calib224");
        InputFit.Reference ref = new InputFit.Reference();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.sorted().limit(first).toList()) {
                ref.add(ImageLoader.load(p, 224, 224, SPEC));
            }
        }
        return ref;
    }

    private static List<Path> photos() throws Exception {
        try (Stream<Path> s = Files.list(SharedData.require("images/photos"))) {
            return s.sorted().toList();
        }
    }

    /** Image mean/std given with a tensor input of other channels (an mfcc .npy): no mean/std mix-up. */
    @Test
    void meanStdThatDoNotFitTheChannelsAreNotTried() {
        InputSpec rgb = SPEC.withMeanStd(new float[] {0.1f, 0.2f, 0.3f}, new float[] {1f, 2f, 3f});
        List<InputFit.MixUp> mixUps = InputFit.mixUps(rgb, 49);
        assertTrue(mixUps.stream().noneMatch(InputFit.MixUp::normalize), mixUps.toString());
        assertTrue(InputFit.mixUps(rgb, 3).stream().anyMatch(InputFit.MixUp::normalize));
        InputFit.Reference ref = new InputFit.Reference();
        float[] v = new float[49 * 40];
        for (int i = 0; i < v.length; i++) {
            v[i] = (i % 17) / 17f;
        }
        ref.add(Tensor.ofFloats(new int[] {1, 49, 40}, v));
        float[] far = v.clone();
        for (int i = 0; i < far.length; i++) {
            far[i] *= 255;
        }
        Report.InputEvidence e = InputFit.check("x.npy", Tensor.ofFloats(new int[] {1, 49, 40}, far), ref, null, rgb);
        assertNotNull(e, "values 255 times too large must not fit");
    }

    @Test
    void everySharedPhotoPreprocessedAsTheCalibrationSetFits() throws Exception {
        InputFit.Reference ref = calib224();
        for (Path p : photos()) {
            Tensor t = ImageLoader.load(p, 224, 224, SPEC);
            Report.InputEvidence e = InputFit.check(p.getFileName().toString(), t, ref, null, SPEC);
            System.out.println(p.getFileName() + ": " + (e == null ? "fits" : e.evidence()));
            assertNull(e, p + " raised a false alarm");
        }
    }

    /** As analyze's tests calibrate: on the first few crops only. */
    @Test
    void smallCalibrationSetsRaiseNoAlarmEither() throws Exception {
        for (int n : new int[] {4, 8, 16}) {
            InputFit.Reference ref = calib224(n);
            for (Path p : photos()) {
                Report.InputEvidence e = InputFit.check(
                        p.getFileName().toString(), ImageLoader.load(p, 224, 224, SPEC), ref, null, SPEC);
                assertNull(e, n + " calibration images, " + p.getFileName() + ": " + (e == null ? "" : e.evidence()));
            }
        }
    }

    @Test
    void channelsReversedAfterMeanStdAreNamed() throws Exception {
        InputFit.Reference ref = calib224();
        for (Path p : photos()) {
            Tensor t = Channels.reverse(ImageLoader.load(p, 224, 224, SPEC));
            Report.InputEvidence e = InputFit.check(p.getFileName().toString(), t, ref, null, SPEC);
            System.out.println(
                    p.getFileName() + " reversed: " + (e == null ? "fits" : e.likely() + " | " + e.evidence()));
        }
        Path astronaut = SharedData.require("images/photos/astronaut.png");
        int named = 0;
        for (Path p : photos()) {
            Tensor t = Channels.reverse(ImageLoader.load(p, 224, 224, SPEC));
            Report.InputEvidence e = InputFit.check(p.getFileName().toString(), t, ref, null, SPEC);
            if (e != null) {
                assertEquals("channels reversed (RGB/BGR)", e.likely(), p + ": " + e.evidence());
                named++;
            }
        }
        // Measured: all but chelsea.png (a cat in browns and greys, whose reversed channels keep within every range).
        assertTrue(named >= 6, named + " of 7 photos");
        Tensor t = Channels.reverse(ImageLoader.load(astronaut, 224, 224, SPEC));
        Report.InputEvidence e = InputFit.check("astronaut_bgr.npy", t, ref, null, SPEC);
        assertNotNull(e);
        assertEquals("channels reversed (RGB/BGR)", e.likely(), e.evidence());
    }

    @Test
    void otherMixUpsAreNamed() throws Exception {
        InputFit.Reference ref = calib224();
        Path astronaut = SharedData.require("images/photos/astronaut.png");
        for (Path p : photos()) {
            for (InputSpec wrong : List.of(
                    SPEC.withMeanStd(new float[] {0f}, new float[] {1f}),
                    InputSpec.DEFAULT.withScale(1f),
                    SPEC.withRgb2bgr(true))) {
                Tensor t = ImageLoader.load(p, 224, 224, wrong);
                Report.InputEvidence e = InputFit.check(p.getFileName().toString(), t, ref, null, SPEC);
                System.out.println(p.getFileName() + " " + wrong + ": "
                        + (e == null ? "fits" : e.likely() + " | " + e.evidence()));
            }
        }
        for (Path p : photos()) {
            Report.InputEvidence e = InputFit.check(
                    "a", ImageLoader.load(p, 224, 224, InputSpec.DEFAULT.withScale(1f)), ref, null, SPEC);
            assertNotNull(e, p.toString());
            // page.png (white paper) scaled by 1/255 lies within every range too, and "values 255 times too
            // large" is the simpler of the two: either names the 0..255 pixels.
            assertTrue(
                    e.likely().contains("0..255 pixels") && !e.likely().startsWith("channels reversed"),
                    p + ": " + e.likely());
        }
        Report.InputEvidence noNorm = InputFit.check(
                "a",
                ImageLoader.load(astronaut, 224, 224, SPEC.withMeanStd(new float[] {0f}, new float[] {1f})),
                ref,
                null,
                SPEC);
        assertNotNull(noNorm);
        assertEquals("mean/std left out", noNorm.likely(), noNorm.evidence());
        Report.InputEvidence raw = InputFit.check(
                "a", ImageLoader.load(astronaut, 224, 224, InputSpec.DEFAULT.withScale(1f)), ref, null, SPEC);
        assertNotNull(raw);
        assertTrue(raw.likely().startsWith("raw 0..255 pixels"), raw.likely());
    }

    @Test
    void withoutCalibrationDataClippingAtTheInputsQuantizationCounts() throws Exception {
        Path astronaut = SharedData.require("images/photos/astronaut.png");
        // The int8 range calibrated on ImageNet-normalised images: about [-2.12, 2.64].
        QuantParams q = QuantParams.perTensor(
                DType.INT8, (2.64f + 2.12f) / 255f, -128 + Math.round(2.12f / ((2.64f + 2.12f) / 255f)));
        assertNull(InputFit.check("a", ImageLoader.load(astronaut, 224, 224, SPEC), null, q, SPEC));
        Report.InputEvidence e = InputFit.check(
                "a", ImageLoader.load(astronaut, 224, 224, InputSpec.DEFAULT.withScale(1f)), null, q, SPEC);
        assertNotNull(e);
        assertTrue(e.outsideRange() > 0.5, e.evidence());
        assertNull(e.distance());
    }
}
