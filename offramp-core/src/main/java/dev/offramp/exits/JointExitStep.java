package dev.offramp.exits;

import java.util.SplittableRandom;

/**
 * One training step's worth of exit work for a batch whose hidden states after every layer are kept
 * (joint training of backbone + exits): for each exit, pool → forward → loss → backward → unpool, with the
 * joint weighted loss Σ_i w_i·loss_i (weights from {@link ExitLoss#jointWeights}). Parameter gradients are
 * added into the heads' grads(); the gradient w.r.t. each layer's hidden state is added into
 * dHiddenByLayer[l] (N, H), ready for the encoder's backward.
 *
 * Holds its own buffers: one per training thread.
 */
public final class JointExitStep {
    private final ExitHeads heads;
    private final ExitHeads.Activations act;
    private final float[] pooled, dPooled, dLogits;  // (B, H), (B, H), (B, K)
    private final double[] lossPerExit;

    public JointExitStep(ExitHeads heads, int maxBatch) {
        this.heads = heads;
        this.act = new ExitHeads.Activations(heads, maxBatch);
        this.pooled = new float[maxBatch * heads.hidden];
        this.dPooled = new float[maxBatch * heads.hidden];
        this.dLogits = new float[maxBatch * heads.outputs];
        this.lossPerExit = new double[heads.layers];
    }

    /**
     * @param hiddenByLayer  (L)(N, H): the hidden state after each layer, ragged by offset/length
     * @param labels         (B) classes, or null for regression
     * @param targets        (B) scores for regression, else null
     * @param weights        (L) loss weight of exit i at i − 1 (0 skips it), e.g. ExitLoss.jointWeights(L)
     * @param rng            dropout's random source, or null for no dropout
     * @param dHiddenByLayer (L)(N, H) receives (adds) dLoss/dHidden; null (or a null entry) skips that gradient
     * @return the joint loss Σ_l weights[l]·loss_l
     */
    public double run(float[][] hiddenByLayer, int[] offset, int[] length, int b, int[] labels, float[] targets,
                      float[] weights, float dropout, SplittableRandom rng, float[][] dHiddenByLayer) {
        int h = heads.hidden, k = heads.outputs;
        Pooling pooling = heads.layout.pooling();
        double joint = 0;
        java.util.Arrays.fill(lossPerExit, Double.NaN);
        for (int l = 0; l < heads.layers; l++) {
            if (weights[l] == 0f) continue;
            pooling.pool(hiddenByLayer[l], offset, length, b, h, pooled, 0);
            heads.forward(act, l + 1, pooled, 0, b, dropout, rng);
            float loss;
            if (labels != null) {
                loss = ExitLoss.crossEntropy(act.probs, labels, b, k);
                ExitLoss.crossEntropyBackward(dLogits, act.probs, labels, b, k, weights[l]);
            } else {
                loss = ExitLoss.mse(act.probs, targets, b);
                ExitLoss.mseBackward(dLogits, act.probs, targets, b, weights[l]);
            }
            lossPerExit[l] = loss;
            joint += weights[l] * loss;
            float[] dHidden = dHiddenByLayer == null ? null : dHiddenByLayer[l];
            if (dHidden == null) {
                heads.backward(act, pooled, 0, dLogits, null, 0);
                continue;
            }
            java.util.Arrays.fill(dPooled, 0, b * h, 0f);
            heads.backward(act, pooled, 0, dLogits, dPooled, 0);
            pooling.unpoolBackward(dPooled, 0, offset, length, b, h, dHidden);
        }
        return joint;
    }

    /** Each exit's loss in the last run, exit i at i − 1 (NaN for exits with weight 0). */
    public double[] lossPerExit() { return lossPerExit; }
}
