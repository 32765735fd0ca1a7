package dev.offramp.eval.calibration;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Resamples a validation cache so that its input lengths follow another set's (the evaluation inputs, whose
 * lengths are known without their labels). Calibration thresholds depend on how hard inputs are, and length is
 * the plainest proxy: SST-2's train (hence validation) is mostly short phrases while its dev set is whole
 * sentences, and thresholds fitted on phrases exit sentences too early. Length bins are quantiles of the target
 * lengths; each validation sample is drawn with weight p_target(bin) / p_validation(bin). Deterministic per seed.
 */
public final class LengthMatching {
    private LengthMatching() {}

    /** The bin edges: {@code bins} quantiles of the target lengths (upper bounds, inclusive). */
    static int[] edges(int[] target, int bins) {
        int[] s = target.clone();
        Arrays.sort(s);
        int[] e = new int[bins];
        for (int b = 0; b < bins; b++) e[b] = s[Math.min(s.length - 1, (int) Math.ceil((b + 1) * s.length / (double) bins) - 1)];
        e[bins - 1] = Integer.MAX_VALUE;
        return e;
    }

    static int bin(int[] edges, int length) {
        for (int b = 0; b < edges.length; b++) if (length <= edges[b]) return b;
        return edges.length - 1;
    }

    /** Draw weights per validation sample (sum 1): target mass of its bin shared among the bin's samples. */
    public static double[] weights(int[] validationLengths, int[] targetLengths, int bins) {
        int[] edges = edges(targetLengths, bins);
        double[] target = new double[bins];
        int[] count = new int[bins];
        for (int t : targetLengths) target[bin(edges, t)] += 1.0 / targetLengths.length;
        for (int v : validationLengths) count[bin(edges, v)]++;
        double[] w = new double[validationLengths.length];
        double total = 0;
        for (int i = 0; i < w.length; i++) {
            int b = bin(edges, validationLengths[i]);
            w[i] = target[b] / count[b];
            total += w[i];
        }
        for (int i = 0; i < w.length; i++) w[i] /= total; // bins the validation set lacks lose their mass
        return w;
    }

    /**
     * A cache of {@code draws} samples drawn with replacement from {@code validation} by length weights.
     *
     * @param validationLengths token count of each validation sample (same order as the cache)
     * @param targetLengths     token counts of the inputs the model will be evaluated or deployed on
     */
    public static ExitOutputs resample(ExitOutputs validation, int[] validationLengths, int[] targetLengths,
                                       int bins, int draws, long seed) {
        if (validationLengths.length != validation.samples()) {
            throw new IllegalArgumentException("lengths for " + validationLengths.length + " samples, cache has " + validation.samples());
        }
        double[] w = weights(validationLengths, targetLengths, bins);
        double[] cdf = new double[w.length];
        double acc = 0;
        for (int i = 0; i < w.length; i++) cdf[i] = acc += w[i];
        SplittableRandom rnd = new SplittableRandom(seed);
        int l = validation.layers(), k = validation.classes();
        float[] out = new float[draws * l * k], gold = new float[draws];
        float[] policy = validation.hasPolicy() ? new float[draws * l] : null;
        for (int d = 0; d < draws; d++) {
            int i = Arrays.binarySearch(cdf, rnd.nextDouble() * acc);
            if (i < 0) i = -i - 1;
            i = Math.min(i, w.length - 1);
            System.arraycopy(validation.outputs(), i * l * k, out, d * l * k, l * k);
            gold[d] = validation.gold()[i];
            if (policy != null) System.arraycopy(validation.policy(), i * l, policy, d * l, l);
        }
        return new ExitOutputs(draws, l, k, out, gold, policy);
    }
}
