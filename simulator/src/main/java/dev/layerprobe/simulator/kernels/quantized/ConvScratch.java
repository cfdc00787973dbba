package dev.layerprobe.simulator.kernels.quantized;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.IntFunction;
import java.util.function.ToIntFunction;

/**
 * Scratch arrays of one {@link IntConvJob} task, grown on demand and kept for the next task: a
 * task borrows a set while it runs and gives it back. Not a ThreadLocal: the common pool's workers
 * erase their thread locals after every top-level task (JDK 17), which reallocated them every time
 * (13% of mobilenet_v2's samples). A set is used by one task at a time.
 */
final class ConvScratch {
    private static final ConcurrentLinkedQueue<ConvScratch> POOL = new ConcurrentLinkedQueue<>();

    private final Rows<int[]> rows = new Rows<>(int[][]::new, int[]::new, a -> a.length);
    private final Rows<int[]> sums = new Rows<>(int[][]::new, int[]::new, a -> a.length);
    private final Rows<int[]> phases = new Rows<>(int[][]::new, int[]::new, a -> a.length);
    private final Rows<long[]> wideRows = new Rows<>(long[][]::new, long[]::new, a -> a.length);
    private final Rows<long[]> wideSums = new Rows<>(long[][]::new, long[]::new, a -> a.length);
    private int[] acc = new int[0];
    private int[] pixels = new int[0];
    private long[] wide = new long[0];
    private int[] codes = new int[0];

    int[][] rows(int count, int len) {
        return rows.get(count, len);
    }

    int[][] sums(int count, int len) {
        return sums.get(count, len);
    }

    int[][] phases(ConvPanel panel, int bandRows) {
        return phases.get(panel.phases(), panel.phaseInts(bandRows));
    }

    long[][] wideRows(int count, int len) {
        return wideRows.get(count, len);
    }

    long[][] wideSums(int count, int len) {
        return wideSums.get(count, len);
    }

    int[] acc(int len) {
        if (acc.length < len) {
            acc = new int[len];
        }
        return acc;
    }

    int[] pixels(int len) {
        if (pixels.length < len) {
            pixels = new int[len];
        }
        return pixels;
    }

    long[] wide(int len) {
        if (wide.length < len) {
            wide = new long[len];
        }
        return wide;
    }

    int[] codes(int len) {
        if (codes.length < len) {
            codes = new int[len];
        }
        return codes;
    }

    private ConvScratch() {}

    static ConvScratch borrow() {
        ConvScratch s = POOL.poll();
        return s != null ? s : new ConvScratch();
    }

    static void release(ConvScratch s) {
        POOL.offer(s);
    }

    /**
     * Arrays of at least {@code count} rows of at least {@code len} elements, remembering what they
     * hold so that a request they already satisfy costs no pass over the rows.
     */
    private static final class Rows<T> {
        private final IntFunction<T[]> newArray;
        private final IntFunction<T> newRow;
        private final ToIntFunction<T> length;
        private T[] arrays;
        /** Every one of the first {@code count} rows has at least {@code len} elements. */
        private int count;

        private int len;

        Rows(IntFunction<T[]> newArray, IntFunction<T> newRow, ToIntFunction<T> length) {
            this.newArray = newArray;
            this.newRow = newRow;
            this.length = length;
            this.arrays = newArray.apply(0);
        }

        T[] get(int wantCount, int wantLen) {
            if (wantCount <= count && wantLen <= len) {
                return arrays;
            }
            int c = Math.max(count, wantCount);
            int l = Math.max(len, wantLen);
            if (arrays.length < c) {
                T[] grown = newArray.apply(c);
                System.arraycopy(arrays, 0, grown, 0, arrays.length);
                arrays = grown;
            }
            for (int i = 0; i < c; i++) {
                if (arrays[i] == null || length.applyAsInt(arrays[i]) < l) {
                    arrays[i] = newRow.apply(Math.max(l, 16));
                }
            }
            count = c;
            len = l;
            return arrays;
        }
    }
}
