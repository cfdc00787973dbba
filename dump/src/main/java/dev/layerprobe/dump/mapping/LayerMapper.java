package dev.layerprobe.dump.mapping;

import dev.layerprobe.dump.layout.DumpedLayer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Maps a dump's layers onto target layers (ONNX tensor names), in four passes, each only over what
 * the previous ones left: the user's mapping file; exact names; sanitised names (every character
 * outside {@code [A-Za-z0-9]} replaced by {@code _}, as vendor runtimes write names into file
 * names; used only when unambiguous); then execution order: a dump layer goes to the first free
 * target between the targets of its mapped neighbours whose op type and size are compatible (op
 * types compatible when one contains the other ignoring case, so RKNN's {@code ConvClip} matches a
 * {@code Conv}; unknown ops and sizes do not rule a match out). Channels-last data is detected from
 * shapes ({@code N,H,W,C} against the target's {@code N,C,H,W}) or from the layout, and marked for
 * conversion. Stateless.
 */
public final class LayerMapper {
    private LayerMapper() {}

    /**
     * Maps a dump onto targets.
     *
     * @param fileNames dump layer name to target name, from a {@link MapFile}
     * @throws IllegalArgumentException when the mapping file names a target that does not exist
     */
    public static LayerMapping map(List<DumpedLayer> dump, List<MappingTarget> targets, Map<String, String> fileNames) {
        Map<String, Integer> targetIndex = new LinkedHashMap<>();
        for (int i = 0; i < targets.size(); i++) {
            targetIndex.putIfAbsent(targets.get(i).name(), i);
        }
        int[] to = new int[dump.size()];
        LayerMapping.Method[] how = new LayerMapping.Method[dump.size()];
        Arrays.fill(to, -1);
        boolean[] taken = new boolean[targets.size()];

        for (int d = 0; d < dump.size(); d++) {
            String want = fileNames.get(dump.get(d).name());
            if (want == null) {
                continue;
            }
            Integer t = targetIndex.get(want);
            if (t == null) {
                throw new IllegalArgumentException(
                        "the mapping file maps '" + dump.get(d).name() + "' to '" + want
                                + "', which is not a layer here" + closest(want, targetIndex.keySet()));
            }
            assign(d, t, LayerMapping.Method.FILE, to, how, taken);
        }
        for (int d = 0; d < dump.size(); d++) {
            Integer t = targetIndex.get(dump.get(d).name());
            if (to[d] < 0 && t != null && !taken[t]) {
                assign(d, t, LayerMapping.Method.EXACT, to, how, taken);
            }
        }
        Map<String, List<Integer>> bySanitised = new HashMap<>();
        for (int i = 0; i < targets.size(); i++) {
            bySanitised
                    .computeIfAbsent(sanitise(targets.get(i).name()), k -> new ArrayList<>())
                    .add(i);
        }
        for (int d = 0; d < dump.size(); d++) {
            List<Integer> c = bySanitised.get(sanitise(dump.get(d).name()));
            if (to[d] < 0 && c != null && c.size() == 1 && !taken[c.get(0)]) {
                assign(d, c.get(0), LayerMapping.Method.SANITISED, to, how, taken);
            }
        }
        for (int d = 0; d < dump.size(); d++) {
            if (to[d] >= 0) {
                continue;
            }
            int lo = -1;
            for (int p = d - 1; p >= 0; p--) {
                if (to[p] >= 0) {
                    lo = to[p];
                    break;
                }
            }
            int hi = targets.size();
            for (int n = d + 1; n < dump.size(); n++) {
                if (to[n] >= 0) {
                    hi = to[n];
                    break;
                }
            }
            for (int t = lo + 1; t < hi; t++) {
                if (!taken[t] && compatible(dump.get(d), targets.get(t))) {
                    assign(d, t, LayerMapping.Method.ORDER, to, how, taken);
                    break;
                }
            }
        }

        List<LayerMapping.Entry> entries = new ArrayList<>();
        List<DumpedLayer> unmapped = new ArrayList<>();
        for (int d = 0; d < dump.size(); d++) {
            if (to[d] < 0) {
                unmapped.add(dump.get(d));
            } else {
                MappingTarget t = targets.get(to[d]);
                entries.add(new LayerMapping.Entry(dump.get(d), t.name(), how[d], isNhwc(dump.get(d), t)));
            }
        }
        List<String> unmatched = new ArrayList<>();
        for (int t = 0; t < targets.size(); t++) {
            if (!taken[t]) {
                unmatched.add(targets.get(t).name());
            }
        }
        return new LayerMapping(entries, unmapped, unmatched);
    }

    private static void assign(
            int d, int t, LayerMapping.Method m, int[] to, LayerMapping.Method[] how, boolean[] taken) {
        to[d] = t;
        how[d] = m;
        taken[t] = true;
    }

    /** A name as vendor runtimes write it into file names. */
    public static String sanitise(String name) {
        return name.replaceAll("[^A-Za-z0-9]", "_");
    }

    static boolean compatible(DumpedLayer d, MappingTarget t) {
        if (d.op() != null && t.op() != null) {
            String a = d.op().toLowerCase(Locale.ROOT).replace("+", "");
            String b = t.op().toLowerCase(Locale.ROOT).replace("+", "");
            if (!a.contains(b) && !b.contains(a)) {
                return false;
            }
        }
        return d.shape() == null || t.shape() == null || d.size() == size(t.shape());
    }

    /** True when the dump layer holds channels-last data for a channels-first target. */
    static boolean isNhwc(DumpedLayer d, MappingTarget t) {
        int[] s = t.shape();
        if (s == null || s.length != 4 || (s[1] == 1) || (s[2] == 1 && s[3] == 1)) {
            // Rank other than 4, or one channel, or 1x1 maps: both orders hold the same bytes.
            return false;
        }
        if (d.nhwc()) {
            return true;
        }
        int[] ds = d.shape();
        return ds != null && !Arrays.equals(ds, s) && Arrays.equals(ds, new int[] {s[0], s[2], s[3], s[1]});
    }

    static long size(int[] shape) {
        long n = 1;
        for (int x : shape) {
            n *= x;
        }
        return n;
    }

    private static String closest(String want, java.util.Collection<String> names) {
        String best = null;
        int bestD = Integer.MAX_VALUE;
        for (String n : names) {
            int dd = distance(want, n);
            if (dd < bestD) {
                bestD = dd;
                best = n;
            }
        }
        return best == null ? "" : " (closest: '" + best + "')";
    }

    private static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                cur[j] = Math.min(
                        Math.min(cur[j - 1], prev[j]) + 1, prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1));
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
