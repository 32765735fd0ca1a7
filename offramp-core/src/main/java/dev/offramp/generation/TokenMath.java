package dev.offramp.generation;

/** The small computations token-level criteria and the evaluation share (scalar: one row of V or C per call). */
public final class TokenMath {
    private TokenMath() {}

    /** Index of the largest logit; ties go to the lowest index (greedy decoding's choice). */
    public static int argmax(float[] x) {
        return argmax(x, 0, x.length);
    }

    /** Index (0 .. n−1) of the largest of x[off .. off+n); ties go to the lowest index. */
    public static int argmax(float[] x, int off, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) if (x[off + i] > x[off + best]) best = i;
        return best;
    }

    /** {top-1 probability, top-2 probability} of softmax(logits), without materialising the softmax. */
    public static double[] topTwoProbabilities(float[] logits) {
        int first = argmax(logits);
        float max = logits[first], second = Float.NEGATIVE_INFINITY;
        double sum = 0;
        for (int i = 0; i < logits.length; i++) {
            sum += Math.exp(logits[i] - max);
            if (i != first && logits[i] > second) second = logits[i];
        }
        return new double[]{1 / sum, Math.exp(second - max) / sum};
    }

    /** log softmax(logits)[target]. */
    public static double logProbability(float[] logits, int target) {
        float max = logits[argmax(logits)];
        double sum = 0;
        for (float l : logits) sum += Math.exp(l - max);
        return logits[target] - max - Math.log(sum);
    }

    /** cos(a[0..n), b[0..n)); 1 when either is zero (nothing changed worth measuring). */
    public static double cosine(float[] a, float[] b, int n) {
        double ab = 0, aa = 0, bb = 0;
        for (int i = 0; i < n; i++) {
            ab += (double) a[i] * b[i];
            aa += (double) a[i] * a[i];
            bb += (double) b[i] * b[i];
        }
        return aa == 0 || bb == 0 ? 1 : ab / Math.sqrt(aa * bb);
    }
}
