package dev.offramp.consistentee;

import dev.offramp.exits.LayerwiseOutputs;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * ConsistentEE's instance hardness (methods.md §4): the memorized layer m(x) is the smallest layer l such that
 * every exit l..L predicts x correctly, and L when the last exit is wrong. Small m = easy. A wrong exit anywhere
 * below m does not matter: with correct exits 1, 2, 4..L and a wrong exit 3, m = 4.
 *
 * <p>Regression has no "correct": an exit counts as correct when its score is within δ of the target
 * ({@link #fromScores}), the agreement tolerance the criteria use.
 */
public final class MemorizedLayer {
    private MemorizedLayer() {}

    /** m for each sample from correct (N, L) row-major (sample n, exit i at n·L + i − 1). */
    public static int[] fromCorrect(boolean[] correct, int n, int l) {
        if (correct.length != n * l) throw new IllegalArgumentException("correct has " + correct.length + " entries, expected N·L = " + n + "·" + l);
        int[] m = new int[n];
        for (int s = 0; s < n; s++) {
            int base = s * l, first = l;
            if (correct[base + l - 1]) {
                first = l;
                while (first > 1 && correct[base + first - 2]) first--;
            }
            m[s] = first;
        }
        return m;
    }

    /** m from every exit's class prediction against the labels (classification). */
    public static int[] fromOutputs(LayerwiseOutputs out, int[] labels) {
        int n = out.samples(), l = out.layers();
        if (labels.length != n) throw new IllegalArgumentException(labels.length + " labels for " + n + " samples");
        boolean[] c = new boolean[n * l];
        for (int s = 0; s < n; s++) for (int i = 1; i <= l; i++) c[s * l + i - 1] = out.prediction(s, i) == labels[s];
        return fromCorrect(c, n, l);
    }

    /** m from every exit's score: correct when |score − target| &lt; delta (regression). */
    public static int[] fromScores(LayerwiseOutputs out, float[] targets, double delta) {
        int n = out.samples(), l = out.layers();
        if (targets.length != n) throw new IllegalArgumentException(targets.length + " targets for " + n + " samples");
        boolean[] c = new boolean[n * l];
        for (int s = 0; s < n; s++) for (int i = 1; i <= l; i++) c[s * l + i - 1] = Math.abs(out.get(s, i, 0) - targets[s]) < delta;
        return fromCorrect(c, n, l);
    }

    /**
     * The distribution of m over a set: counts[l − 1] samples with m = l, a few easy (smallest m) and hard (m = L)
     * sample indices for a report.
     */
    public record Distribution(int layers, int[] counts, double mean, int[] easy, int[] hard) {
        /** One line per layer: "m=3   1234  12.3 %  ####". */
        public String table() {
            int n = 0;
            for (int c : counts) n += c;
            StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "memorized layer over %d samples, mean %.2f of %d%n",
                    n, mean, layers));
            for (int l = 1; l <= layers; l++) {
                double f = n == 0 ? 0 : (double) counts[l - 1] / n;
                sb.append(String.format(Locale.ROOT, "  m=%-3d %7d %6.1f %%  %s%n", l, counts[l - 1], 100 * f,
                        "#".repeat((int) Math.round(f * 50))));
            }
            return sb.toString();
        }
    }

    /** Histogram of m and up to {@code examples} easy and hard sample indices (spread evenly over the set). */
    public static Distribution distribution(int[] m, int layers, int examples) {
        int[] counts = new int[layers];
        double sum = 0;
        int minM = layers;
        for (int v : m) {
            if (v < 1 || v > layers) throw new IllegalArgumentException("memorized layer " + v + " outside 1.." + layers);
            counts[v - 1]++;
            sum += v;
            minM = Math.min(minM, v);
        }
        return new Distribution(layers, counts, m.length == 0 ? Double.NaN : sum / m.length,
                spread(m, minM, examples), spread(m, layers, examples));
    }

    private static int[] spread(int[] m, int value, int count) {
        List<Integer> idx = new ArrayList<>();
        for (int i = 0; i < m.length; i++) if (m[i] == value) idx.add(i);
        int k = Math.min(count, idx.size());
        int[] out = new int[k];
        for (int j = 0; j < k; j++) out[j] = idx.get((int) ((long) j * idx.size() / k));
        return out;
    }
}
