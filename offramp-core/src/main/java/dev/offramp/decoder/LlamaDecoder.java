package dev.offramp.decoder;

import dev.offramp.kernels.Gemm;
import dev.offramp.kernels.PackedMatrix;
import dev.offramp.kernels.Parallel;
import dev.offramp.kernels.VectorOps;
import dev.offramp.weights.DecoderConfig;
import dev.offramp.weights.DecoderWeights;

/**
 * A Llama-family decoder (Llama 2/3, Qwen 2) run one layer at a time, so that a generated token can leave after
 * any layer.
 *
 * <pre>
 *   x = E[token]                                                  (n, C) for the n tokens of a step
 *   for each layer l:
 *     a = RMSNorm_l(x)                                              input_layernorm
 *     q = rope(a·Wq + bq);  [k | v] = [rope(a·Wk + bk) | a·Wv + bv] → the layer's cache, positions start..start+n−1
 *     x += attention(q, cache[0..p]) · Wo                           causal, grouped-query
 *     x += (silu(b·Wgate) ⊙ b·Wup) · Wdown,  b = RMSNorm'_l(x)      post_attention_layernorm
 *   logits = RMSNorm_final(x) · Wlm                                 Wlm = Eᵀ when tied; any layer's x can go here
 * </pre>
 *
 * A step's tokens are a prompt chunk (prefill) or one generated token. When a token exits after layer e, the
 * layers after e still need its keys and values for later tokens: {@link #propagateKv} computes them from the exit
 * hidden state, through each skipped layer's own input norm (CALM's state propagation).
 *
 * <p>Read-only after construction (weights packed once), so one instance serves many threads, each with its own
 * {@link DecoderState}. Training changes the weights and calls {@link #repack()}. Ops are static forward methods
 * ({@link RmsNorm}, {@link Rope}, {@link CausalAttention}, {@link SwiGlu}) so their backward passes can sit beside them.
 */
public final class LlamaDecoder {
    /** Below this many floats an elementwise pass is not worth waking the other threads for. */
    private static final int PARALLEL_MIN_FLOATS = 1 << 15;

    private final DecoderConfig config;
    private final DecoderWeights weights;
    private final double[] invFreq;
    private final PackedMatrix[] wq, wkv, wo, wGateUp, wDown;   // per layer: (C, Q), (C, 2KV), (Q, C), (C, 2I), (I, C)
    private final float[][] bkv;                               // per layer: (2KV) [bk | bv], null without biases
    private final PackedMatrix lmHead;                         // (C, V)

    public LlamaDecoder(DecoderWeights weights) {
        this.weights = weights;
        this.config = weights.config;
        this.invFreq = Rope.inverseFrequencies(config);
        int l = config.layers(), c = config.hidden(), i = config.intermediate();
        wq = new PackedMatrix[l];
        wkv = new PackedMatrix[l];
        wo = new PackedMatrix[l];
        wGateUp = new PackedMatrix[l];
        wDown = new PackedMatrix[l];
        bkv = new float[l][];
        for (int layer = 0; layer < l; layer++) {
            DecoderWeights.Layer w = weights.layers[layer];
            wq[layer] = PackedMatrix.pack(w.wq, 0, c, config.qDim());
            wkv[layer] = PackedMatrix.pack(sideBySide(w.wk, w.wv, c, config.kvDim(), config.kvDim()), 0, c, 2 * config.kvDim());
            wo[layer] = PackedMatrix.pack(w.wo, 0, config.qDim(), c);
            wGateUp[layer] = PackedMatrix.pack(sideBySide(w.wGate, w.wUp, c, i, i), 0, c, 2 * i);
            wDown[layer] = PackedMatrix.pack(w.wDown, 0, i, c);
        }
        lmHead = PackedMatrix.pack(weights.lmHeadInOut(), 0, c, config.vocabSize());
        repackBiases();
    }

