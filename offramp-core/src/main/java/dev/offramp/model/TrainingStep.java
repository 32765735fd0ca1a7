package dev.offramp.model;

import dev.offramp.weights.BertConfig;
import java.util.Arrays;

/**
 * The activations of one training forward on a ragged batch, everything {@link EncoderTrainer#backward} needs.
 * Sample b owns token rows [offset(b), offset(b) + length(b)) of every (N, ·) array; there is no padding.
 *
 * <p>One instance per trainer, reused: buffers grow to the largest batch seen (with headroom) and are then
 * rewritten in place, so a steady-state step allocates nothing. Valid until the trainer's next forward.
 * Shape letters: B samples, N tokens (Σ T_b), H hidden, I intermediate, NH heads, L layers.
 */
public final class TrainingStep {
    final int hidden, intermediate, heads, layerCount;

    int size;                    // B
    int tokens;                  // N
    int maxLength;               // Tmax
    int attTotal;                // Σ_b NH·T_b²
    boolean train;               // dropout active
    long dropoutStep;            // the step number the dropout keys were derived from
    int[] offset = new int[0];     // (B) first token row of each sample
    int[] length = new int[0];     // (B)
    int[] attOffset = new int[0];  // (B) first probability of each sample in Layer.att
    int[] ids = new int[0];        // (N) token ids
    int[] typeIds = new int[0];    // (N)
    int[] positions = new int[0];  // (N) position of the token inside its sample

    float[] embSum = new float[0];   // (N, H) word + position + type: the embedding LayerNorm's input
    float[] embMean = new float[0];  // (N)
    float[] embRstd = new float[0];  // (N)
    /** [L + 1] (N, H): [0] the embeddings' output (after dropout), [l] layer l's output. */
    final float[][] output;
    final Layer[] layers;

    /** What one layer keeps for backward. */
    static final class Layer {
        float[] qkv = new float[0];     // (N, 3H) x·Wqkv + bqkv, rows [q | k | v]
        float[] att = new float[0];     // (Σ_b NH·T_b²) softmax probabilities, before dropout
        float[] ctx = new float[0];     // (N, H) attention context dropout(P)·V
        float[] ln1In = new float[0];   // (N, H) dropout(ctx·Wo + bo) + x
        float[] ln1Mean = new float[0]; // (N)
        float[] ln1Rstd = new float[0]; // (N)
        float[] h1 = new float[0];      // (N, H) LN1 output
        float[] ffnPre = new float[0];  // (N, I) h1·Win + bin, before GELU
        float[] ffnAct = new float[0];  // (N, I) gelu(ffnPre)
        float[] ln2In = new float[0];   // (N, H) dropout(ffnAct·Wout + bout) + h1
        float[] ln2Mean = new float[0]; // (N)
        float[] ln2Rstd = new float[0]; // (N)
    }

    TrainingStep(BertConfig config) {
        hidden = config.hidden();
        intermediate = config.intermediate();
        heads = config.heads();
        layerCount = config.layers();
        output = new float[layerCount + 1][0];
        layers = new Layer[layerCount];
        for (int l = 0; l < layerCount; l++) layers[l] = new Layer();
    }

    /** Sizes every buffer for N tokens and attTotal probabilities per layer; grows with 25 % headroom. */
    void ensureCapacity(int batch, int n, int attNeeded) {
        if (offset.length < batch) {
            int cap = batch + batch / 4;
            offset = new int[cap];
            length = new int[cap];
            attOffset = new int[cap];
        }
        if (ids.length < n) {
            int cap = n + n / 4;
            ids = new int[cap];
            typeIds = new int[cap];
            positions = new int[cap];
            embSum = new float[cap * hidden];
            embMean = new float[cap];
            embRstd = new float[cap];
            for (int l = 0; l <= layerCount; l++) output[l] = new float[cap * hidden];
            for (Layer a : layers) {
                a.qkv = new float[cap * 3 * hidden];
                a.ctx = new float[cap * hidden];
                a.ln1In = new float[cap * hidden];
                a.ln1Mean = new float[cap];
                a.ln1Rstd = new float[cap];
                a.h1 = new float[cap * hidden];
                a.ffnPre = new float[cap * intermediate];
                a.ffnAct = new float[cap * intermediate];
                a.ln2In = new float[cap * hidden];
                a.ln2Mean = new float[cap];
                a.ln2Rstd = new float[cap];
            }
        }
        if (layers.length > 0 && layers[0].att.length < attNeeded) {
            int cap = attNeeded + attNeeded / 4;
            for (Layer a : layers) a.att = new float[cap];
        }
    }

    /** B: samples in the batch. */
    public int size() { return size; }

    /** N: total tokens. */
    public int tokens() { return tokens; }

    /** First token row ([CLS]) of sample b. */
    public int offset(int b) { return offset[b]; }

    /** Tokens of sample b, specials included. */
    public int length(int b) { return length[b]; }

    /** Whether dropout was active in this forward. */
    public boolean training() { return train; }

    /**
     * Layer l's output hidden state (N, H) for l in 1..L; l = 0 is the embeddings' output. The array may be
     * longer than N·H (reused capacity); rows past N are stale. Read-only for callers.
     */
    public float[] layerOutput(int l) {
        if (l < 0 || l > layerCount) {
            throw new IndexOutOfBoundsException("layer " + l + " outside 0.." + layerCount);
        }
        return output[l];
    }

    /** Copies sample b's rows of layer l's output, (length(b), H). */
    public float[] copyLayerOutput(int l, int b) {
        return Arrays.copyOfRange(layerOutput(l), offset[b] * hidden, (offset[b] + length[b]) * hidden);
    }
}
