package dev.layerprobe.host;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;

/**
 * Whether ONNX Runtime's integer kernels are an exact reference on this CPU, for the tests that
 * require the simulator to match them code for code.
 *
 * <p>On x86-64 without VNNI, MLAS computes u8×s8 products with {@code vpmaddubsw}, which adds each
 * pair of products into a saturating 16-bit lane before widening: with full-range int8 weights
 * (which LayerProbe's QDQ writer produces, as do most quantizers without {@code reduce_range}) pair
 * sums above 32767 are clipped, so ORT's codes there are not the mathematically exact ones the
 * simulator computes (measured: 52% of a 1x1 Conv's codes equal, up to 39 LSB apart). With
 * AVX512-VNNI, AVX-VNNI or AMX the products are summed in 32 bits, and on ARM with {@code sdot};
 * there ORT is exact.
 */
public final class OrtInt8 {
    private static final Pattern EXACT_X86 = Pattern.compile("\\b(avx512_vnni|avx_vnni|amx_int8)\\b");

    private OrtInt8() {}

    /** Skips the calling test, naming the reason, where ORT's int8 kernels saturate. */
    public static void assumeExactKernels() {
        Assumptions.assumeTrue(
                exactKernels(),
                "skipped: this x86-64 CPU has no AVX-VNNI/AVX512-VNNI/AMX, where"
                        + " ONNX Runtime's u8s8 kernels saturate 16-bit pair sums and are no exact reference for int8 codes");
    }

    static boolean exactKernels() {
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        if (!arch.equals("amd64") && !arch.equals("x86_64")) {
            return true;
        }
        Path cpuinfo = Path.of("/proc/cpuinfo");
        if (!Files.isReadable(cpuinfo)) {
            return true;
        }
        try {
            return EXACT_X86.matcher(Files.readString(cpuinfo)).find();
        } catch (IOException e) {
            return true;
        }
    }
}