    /** [A | B] row by row: (rows, a) and (rows, b) → (rows, a + b). */
    private static float[] sideBySide(float[] a, float[] b, int rows, int aCols, int bCols) {
        float[] f = new float[rows * (aCols + bCols)];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(a, r * aCols, f, r * (aCols + bCols), aCols);
            System.arraycopy(b, r * bCols, f, r * (aCols + bCols) + aCols, bCols);
        }
        return f;
    }

    private void repackBiases() {
        for (int l = 0; l < config.layers(); l++) {
            DecoderWeights.Layer w = weights.layers[l];
            bkv[l] = config.qkvBias() ? sideBySide(w.bk, w.bv, 1, config.kvDim(), config.kvDim()) : null;
        }
    }

    /** Re-reads the weights after an optimizer step changed them. */
    public void repack() {
        int c = config.hidden(), i = config.intermediate();
        for (int l = 0; l < config.layers(); l++) {
            DecoderWeights.Layer w = weights.layers[l];
            wq[l].repack(w.wq, 0);
            wkv[l].repack(sideBySide(w.wk, w.wv, c, config.kvDim(), config.kvDim()), 0);
            wo[l].repack(w.wo, 0);
            wGateUp[l].repack(sideBySide(w.wGate, w.wUp, c, i, i), 0);
            wDown[l].repack(w.wDown, 0);
        }
        lmHead.repack(weights.lmHeadInOut(), 0);
        repackBiases();
    }

    public DecoderConfig config() {
        return config;
    }

    public DecoderWeights weights() {
        return weights;
    }

    /** A new state holding up to {@code capacity} positions, taking up to {@code maxStep} tokens per step. */
    public DecoderState newState(int capacity, int maxStep) {
        return new DecoderState(config, capacity, maxStep);
    }

    // ----------------------------------------------------------------------------------------------------
    // one step: begin → layer / propagateKv for every layer → finish

    /** Starts a step: the n tokens tokens[off..off+n) go at positions s.length().. and are embedded. */
    public void begin(DecoderState s, int[] tokens, int off, int n) {
        checkState(s);
        if (s.step != 0) {
            throw new IllegalStateException("the previous step (" + s.step + " tokens) has not finished: layer "
                    + s.nextLayer + " of " + config.layers() + " is next");
        }
        if (n < 1 || n > s.maxStep) throw new IllegalArgumentException("a step takes 1 to " + s.maxStep + " tokens, got " + n);
        if (s.length + n > s.capacity) {
            throw new IllegalArgumentException("the sequence would reach " + (s.length + n)
                    + " positions; this state holds " + s.capacity);
        }
        int c = config.hidden(), v = config.vocabSize();
        for (int r = 0; r < n; r++) {
            int id = tokens[off + r];
            if (id < 0 || id >= v) {
                throw new IllegalArgumentException("token id " + id + " at " + (off + r) + " is outside the vocabulary of " + v);
            }
            System.arraycopy(weights.tokenEmbeddings, id * c, s.x, r * c, c);
        }
        Rope.tables(invFreq, s.length, n, s.cos, s.sin);
        s.step = n;
        s.nextLayer = 0;
    }

    /** Runs layer l (the state's next layer) on the step's tokens: writes its KV, updates the hidden state. */
    public void layer(DecoderState s, int l) {
        checkNext(s, l, "run");
        int n = s.step, c = config.hidden(), qd = config.qDim(), i = config.intermediate();
        float eps = config.rmsNormEps();
        DecoderWeights.Layer w = weights.layers[l];

        forRows(n, c, (r0, r1) -> RmsNorm.forward(s.xn, null, s.x, w.attnNorm, r0, r1, c, eps));
        writeKv(s, l);
        Gemm.matmul(s.xn, 0, c, wq[l], s.q, 0, qd, n, false);
        forRows(n, qd, (r0, r1) -> {
            if (w.bq != null) for (int r = r0; r < r1; r++) VectorOps.add(w.bq, 0, s.q, r * qd, qd);
            Rope.forward(s.q, 0, qd, config.heads(), config.headDim(), s.cos, s.sin, r0, r1);
        });
        CausalAttention.forward(s.att, s.q, qd, s.kv[l], s.length, n, config.heads(), config.kvHeads(),
                config.headDim(), s.scores);
        Gemm.matmul(s.att, 0, qd, wo[l], s.x, 0, c, n, true);                 // x += att · Wo

        forRows(n, c, (r0, r1) -> RmsNorm.forward(s.xn, null, s.x, w.mlpNorm, r0, r1, c, eps));
        Gemm.matmul(s.xn, 0, c, wGateUp[l], s.gateUp, 0, 2 * i, n, false);
        forRows(n, 2 * i, (r0, r1) -> SwiGlu.forward(s.mlp, s.gateUp, r0, r1, i));
        Gemm.matmul(s.mlp, 0, i, wDown[l], s.x, 0, c, n, true);               // x += mlp · Wdown
        s.nextLayer++;
    }

    /**
     * Fills layer l's keys and values for the step's tokens from the current hidden state, through layer l's own
     * input norm, without running the layer: the state propagation of a token that exited before l. The hidden
     * state is left as it is, so the next skipped layer propagates from the same exit state.
     */
    public void propagateKv(DecoderState s, int l) {
        propagateKv(s, l, s.x, 0);
    }

    /**
     * As {@link #propagateKv(DecoderState, int)} from a given hidden state: the step's rows, (step, C) at
     * {@code from[off..]} (e.g. an exit state saved before the following layers ran in "exact" mode).
     */
    public void propagateKv(DecoderState s, int l, float[] from, int off) {
        checkNext(s, l, "propagate into");
        int c = config.hidden();
        checkRows(from, off, s.step * c);
        float eps = config.rmsNormEps();
        float[] gain = weights.layers[l].attnNorm;
        if (off == 0) {
            forRows(s.step, c, (r0, r1) -> RmsNorm.forward(s.xn, null, from, gain, r0, r1, c, eps));
        } else {
            System.arraycopy(from, off, s.xn, 0, s.step * c);
            forRows(s.step, c, (r0, r1) -> RmsNorm.forward(s.xn, null, s.xn, gain, r0, r1, c, eps));
        }
        writeKv(s, l);
        s.nextLayer++;
    }

    /**
     * As {@link #propagateKv(DecoderState, int)} but projecting the exit hidden state as it is, without layer l's
     * input norm: what the ConsistentEE / CALM reference code does. Kept to measure what the norm is worth.
     */
    public void propagateKvWithoutInputNorm(DecoderState s, int l) {
        propagateKvWithoutInputNorm(s, l, s.x, 0);
    }

    /** As {@link #propagateKvWithoutInputNorm(DecoderState, int)} from a given hidden state (step, C) at from[off..]. */
    public void propagateKvWithoutInputNorm(DecoderState s, int l, float[] from, int off) {
        checkNext(s, l, "propagate into");
        checkRows(from, off, s.step * config.hidden());
        System.arraycopy(from, off, s.xn, 0, s.step * config.hidden());
        writeKv(s, l);
        s.nextLayer++;
    }

    private static void checkRows(float[] from, int off, int n) {
        if (off < 0 || (long) off + n > from.length) {
            throw new IllegalArgumentException("the hidden state needs " + n + " floats from offset " + off
                    + "; the array has " + from.length);
        }
    }

    /** Ends the step once every layer has its KV: the step's tokens become part of the sequence. */
    public void finish(DecoderState s) {
        checkState(s);
        if (s.step == 0) throw new IllegalStateException("no step to finish (call begin first)");
        if (s.nextLayer != config.layers()) {
            throw new IllegalStateException("layers " + s.nextLayer + ".." + (config.layers() - 1)
                    + " have no KV for this step yet: run them or propagateKv into them before finish");
        }
        s.length += s.step;
        s.step = 0;
        s.nextLayer = 0;
    }

    // ----------------------------------------------------------------------------------------------------
    // self-speculative decoding: shallow draft steps, then one deep step that verifies them together

    /**
     * Ends a step that ran only layers 0 .. nextLayer−1 (a draft token of self-speculative decoding): its positions
     * join the sequence with KV in those layers only. The layers above catch up in one {@link #beginDeep} step over
     * all the drafts; until then only steps that stay below them may follow (a deeper layer refuses to run).
     */
    public void finishShallow(DecoderState s) {
        checkState(s);
        if (s.step == 0) throw new IllegalStateException("no step to finish (call begin first)");
        s.length += s.step;
        s.step = 0;
        s.nextLayer = 0;
    }

    /**
     * Starts a step over positions from .. from+n−1 that were run by shallow steps up to layer {@code layer} (0-based,
     * the first layer to run now), their hidden states after it given as rows (n, C) at hidden[off..]. Layers below
     * keep the KV the shallow steps wrote; layers from {@code layer} on must hold KV for exactly {@code from}
     * positions. Positions past from+n are dropped. Then {@link #layer} for the remaining layers and {@link #finish}.
     */
    public void beginDeep(DecoderState s, int from, int n, float[] hidden, int off, int layer) {
        checkState(s);
        if (s.step != 0) throw new IllegalStateException("the previous step (" + s.step + " tokens) has not finished");
        int layers = config.layers(), c = config.hidden();
        if (layer < 0 || layer >= layers) throw new IllegalArgumentException("layer must be in 0.." + (layers - 1) + ", got " + layer);
        if (n < 1 || n > s.maxStep) throw new IllegalArgumentException("a step takes 1 to " + s.maxStep + " tokens, got " + n);
        if (from < 0 || from + n > s.length) {
            throw new IllegalArgumentException("positions " + from + ".." + (from + n - 1) + " have not been run (the sequence has "
                    + s.length + ")");
        }
        for (int l = 0; l < layers; l++) {
            boolean ok = l < layer ? s.kvLength[l] >= from + n : s.kvLength[l] == from;
            if (!ok) {
                throw new IllegalStateException("layer " + l + " has KV for " + s.kvLength[l] + " positions; a deep step over "
                        + from + ".." + (from + n - 1) + " from layer " + layer + " needs " + (l < layer ? "at least " + (from + n) : from));
            }
        }
        checkRows(hidden, off, n * c);
        System.arraycopy(hidden, off, s.x, 0, n * c);
        for (int l = 0; l < layer; l++) s.kvLength[l] = from + n;
        s.length = from;
        Rope.tables(invFreq, from, n, s.cos, s.sin);
        s.step = n;
        s.nextLayer = layer;
    }

    /** [k | v] of the step's tokens from s.xn (the normed input) into layer l's cache rows; keys rotated. */
    private void writeKv(DecoderState s, int l) {
        int n = s.step, c = config.hidden(), kvd = config.kvDim(), row = 2 * kvd;
        float[] cache = s.kv[l];
        if (s.kvLength[l] != s.length) {
            throw new IllegalStateException("layer " + l + " has KV for " + s.kvLength[l] + " positions but the step starts at "
                    + s.length);
        }
        Gemm.matmul(s.xn, 0, c, wkv[l], cache, s.length * row, row, n, false);
        float[] b = bkv[l];
        if (b != null) for (int r = 0; r < n; r++) VectorOps.add(b, 0, cache, (s.length + r) * row, row);
        Rope.forward(cache, s.length * row, row, config.kvHeads(), config.headDim(), s.cos, s.sin, 0, n);
        s.kvLength[l] = s.length + n;
    }

    // ----------------------------------------------------------------------------------------------------
    // the shared head, applicable after any layer

    /** The final RMSNorm of step row r's current hidden state into out[off..off+C): what every exit sees. */
    public void finalNorm(DecoderState s, int r, float[] out, int off) {
        checkRow(s, r);
        int c = config.hidden();
        float meanSquare = VectorOps.sumSqDiff(s.x, r * c, c, 0f) / c;
        float rs = (float) (1.0 / Math.sqrt(meanSquare + config.rmsNormEps()));
        VectorOps.scaledProduct(rs, s.x, r * c, weights.finalNorm, 0, out, off, c);
    }

    /**
     * Logits (rows, V) of step rows r0 .. r0+rows−1 from their current hidden states (after however many layers
     * have run) into out at off, row-major: the final norm and the LM head.
     */
    public void logits(DecoderState s, int r0, int rows, float[] out, int off) {
        checkRow(s, r0);
        checkRow(s, r0 + rows - 1);
        int c = config.hidden();
        for (int r = 0; r < rows; r++) finalNorm(s, r0 + r, s.normed, r * c);
        headLogits(s.normed, 0, rows, out, off);
    }

    /** The LM head alone: logits (rows, V) into out at off of already final-normed states (rows, C) at normed[nOff..]. */
    public void headLogits(float[] normed, int nOff, int rows, float[] out, int off) {
        int c = config.hidden();
        checkRows(normed, nOff, rows * c);
        Gemm.matmul(normed, nOff, c, lmHead, out, off, config.vocabSize(), rows, false);
    }

    /** The logits of the step's last token after the layers run so far (a new array of V). */
    public float[] lastLogits(DecoderState s) {
        float[] out = new float[config.vocabSize()];
        logits(s, s.step - 1, 1, out, 0);
        return out;
    }

    // ----------------------------------------------------------------------------------------------------
    // full depth

    /** Runs tokens through every layer as one step and returns the last token's logits (V). */
    public float[] forward(DecoderState s, int[] tokens) {
        begin(s, tokens, 0, tokens.length);
        for (int l = 0; l < config.layers(); l++) layer(s, l);
        float[] out = lastLogits(s);
        finish(s);
        return out;
    }

    /** Runs tokens through every layer as one step and returns every token's logits (n, V). */
    public float[] forwardAll(DecoderState s, int[] tokens) {
        begin(s, tokens, 0, tokens.length);
        for (int l = 0; l < config.layers(); l++) layer(s, l);
        float[] out = new float[tokens.length * config.vocabSize()];
        logits(s, 0, tokens.length, out, 0);
        finish(s);
        return out;
    }

    // ----------------------------------------------------------------------------------------------------

    private void checkState(DecoderState s) {
        if (s.config != config) throw new IllegalArgumentException("this state was made for another model");
    }

    private void checkNext(DecoderState s, int l, String what) {
        checkState(s);
        if (s.step == 0) throw new IllegalStateException("cannot " + what + " layer " + l + ": no step begun");
        if (l != s.nextLayer) {
            throw new IllegalStateException("cannot " + what + " layer " + l + ": layer " + s.nextLayer
                    + " is next (layers go in order; a skipped layer is propagated)");
        }
    }

    private static void checkRow(DecoderState s, int r) {
        if (r < 0 || r >= s.step) throw new IllegalArgumentException("row " + r + " is not in the step of " + s.step + " tokens");
    }

    /** Splits rows over the threads when the pass is large enough to pay for the hand-off. */
    private static void forRows(int rows, int width, Parallel.RangeTask task) {
        if ((long) rows * width < PARALLEL_MIN_FLOATS || Parallel.threads() == 1) task.run(0, rows);
        else Parallel.forRange(rows, task);
    }
}
