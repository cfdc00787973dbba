package dev.layerprobe.simulator.compiler;

import java.util.Collection;
import java.util.Comparator;
import java.util.List;

/** Suggests the known names closest to a misspelt one (edit distance), for error messages. */
public final class NameSuggestions {
    private NameSuggestions() {}

    /** Up to {@code n} names of {@code known} closest to {@code wrong}, best first. */
    public static List<String> closest(String wrong, Collection<String> known, int n) {
        return known.stream()
                .distinct()
                .sorted(Comparator.comparingInt((String k) -> distance(wrong, k))
                        .thenComparing(k -> k))
                .limit(n)
                .toList();
    }

    static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
