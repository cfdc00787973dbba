package dev.layerprobe.simulator.kernels.quantized;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** The Vector API form of the integer Conv's product gives the scalar loops' ints, bit for bit. */
class IntTilesTest {
    @Test
    void vectorFormIsLoadedUnderTheBuildsJvmOptions() {
        // Surefire passes --add-modules jdk.incubator.vector, as the launchers do.
        assertTrue(IntTiles.vector().isPresent(), "VectorIntTiles did not load: is src/main/vector compiled?");
        assertTrue(IntTiles.best() != IntTiles.scalar(), "the kernels run the scalar form");
    }

    @Test
    void vectorFormComputesTheScalarSums() {
        IntTiles vector = IntTiles.vector().orElseThrow();
        Random r = new Random(16);
        for (int trial = 0; trial < 300; trial++) {
            int count = 1 + r.nextInt(11);
            int depth = 1 + r.nextInt(40);
            int stride = depth + r.nextInt(5);
            int r0 = r.nextInt(4);
            int width = 1 + r.nextInt(150);
            int lo = r.nextInt(Math.min(width, 20));
            int hi = lo + r.nextInt(width - lo + 1);
            int aOff = r.nextInt(7);
            int acc0 = r.nextInt(3);
            boolean accumulate = r.nextBoolean();
            // Full-range values: int32 products and sums wrap the same way in both forms.
            int[] a = new int[aOff + count * stride];
            for (int i = 0; i < a.length; i++) {
                a[i] = trial % 3 == 0 ? r.nextInt() : r.nextInt(255) - 127;
            }
            int[][] rows = new int[r0 + depth][width];
            for (int[] row : rows) {
                for (int t = 0; t < width; t++) {
                    row[t] = trial % 3 == 0 ? r.nextInt() : r.nextInt(256) - 128;
                }
            }
            int[][] want = new int[acc0 + count][width];
            for (int[] row : want) {
                for (int t = 0; t < width; t++) {
                    row[t] = r.nextInt();
                }
            }
            int[][] got = new int[want.length][];
            for (int i = 0; i < want.length; i++) {
                got[i] = want[i].clone();
            }
            IntTiles.scalar().multiply(a, aOff, stride, count, rows, r0, depth, lo, hi, want, acc0, accumulate);
            vector.multiply(a, aOff, stride, count, rows, r0, depth, lo, hi, got, acc0, accumulate);
            for (int i = 0; i < want.length; i++) {
                assertArrayEquals(want[i], got[i], "trial " + trial + ", row " + i);
            }
        }
    }

    @Test
    void vectorCodeBoundIsTheScalarOne() {
        IntTiles vector = IntTiles.vector().orElseThrow();
        Random r = new Random(18);
        for (int trial = 0; trial < 400; trial++) {
            int[] codes = new int[r.nextInt(100)];
            for (int i = 0; i < codes.length; i++) {
                codes[i] = switch (trial % 4) {
                    case 0 -> r.nextInt(256) - 128;
                    case 1 -> r.nextInt(65536) - 32768;
                    case 2 -> r.nextInt();
                    default -> r.nextBoolean() ? Integer.MIN_VALUE : Integer.MAX_VALUE;
                };
            }
            // One extreme code anywhere (the vector steps or the scalar tail) must show.
            if (codes.length > 0 && trial % 5 == 0) {
                codes[r.nextInt(codes.length)] = -30000;
            }
            assertEquals(CodeRows.maxAbs(codes), vector.maxAbs(codes), "trial " + trial);
            assertEquals(CodeRows.maxAbs(codes), IntTiles.scalar().maxAbs(codes), "trial " + trial);
        }
    }

    @Test
    void vectorTapsComputeTheScalarSums() {
        IntTiles vector = IntTiles.vector().orElseThrow();
        Random r = new Random(17);
        for (int trial = 0; trial < 200; trial++) {
            int taps = trial % 3 == 1 ? 9 : 1 + r.nextInt(12); // 3x3 kernels take a path of their own
            int phases = 1 + r.nextInt(4);
            int len = r.nextInt(120);
            int[][] phase = new int[phases][len + 40];
            for (int[] p : phase) {
                for (int t = 0; t < p.length; t++) {
                    p[t] = trial % 3 == 0 ? r.nextInt() : r.nextInt(256) - 128;
                }
            }
            int[] tapPhase = new int[taps];
            int[] tapOffset = new int[taps];
            for (int k = 0; k < taps; k++) {
                tapPhase[k] = r.nextInt(phases);
                tapOffset[k] = r.nextInt(41);
            }
            int wOff = r.nextInt(5);
            int[] w = new int[wOff + taps];
            for (int k = 0; k < w.length; k++) {
                w[k] = trial % 3 == 0 ? r.nextInt() : r.nextInt(255) - 127;
            }
            int[] want = new int[len + 3];
            int[] got = new int[len + 3];
            IntTiles.scalar().taps(w, wOff, taps, phase, tapPhase, tapOffset, len, want);
            vector.taps(w, wOff, taps, phase, tapPhase, tapOffset, len, got);
            assertArrayEquals(want, got, "trial " + trial);
        }
    }
}
