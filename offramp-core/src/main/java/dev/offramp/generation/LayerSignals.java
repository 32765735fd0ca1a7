package dev.offramp.generation;

import dev.offramp.decoder.DecoderState;
import dev.offramp.decoder.LlamaDecoder;
import dev.offramp.kernels.VectorOps;

/**
 * What a criterion can look at after layer {@link #layer()} of one token (a step of one row): the hidden state,
 * the previous layer's hidden state, the final-normed state the LM head reads and the logits. The normed state and
 * the logits are computed on first use, so a criterion that reads only hidden states (saturation) does not pay for
 * the LM head. One per sequence; buffers allocated once.
 */
public final class LayerSignals {
    private final LlamaDecoder model;
    private DecoderState state;
    private final int layers, hidden;
    private final float[] previous, normed, logits, scratch;
    private final double[] topTwo = new double[2];
    private int layer, fullToken = -1;
    private boolean normedReady, logitsReady;

    LayerSignals(LlamaDecoder model) {
        this.model = model;
        this.layers = model.config().layers();
        this.hidden = model.config().hidden();
        previous = new float[hidden];
        normed = new float[hidden];
        logits = new float[model.config().vocabSize()];
        scratch = new float[logits.length];
    }

    /** Starts a token: its embedding is the "previous" state of layer 1. */
    void startToken(DecoderState s) {
        state = s;
        System.arraycopy(s.hidden(), 0, previous, 0, hidden);
        layer = 0;
        fullToken = -1;
    }

    /** Moves to layer l (1-based), keeping the state before it as the previous one. */
    void at(int l) {
        layer = l;
        normedReady = false;
        logitsReady = false;
    }

    /** After the criterion said no: this layer's state becomes the previous one. */
    void advance() {
        System.arraycopy(state.hidden(), 0, previous, 0, hidden);
    }

    /** The oracle's second pass: layer l with logits computed earlier (hidden states are then not layer l's). */
    void replay(int l, float[] layerLogits) {
        layer = l;
        System.arraycopy(layerLogits, 0, logits, 0, logits.length);
        logitsReady = true;
        normedReady = false;
    }

    void fullToken(int token) {
        fullToken = token;
    }

    /** Layer just run, 1-based. */
    public int layer() {
        return layer;
    }

    /** L. */
    public int layers() {
        return layers;
    }

    /** The token's residual stream after this layer: C values at offset 0 of the returned array. */
    public float[] hidden() {
        return state.hidden();
    }

    /** The residual stream after the previous layer (the embedding before layer 1). */
    public float[] previousHidden() {
        return previous;
    }

    /** The final RMSNorm of the hidden state (C): what the LM head and the ConsistentEE policy read. */
    public float[] normed() {
        if (!normedReady) {
            model.finalNorm(state, 0, normed, 0);
            normedReady = true;
        }
        return normed;
    }

    /** The logits (V) of this layer's exit: the shared final norm and LM head. */
    public float[] logits() {
        if (!logitsReady) {
            model.logits(state, 0, 1, logits, 0);
            logitsReady = true;
        }
        return logits;
    }

    /**
     * {top-1, top-2} softmax probabilities of this layer's logits: one vectorised exp pass over V (a scalar
     * Math.exp per entry would cost about as much as a small model's layer).
     */
    public double[] topTwoProbabilities() {
        float[] x = logits();
        int first = TokenMath.argmax(x);
        float max = x[first], second = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < x.length; i++) if (i != first && x[i] > second) second = x[i];
        System.arraycopy(x, 0, scratch, 0, x.length);
        double sum = VectorOps.expSub(scratch, 0, x.length, max);
        topTwo[0] = 1 / sum;
        topTwo[1] = Math.exp(second - max) / sum;
        return topTwo;
    }

    /** The token full depth would emit; only for criteria that {@link TokenExitCriterion#needsFullDepthToken()}. */
    public int fullDepthToken() {
        if (fullToken < 0) throw new IllegalStateException("the full-depth token is only known to criteria that ask for it");
        return fullToken;
    }

    /** Copies this layer's logits into out (V), computing them when no criterion did. */
    void copyLogits(float[] out) {
        System.arraycopy(logits(), 0, out, 0, out.length);
    }
}
