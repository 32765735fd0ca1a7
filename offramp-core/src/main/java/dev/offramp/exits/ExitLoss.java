package dev.offramp.exits;

/**
 * The exits' losses, forward and backward side by side. Every loss is a mean over the batch; backward writes
 * (does not add) dLogits, scaled by {@code scale} so a weighted sum of losses needs no second pass.
 */
public final class ExitLoss {
    private ExitLoss() {}

    /** Mean softmax cross-entropy of probs (B, K) against labels (B). */
    public static float crossEntropy(float[] probs, int[] labels, int b, int k) {
        double sum = 0;
        for (int r = 0; r < b; r++) {
            int y = labels[r];
            if (y < 0 || y >= k) throw new IllegalArgumentException("label " + y + " of row " + r + " outside 0.." + (k - 1));
            sum -= Math.log(Math.max(probs[r * k + y], 1e-30f));
        }
        return (float) (sum / b);
    }

    /** dLogits (B, K) = scale · (probs − onehot(y)) / B: the gradient of scale · crossEntropy w.r.t. the logits. */
    public static void crossEntropyBackward(float[] dLogits, float[] probs, int[] labels, int b, int k, float scale) {
        float s = scale / b;
        for (int r = 0; r < b; r++) {
            int o = r * k;
            for (int c = 0; c < k; c++) dLogits[o + c] = s * (probs[o + c] - (c == labels[r] ? 1f : 0f));
        }
    }

    /** Mean squared error of scores (B) against targets (B). */
    public static float mse(float[] scores, float[] targets, int b) {
        double sum = 0;
        for (int r = 0; r < b; r++) { double d = scores[r] - targets[r]; sum += d * d; }
        return (float) (sum / b);
    }

    /** dLogits (B, 1) = scale · 2 (score − target) / B. */
    public static void mseBackward(float[] dLogits, float[] scores, float[] targets, int b, float scale) {
        float s = 2f * scale / b;
        for (int r = 0; r < b; r++) dLogits[r] = s * (scores[r] - targets[r]);
    }

    /**
     * The joint loss weights w_i / Σ w_j with w_i = i (deeper exits weigh more), over the given exits
     * (numbers 1..L): loss = Σ_i w_i·CE_i / Σ_i w_i (PABEE/DeeBERT, methods.md §2).
     * Returns an array indexed i − 1 for exit i, zero for exits not listed.
     */
    public static float[] jointWeights(int totalLayers, int[] exits) {
        float[] w = new float[totalLayers];
        double sum = 0;
        for (int e : exits) {
            if (e < 1 || e > totalLayers) throw new IllegalArgumentException("exit " + e + " outside 1.." + totalLayers);
            sum += e;
        }
        for (int e : exits) w[e - 1] = (float) (e / sum);
        return w;
    }

    /** Joint weights over all layers. */
    public static float[] jointWeights(int totalLayers) {
        int[] all = new int[totalLayers];
        for (int i = 0; i < totalLayers; i++) all[i] = i + 1;
        return jointWeights(totalLayers, all);
    }
}
