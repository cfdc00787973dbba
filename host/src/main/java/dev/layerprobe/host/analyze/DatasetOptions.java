package dev.layerprobe.host.analyze;

import dev.layerprobe.host.input.InputException;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;

/**
 * How {@code analyze} goes over a set of inputs: which inputs keep their dumps, the labels for the
 * task's accuracy, whether to continue an interrupted run, and which slice of the inputs this
 * process runs.
 *
 * @param labels a CSV of {@code file,label}, or an image folder with one subfolder per class; null for none
 * @param dumps which inputs keep their golden, simulator and runtime dumps
 * @param resume continue the run whose state is in the report folder
 * @param shard the slice of the inputs to run, or null for all
 */
public record DatasetOptions(Path labels, Dumps dumps, boolean resume, Shard shard) {
    /** All inputs, no labels, the first input's dumps, a fresh run: what {@code analyze} did before. */
    public static final DatasetOptions DEFAULT = new DatasetOptions(null, Dumps.FIRST, false, null);

    /**
     * Which inputs keep their dumps: {@code first} (under {@code dumps/}, as always), {@code worst}
     * (the input whose output is worst, run again once every input is done), {@code all}, or a list
     * of input positions from 0. Beside {@code first}'s, an input's dumps go under {@code dumps/input-<position>/}.
     *
     * @param kind one of the four forms
     * @param positions the listed positions, for {@link Kind#LIST}
     */
    public record Dumps(Kind kind, Set<Integer> positions) {
        public static final Dumps FIRST = new Dumps(Kind.FIRST, Set.of());

        public enum Kind {
            FIRST,
            WORST,
            ALL,
            LIST
        }

        public Dumps {
            positions = Set.copyOf(positions);
        }

        /** Parses {@code first|worst|all|N,M,...}. */
        public static Dumps parse(String s) throws InputException {
            switch (s.strip()) {
                case "first":
                    return FIRST;
                case "worst":
                    return new Dumps(Kind.WORST, Set.of());
                case "all":
                    return new Dumps(Kind.ALL, Set.of());
                default:
                    break;
            }
            Set<Integer> p = new TreeSet<>();
            for (String part : s.split(",", -1)) {
                try {
                    int i = Integer.parseInt(part.strip());
                    if (i < 0) {
                        throw new NumberFormatException();
                    }
                    p.add(i);
                } catch (NumberFormatException e) {
                    throw new InputException("--dump-inputs " + s + ": give first, worst, all or input positions"
                            + " from 0 separated by commas (e.g. 0,17)");
                }
            }
            return new Dumps(Kind.LIST, p);
        }

        /** Whether the input at {@code position} keeps its dumps while the inputs run ({@code worst} runs after). */
        public boolean keeps(int position) {
            return switch (kind) {
                case FIRST -> position == 0;
                case WORST -> false;
                case ALL -> true;
                case LIST -> positions.contains(position);
            };
        }
    }

    /**
     * One slice of the inputs: the inputs whose position (in the sorted inputs, from 0) is
     * {@code index} modulo {@code count}, so every slice gets inputs from the whole set.
     */
    public record Shard(int index, int count) {
        public Shard {
            if (count < 1 || index < 0 || index >= count) {
                throw new IllegalArgumentException("shard " + index + "/" + count);
            }
        }

        /** Parses {@code I/N}, {@code 0 <= I < N}. */
        public static Shard parse(String s) throws InputException {
            String[] p = s.strip().split("/", -1);
            try {
                if (p.length == 2) {
                    int i = Integer.parseInt(p[0].strip());
                    int n = Integer.parseInt(p[1].strip());
                    if (n >= 1 && i >= 0 && i < n) {
                        return new Shard(i, n);
                    }
                }
            } catch (NumberFormatException e) {
                // the message below says what is expected
            }
            throw new InputException("--shard " + s + ": give I/N with 0 <= I < N, e.g. 0/4");
        }

        public boolean owns(int position) {
            return position % count == index;
        }

        @Override
        public String toString() {
            return index + "/" + count;
        }
    }
}
