package dev.offramp.eval.calibration;

import dev.offramp.criteria.ExitMath;

/**
 * Cached outputs of every exit on an evaluation set: what calibration and trade-off sweeps replay criteria on,
 * without running the backbone again.
 *
 * <pre>
 *   outputs  (N, L, K)  exit i's probabilities for sample n at [(n·L + i−1)·K ..+K); K = 1: the regression score
 *   gold     (N)        class index as a float, or the target score; NaN when unknown
 *   policy   (N, L)     ConsistentEE's π_i, or null when the model has no policy
 * </pre>
 * The arrays are held, not copied, and must not be changed afterwards.
 */
public final class ExitOutputs {
    private final int samples;  // N
    private final int layers;   // L
    private final int classes;  // K
    private final float[] outputs;
    private final float[] gold;
    private final float[] policy;

    public ExitOutputs(int samples, int layers, int classes, float[] outputs, float[] gold, float[] policy) {
        if (samples < 1 || layers < 1 || classes < 1) {
            throw new IllegalArgumentException("exit outputs need N, L, K >= 1, got N=" + samples + " L=" + layers
                    + " K=" + classes);
        }
        if (outputs.length != (long) samples * layers * classes) {
            throw new IllegalArgumentException("exit outputs: expected N*L*K = " + samples + "*" + layers + "*"
                    + classes + " floats, got " + outputs.length);
        }
        if (gold.length != samples) {
            throw new IllegalArgumentException("exit outputs: " + samples + " samples but " + gold.length
                    + " gold labels");
        }
        if (policy != null && policy.length != samples * layers) {
            throw new IllegalArgumentException("exit outputs: expected N*L = " + samples * layers
                    + " policy probabilities, got " + policy.length);
        }
        if (classes >= 2) {
            for (int n = 0; n < samples; n++) {
                float g = gold[n];
                if (!Float.isNaN(g) && (g != Math.rint(g) || g < 0 || g >= classes)) {
                    throw new IllegalArgumentException("exit outputs: gold label of sample " + n + " is " + g
                            + ", not a class index in 0.." + (classes - 1));
                }
            }
        }
        this.samples = samples;
        this.layers = layers;
        this.classes = classes;
        this.outputs = outputs;
        this.gold = gold;
        this.policy = policy;
    }

    /** From nested arrays [sample][layer][class] (tests, small caches). */
    public static ExitOutputs of(float[][][] perSample, float[] gold) {
        int n = perSample.length;
        int l = perSample[0].length;
        int k = perSample[0][0].length;
        float[] flat = new float[n * l * k];
        for (int s = 0; s < n; s++) {
            if (perSample[s].length != l) {
                throw new IllegalArgumentException("sample " + s + " has " + perSample[s].length + " exits, sample 0"
                        + " has " + l);
            }
            for (int i = 0; i < l; i++) {
                if (perSample[s][i].length != k) {
                    throw new IllegalArgumentException("sample " + s + " exit " + (i + 1) + " has "
                            + perSample[s][i].length + " outputs, expected " + k);
                }
                System.arraycopy(perSample[s][i], 0, flat, (s * l + i) * k, k);
            }
        }
        return new ExitOutputs(n, l, k, flat, gold, null);
    }

    /** The same outputs with ConsistentEE policy probabilities (N, L) attached. */
    public ExitOutputs withPolicy(float[] policyExitProbs) {
        return new ExitOutputs(samples, layers, classes, outputs, gold, policyExitProbs);
    }

    public int samples() { return samples; }
    public int layers() { return layers; }
    public int classes() { return classes; }
    public boolean regression() { return classes == 1; }
    public boolean hasPolicy() { return policy != null; }

    /** The (N, L, K) array itself (not a copy). */
    public float[] outputs() { return outputs; }
    /** The (N) gold array itself (not a copy). */
    public float[] gold() { return gold; }
    /** The (N, L) policy array itself, or null. */
    public float[] policy() { return policy; }

    /** Start of exit {@code layer}'s (1-based) output of {@code sample} in {@link #outputs()}. */
    public int offset(int sample, int layer) {
        return (sample * layers + layer - 1) * classes;
    }

    public float policy(int sample, int layer) {
        return policy == null ? Float.NaN : policy[sample * layers + layer - 1];
    }

    /** Exit {@code layer}'s prediction for a sample: the class index (as a float), or the regression score. */
    public float prediction(int sample, int layer) {
        int off = offset(sample, layer);
        return classes == 1 ? outputs[off] : ExitMath.argmax(outputs, off, classes);
    }

    /** Fraction of samples exit {@code layer} alone classifies correctly (classification only). */
    public double exitAccuracy(int layer) {
        if (classes == 1) {
            throw new IllegalStateException("exit accuracy is not defined for regression outputs (K = 1)");
        }
        int correct = 0;
        for (int n = 0; n < samples; n++) {
            if (prediction(n, layer) == gold[n]) correct++;
        }
        return (double) correct / samples;
    }

    /** {@link #exitAccuracy} of every exit, index i−1 for exit i. */
    public double[] exitAccuracies() {
        double[] acc = new double[layers];
        for (int i = 1; i <= layers; i++) acc[i - 1] = exitAccuracy(i);
        return acc;
    }
}
