package dev.offramp.decoder;

import dev.offramp.kernels.Gemm;
import dev.offramp.kernels.PackedMatrix;
import dev.offramp.kernels.Parallel;
import dev.offramp.kernels.VectorOps;
import dev.offramp.model.ParameterSet;
import dev.offramp.weights.DecoderConfig;
import dev.offramp.weights.DecoderWeights;

import java.util.Arrays;

/**
 * Training forward and backward of a Llama-style decoder on B sequences of T tokens, with an early-exit loss: the
 * LM cross-entropy of every layer's hidden state through the shared final norm and LM head, weighted
 * ({@link ExitWeighting}). The same computation as {@link LlamaDecoder} (which the tests check), keeping every
 * activation backward needs ({@link DecoderActivations}); backward is the forward in exact reverse:
 *
 * <pre>
 *   x0 = E[token]
 *   per layer:  a = RMSNorm(x);  q = rope(a·Wq);  [k | v] = [rope(a·Wk) | a·Wv]
 *               m = x + attention(q, k, v)·Wo                       causal within each sequence, grouped-query
 *               x' = m + (silu(b·Wgate) ⊙ b·Wup)·Wdown,  b = RMSNorm'(m)
 *   exit l:     CE_l = crossEntropy(RMSNorm_final(x_l)·Wlm, next token)   Wlm = Eᵀ when tied
 *   loss = Σ_l w_l·CE_l
 * </pre>
 *
 * Cost of the exits: each costs C·V multiply-adds per token forward and twice that backward, about what one layer
 * of train-lm's default model costs (C·(Q + 2KV + Q) + 3·C·I = 1.35 M against C·V = 1.57 M), so a head on every
 * token at every layer almost doubles the work (measured: a step 1.7× as long as with the last exit alone). With
 * {@code exitRowStride} k > 1 the intermediate exits read every k-th token only (a different k-th at each
 * layer), dividing their cost by k (k = 4: 1.2×); the last exit always reads every token.
 *
 * <p>Options: LayerSkip's layer dropout (Elhoushi et al. 2024) skips layer l for a whole sequence with
 * probability p_l = p_max·(e^{l·ln 2/(L−1)} − 1), rising from 0 at the first layer to p_max at the last (their
 * exponential schedule, without the time curriculum); a skipped layer passes its input through unchanged and
 * gets no gradient from that sequence. Off by default. The masks are a pure function of (seed, step, layer,
 * sequence), so a resumed run draws the same ones.
 *
 * <p>Self-distillation of the exits (off by default): with β > 0 an intermediate exit's target is
 * (1 − β)·onehot(next token) + β·q, q the last exit's softmax in the same forward (or, with distillTop1, the
 * one-hot of its top-1 token: greedy decoding only needs the top-1 to agree), held constant (no gradient flows into
 * q). Early exits are then trained to agree with the full model, which is what a token that leaves early needs for
 * its output to match full-depth decoding, not only to predict the data well.
 *
 * <p>Backward adds into {@link #gradients()}. The trainer re-reads the weights at every forward, so an optimizer
 * may update them in place between steps. One trainer serves one thread; model_type llama only (no q/k/v biases).
 */
public final class DecoderTrainer {
    /** Below this many floats an elementwise pass is not worth waking the other threads for. */
    private static final int PARALLEL_MIN_FLOATS = 1 << 14;

    /**
     * @param exitWeighting how the exits' losses are weighed
     * @param exitRowStride 1: every exit reads every token; k > 1: the intermediate exits read every k-th
     * @param layerDropout  LayerSkip's p_max (0: off)
     * @param seed          layer-dropout seed
     * @param exitDistill   β: the weight of the last exit's distribution in the intermediate exits' targets (0: off)
     * @param distillTop1   the last exit's top-1 token as a one-hot target instead of its whole distribution
     */
    public record Options(ExitWeighting exitWeighting, int exitRowStride, float layerDropout, long seed, float exitDistill,
                          boolean distillTop1) {
        public Options {
            if (exitRowStride < 1) throw new IllegalArgumentException("exitRowStride must be >= 1, got " + exitRowStride);
            if (!(layerDropout >= 0 && layerDropout < 1)) {
                throw new IllegalArgumentException("layerDropout must be in [0, 1), got " + layerDropout);
            }
            if (!(exitDistill >= 0 && exitDistill <= 1)) {
                throw new IllegalArgumentException("exitDistill must be in [0, 1], got " + exitDistill);
            }
        }

        public Options(ExitWeighting exitWeighting, int exitRowStride, float layerDropout, long seed) {
            this(exitWeighting, exitRowStride, layerDropout, seed, 0f, false);
        }

        /** CALM's weights, every token at every exit, no layer dropout, no distillation. */
        public static Options defaults() {
            return new Options(ExitWeighting.LINEAR, 1, 0f, 0L, 0f, false);
        }
    }

    private final DecoderConfig config;
    private final DecoderWeights weights;
    private final Options options;
    private final DecoderGradients grads;
    private final DecoderActivations acts;
    private final int layers, c, qd, kvd, inter, vocab, batch, seq, rows;
    private final double[] exitWeights;   // [L] normalised; index l − 1 for the exit after layer l

    // the forward GEMMs' view of the weights, re-read from `weights` at every forward
    private final PackedMatrix[] wq, wkv, wo, wGateUp, wDown;
    private final PackedMatrix lmHead;    // (C, V): Wlm, or Eᵀ when tied
    private final float[] embeddingsT;    // (C, V) Eᵀ when tied (the packed head's source), else null
    private final float[] dHeadT;         // (C, V) the tied head's gradient over a step, added to dE transposed at the end
    private final float[] kvJoined, gateUpJoined;
    private final float[] cos, sin, negSin;   // (T, HS/2) rotary tables of positions 0..T−1

    // exit heads: (N, ·) scratch shared by the exits, one at a time
    private final float[] normed, rstdFinal, logits, rowLoss;
    private final float[] gathered, dGathered;  // (N, C) the rows an exit reads when it reads a subset
    private final int[] exitRows, exitTargets;
    private final float[] teacher;              // (N, V) the last exit's softmax (or top-1 one-hot) when distilling, else null
    // backward scratch
    private final float[] dx, dDelta, dxn, dq, dkv, datt, dh, dGateUp, dNormed;
    private final float[][] rowScratch, attScratch;   // per thread slot: (C), (T, T)
    private final double[] lastExitLoss;

    public DecoderTrainer(DecoderWeights weights, int batch, int seq, Options options) {
        this.config = weights.config;
        if (config.qkvBias()) {
            throw new IllegalArgumentException("training supports model_type llama without q/k/v biases; got "
                    + config.modelType() + " with biases");
        }
        if (seq > config.maxPositions()) {
            throw new IllegalArgumentException("seq " + seq + " exceeds the model's max_position_embeddings "
                    + config.maxPositions());
        }
        this.weights = weights;
        this.options = options;
        this.layers = config.layers();
        this.c = config.hidden();
        this.qd = config.qDim();
        this.kvd = config.kvDim();
        this.inter = config.intermediate();
        this.vocab = config.vocabSize();
        this.acts = new DecoderActivations(config, batch, seq);
        this.batch = batch;
        this.seq = seq;
        this.rows = acts.rows;
        this.grads = new DecoderGradients(config);
        this.exitWeights = options.exitWeighting().weights(layers);

        wq = new PackedMatrix[layers];
        wkv = new PackedMatrix[layers];
        wo = new PackedMatrix[layers];
        wGateUp = new PackedMatrix[layers];
        wDown = new PackedMatrix[layers];
        kvJoined = new float[c * 2 * kvd];
        gateUpJoined = new float[c * 2 * inter];
        for (int l = 0; l < layers; l++) {
            DecoderWeights.Layer w = weights.layers[l];
            wq[l] = PackedMatrix.pack(w.wq, 0, c, qd);
            wkv[l] = PackedMatrix.pack(kvJoined, 0, c, 2 * kvd);
            wo[l] = PackedMatrix.pack(w.wo, 0, qd, c);
            wGateUp[l] = PackedMatrix.pack(gateUpJoined, 0, c, 2 * inter);
            wDown[l] = PackedMatrix.pack(w.wDown, 0, inter, c);
        }
        embeddingsT = config.tiedEmbeddings() ? new float[c * vocab] : null;
        dHeadT = config.tiedEmbeddings() ? new float[c * vocab] : null;
        lmHead = PackedMatrix.pack(config.tiedEmbeddings() ? embeddingsT : weights.lmHead, 0, c, vocab);

        int half = config.headDim() / 2;
        cos = new float[seq * half];
        sin = new float[seq * half];
        negSin = new float[seq * half];
        Rope.tables(Rope.inverseFrequencies(config), 0, seq, cos, sin);
        for (int i = 0; i < sin.length; i++) negSin[i] = -sin[i];

        normed = new float[rows * c];
        rstdFinal = new float[rows];
        logits = new float[rows * vocab];
        rowLoss = new float[rows];
        gathered = new float[rows * c];
        dGathered = new float[rows * c];
        exitRows = new int[rows];
        exitTargets = new int[rows];
        teacher = options.exitDistill() > 0 ? new float[rows * vocab] : null;
        dx = new float[rows * c];
        dDelta = new float[rows * c];
        dxn = new float[rows * c];
        dq = new float[rows * qd];
        dkv = new float[rows * 2 * kvd];
        datt = new float[rows * qd];
        dh = new float[rows * inter];
        dGateUp = new float[rows * 2 * inter];
        dNormed = new float[rows * c];
        rowScratch = new float[Parallel.threads()][c];
        attScratch = new float[Parallel.threads()][seq * seq];
        lastExitLoss = new double[layers];
    }

    public DecoderConfig config() { return config; }

    public DecoderWeights weights() { return weights; }

    public Options options() { return options; }

    public DecoderGradients gradients() { return grads; }

    /** B: sequences per step. */
    public int batch() { return batch; }

    /** T: tokens per sequence. */
    public int seq() { return seq; }

    /**
     * Adds every tensor to an optimizer's parameter set under its Hugging Face name. Weight decay on matrices and
     * embeddings, none on norm gains.
     */
    public void addParameters(ParameterSet set) {
        set.add("model.embed_tokens.weight", weights.tokenEmbeddings, grads.dTokenEmbeddings, true);
        for (int l = 0; l < layers; l++) {
            DecoderWeights.Layer w = weights.layers[l];
            DecoderGradients.Layer d = grads.layers[l];
            String p = "model.layers." + l + ".";
            set.add(p + "input_layernorm.weight", w.attnNorm, d.dAttnNorm, false);
            set.add(p + "self_attn.q_proj.weight", w.wq, d.dWq, true);
            set.add(p + "self_attn.k_proj.weight", w.wk, d.dWk, true);
            set.add(p + "self_attn.v_proj.weight", w.wv, d.dWv, true);
            set.add(p + "self_attn.o_proj.weight", w.wo, d.dWo, true);
            set.add(p + "post_attention_layernorm.weight", w.mlpNorm, d.dMlpNorm, false);
            set.add(p + "mlp.gate_proj.weight", w.wGate, d.dWGate, true);
            set.add(p + "mlp.up_proj.weight", w.wUp, d.dWUp, true);
            set.add(p + "mlp.down_proj.weight", w.wDown, d.dWDown, true);
        }
        set.add("model.norm.weight", weights.finalNorm, grads.dFinalNorm, false);
        if (weights.lmHead != null) set.add("lm_head.weight", weights.lmHead, grads.dLmHead, true);
    }

    // ====================================================================================================
    // the public steps

    /**
     * One training step: forward over the B·T tokens (row b·T + i is token i of sequence b), the early-exit loss
     * against targets (the next tokens, same layout) and backward, adding into {@link #gradients()}.
     *
     * @param step the optimizer step, which keys the layer-dropout masks
     * @return the weighted loss Σ_l w_l·CE_l (with distillation, CE_l of an intermediate exit is against its soft target)
     */
    public double trainStep(int[] tokens, int[] targets, long step) {
        checkTargets(targets);
        forward(tokens, step);
        Arrays.fill(dx, 0f);
        if (dHeadT != null) Arrays.fill(dHeadT, 0f);
        double loss = exit(layers, targets);
        for (int l = layers - 1; l >= 0; l--) {
            layerBackward(l);
            if (l >= 1 && exitWeights[l - 1] > 0) loss += exit(l, targets);
        }
        embeddingBackward();
        if (dHeadT != null) addTransposed(dHeadT, grads.dTokenEmbeddings, c, vocab);
        return loss;
    }

    /**
     * Forward only, no dropout, every exit on every token: lossPerExit[l − 1] = the mean cross-entropy of the exit
     * after layer l (nats per token). Returns the last layer's.
     */
    public double evaluate(int[] tokens, int[] targets, double[] lossPerExit) {
        return evaluate(tokens, targets, lossPerExit, null);
    }

    /**
     * As {@link #evaluate(int[], int[], double[])}; agreementPerExit, when not null, receives for each exit the fraction
     * of tokens whose top-1 prediction is the last exit's (what an exit must reach for early-exit decoding to match
     * full depth).
     */
    public double evaluate(int[] tokens, int[] targets, double[] lossPerExit, double[] agreementPerExit) {
        checkTargets(targets);
        if (lossPerExit.length != layers || (agreementPerExit != null && agreementPerExit.length != layers)) {
            throw new IllegalArgumentException("lossPerExit and agreementPerExit need " + layers + " entries");
        }
        forward(tokens, -1);
        int[][] top = agreementPerExit == null ? null : new int[layers][rows];
        for (int l = 1; l <= layers; l++) {
            lossPerExit[l - 1] = headLoss(l, targets, 0, 1, false, top == null ? null : top[l - 1]);
        }
        if (top != null) {
            for (int l = 0; l < layers; l++) {
                int same = 0;
                for (int r = 0; r < rows; r++) if (top[l][r] == top[layers - 1][r]) same++;
                agreementPerExit[l] = (double) same / rows;
            }
        }
        return lossPerExit[layers - 1];
    }

    private static int argmax(float[] z, int off, int v) {
        int best = 0;
        for (int j = 1; j < v; j++) if (z[off + j] > z[off + best]) best = j;
        return best;
    }

    /** Each exit's mean cross-entropy in the last {@link #trainStep} (NaN for exits of weight 0 or not computed). */
    public double[] lastExitLosses() {
        return lastExitLoss.clone();
    }

    /** Logits (N, V) after layer l (1..L) of the last forward, through the final norm and the head, into out. */
    public void exitLogits(int l, float[] out) {
        if (l < 1 || l > layers) throw new IllegalArgumentException("layer " + l + " outside 1.." + layers);
        if (out.length < rows * vocab) throw new IllegalArgumentException("out needs N·V = " + rows * vocab + " floats");
        finalNormRows(acts.x[l], rows);
        headForward(rows, out);
    }

    /** The residual stream after layer l (0 = embeddings) of the last forward, (N, C); read-only. */
    public float[] hidden(int l) {
        return acts.x[l];
    }

    /** Runs the layers over tokens (B·T); step >= 0 applies that step's layer dropout, -1 none. */
    public void forward(int[] tokens, long step) {
        if (tokens.length != rows) {
            throw new IllegalArgumentException("this trainer takes B·T = " + batch + "·" + seq + " = " + rows
                    + " tokens per step, got " + tokens.length);
        }
        for (int r = 0; r < rows; r++) {
            if (tokens[r] < 0 || tokens[r] >= vocab) {
                throw new IllegalArgumentException("token id " + tokens[r] + " at " + r + " is outside the vocabulary of " + vocab);
            }
        }
        System.arraycopy(tokens, 0, acts.tokens, 0, rows);
        repack();
        drawLayerDropout(step);
        float[] x0 = acts.x[0], emb = weights.tokenEmbeddings;
        for (int r = 0; r < rows; r++) System.arraycopy(emb, tokens[r] * c, x0, r * c, c);
        for (int l = 0; l < layers; l++) layerForward(l);
    }

    private void checkTargets(int[] targets) {
        if (targets.length != rows) throw new IllegalArgumentException("targets need " + rows + " ids, got " + targets.length);
        for (int r = 0; r < rows; r++) {
            if (targets[r] < 0 || targets[r] >= vocab) {
                throw new IllegalArgumentException("target id " + targets[r] + " at " + r + " is outside the vocabulary of " + vocab);
            }
        }
    }

    private void repack() {
        for (int l = 0; l < layers; l++) {
            DecoderWeights.Layer w = weights.layers[l];
            wq[l].repack(w.wq, 0);
            sideBySide(w.wk, w.wv, kvJoined, c, kvd);
            wkv[l].repack(kvJoined, 0);
            wo[l].repack(w.wo, 0);
            sideBySide(w.wGate, w.wUp, gateUpJoined, c, inter);
            wGateUp[l].repack(gateUpJoined, 0);
            wDown[l].repack(w.wDown, 0);
        }
        if (embeddingsT != null) {
            transpose(weights.tokenEmbeddings, embeddingsT, vocab, c);
            lmHead.repack(embeddingsT, 0);
        } else {
            lmHead.repack(weights.lmHead, 0);
        }
    }

    /** to (cols, rows) = fromᵀ for from (rows, cols); threads split the destination's rows. */
    private static void transpose(float[] from, float[] to, int rows, int cols) {
        Parallel.forRange(cols, (c0, c1) -> {
            for (int r0 = 0; r0 < rows; r0 += 64) {   // 64-row tiles keep the strided reads in cache
                int r1 = Math.min(rows, r0 + 64);
                for (int j = c0; j < c1; j++) for (int r = r0; r < r1; r++) to[j * rows + r] = from[r * cols + j];
            }
        });
    }

    /** [A | B] row by row: (rows, w) and (rows, w) → out (rows, 2w). */
    private static void sideBySide(float[] a, float[] b, float[] out, int rows, int w) {
        for (int r = 0; r < rows; r++) {
            System.arraycopy(a, r * w, out, r * 2 * w, w);
            System.arraycopy(b, r * w, out, r * 2 * w + w, w);
        }
    }

    // ====================================================================================================
    // layer dropout (LayerSkip)

    /** p_l for layer l (0-based): p_max·(e^{l·ln 2/(L−1)} − 1), 0 at the first layer, p_max at the last. */
    public static double layerDropProbability(float pMax, int layer, int layerCount) {
        if (pMax <= 0 || layerCount < 2) return 0;
        return pMax * (Math.exp(layer * Math.log(2) / (layerCount - 1)) - 1);
    }

    /** Whether layer l is skipped for sequence b at this step: a pure function of its arguments. */
    public static boolean layerDropped(long seed, long step, int layer, int sequence, float pMax, int layerCount) {
        double p = layerDropProbability(pMax, layer, layerCount);
        if (p <= 0) return false;
        long z = seed ^ (step * 0x9E3779B97F4A7C15L) ^ ((long) layer * 0xC2B2AE3D27D4EB4FL) ^ ((long) sequence * 0x165667B19E3779F9L);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z ^= z >>> 31;
        return (z >>> 11) * 0x1.0p-53 < p;
    }

    private void drawLayerDropout(long step) {
        for (int l = 0; l < layers; l++) {
            for (int b = 0; b < batch; b++) {
                acts.dropped[l][b] = step >= 0 && layerDropped(options.seed(), step, l, b, options.layerDropout(), layers);
            }
        }
    }

    private boolean anyDropped(int l) {
        for (boolean d : acts.dropped[l]) if (d) return true;
        return false;
    }

    /** Copies the rows of skipped sequences from `from` to `to`: their residual passes the block unchanged. */
    private void restoreDropped(int l, float[] from, float[] to) {
        for (int b = 0; b < batch; b++) {
            if (acts.dropped[l][b]) System.arraycopy(from, b * seq * c, to, b * seq * c, seq * c);
        }
    }

    /** The residual gradient as the block's branch sees it: zero on the rows of skipped sequences. */
    private float[] branchGradient(int l) {
        if (!anyDropped(l)) return dx;
        System.arraycopy(dx, 0, dDelta, 0, rows * c);
        for (int b = 0; b < batch; b++) {
            if (acts.dropped[l][b]) Arrays.fill(dDelta, b * seq * c, (b + 1) * seq * c, 0f);
        }
        return dDelta;
    }

    // ====================================================================================================
    // one layer

    private void layerForward(int l) {
        DecoderActivations a = acts;
        DecoderWeights.Layer w = weights.layers[l];
        float eps = config.rmsNormEps();
        float[] x = a.x[l], xn1 = a.xn1[l], q = a.q[l], kv = a.kv[l], xMid = a.xMid[l], xn2 = a.xn2[l], out = a.x[l + 1];
        float[] rstd1 = a.rstd1[l], rstd2 = a.rstd2[l], gu = a.gateUp[l], h = a.h[l];

        forRows(rows, c, (r0, r1) -> RmsNorm.forward(xn1, rstd1, x, w.attnNorm, r0, r1, c, eps));
        Gemm.matmul(xn1, 0, c, wq[l], q, 0, qd, rows, false);
        Gemm.matmul(xn1, 0, c, wkv[l], kv, 0, 2 * kvd, rows, false);
        Parallel.forRange(batch, (b0, b1) -> {
            for (int b = b0; b < b1; b++) {
                Rope.forward(q, b * seq * qd, qd, config.heads(), config.headDim(), cos, sin, 0, seq);
                Rope.forward(kv, b * seq * 2 * kvd, 2 * kvd, config.kvHeads(), config.headDim(), cos, sin, 0, seq);
            }
        });
        CausalAttention.forwardTraining(a.att[l], a.probs[l], q, kv, batch, seq, config.heads(), config.kvHeads(),
                config.headDim());
        System.arraycopy(x, 0, xMid, 0, rows * c);
        Gemm.matmul(a.att[l], 0, qd, wo[l], xMid, 0, c, rows, true);           // m = x + att·Wo
        if (anyDropped(l)) restoreDropped(l, x, xMid);

        forRows(rows, c, (r0, r1) -> RmsNorm.forward(xn2, rstd2, xMid, w.mlpNorm, r0, r1, c, eps));
        Gemm.matmul(xn2, 0, c, wGateUp[l], gu, 0, 2 * inter, rows, false);
        forRows(rows, 2 * inter, (r0, r1) -> SwiGlu.forward(h, gu, r0, r1, inter));
        System.arraycopy(xMid, 0, out, 0, rows * c);
        Gemm.matmul(h, 0, inter, wDown[l], out, 0, c, rows, true);             // x' = m + h·Wdown
        if (anyDropped(l)) restoreDropped(l, xMid, out);
    }

    /** On entry dx = ∂loss/∂(layer l's output); on exit ∂loss/∂(layer l's input). Parameter gradients added. */
    private void layerBackward(int l) {
        DecoderActivations a = acts;
        DecoderWeights.Layer w = weights.layers[l];
        DecoderGradients.Layer g = grads.layers[l];
        int n = rows;

        // x' = m + h·Wdown: the residual passes dx to m unchanged; the branch sees dx (zero where skipped)
        float[] dOut = branchGradient(l);
        Gemm.gemm(true, false, inter, c, n, a.h[l], 0, inter, dOut, 0, c, g.dWDown, 0, c, true);
        Gemm.gemm(false, true, n, inter, c, dOut, 0, c, w.wDown, 0, c, dh, 0, inter, false);
        float[] gu = a.gateUp[l];
        forRows(n, 2 * inter, (r0, r1) -> SwiGlu.backward(dGateUp, dh, gu, r0, r1, inter));
        Gemm.gemm(true, false, c, inter, n, a.xn2[l], 0, c, dGateUp, 0, 2 * inter, g.dWGate, 0, inter, true);
        Gemm.gemm(true, false, c, inter, n, a.xn2[l], 0, c, dGateUp, inter, 2 * inter, g.dWUp, 0, inter, true);
        Gemm.gemm(false, true, n, c, inter, dGateUp, 0, 2 * inter, w.wGate, 0, inter, dxn, 0, c, false);
        Gemm.gemm(false, true, n, c, inter, dGateUp, inter, 2 * inter, w.wUp, 0, inter, dxn, 0, c, true);
        normBackward(dx, dxn, a.xMid[l], a.rstd2[l], w.mlpNorm, g.dMlpNorm, n);

        // m = x + attention·Wo
        dOut = branchGradient(l);
        Gemm.gemm(true, false, qd, c, n, a.att[l], 0, qd, dOut, 0, c, g.dWo, 0, c, true);
        Gemm.gemm(false, true, n, qd, c, dOut, 0, c, w.wo, 0, c, datt, 0, qd, false);
        Arrays.fill(dq, 0f);
        Arrays.fill(dkv, 0f);
        CausalAttention.backward(dq, dkv, datt, a.probs[l], a.q[l], a.kv[l], batch, seq, config.heads(),
                config.kvHeads(), config.headDim(), attScratch);
        Parallel.forRange(batch, (b0, b1) -> {
            for (int b = b0; b < b1; b++) {
                Rope.backward(dq, b * seq * qd, qd, config.heads(), config.headDim(), cos, negSin, 0, seq);
                Rope.backward(dkv, b * seq * 2 * kvd, 2 * kvd, config.kvHeads(), config.headDim(), cos, negSin, 0, seq);
            }
        });
        float[] xn1 = a.xn1[l];
        Gemm.gemm(true, false, c, qd, n, xn1, 0, c, dq, 0, qd, g.dWq, 0, qd, true);
        Gemm.gemm(true, false, c, kvd, n, xn1, 0, c, dkv, 0, 2 * kvd, g.dWk, 0, kvd, true);
        Gemm.gemm(true, false, c, kvd, n, xn1, 0, c, dkv, kvd, 2 * kvd, g.dWv, 0, kvd, true);
        Gemm.gemm(false, true, n, c, qd, dq, 0, qd, w.wq, 0, qd, dxn, 0, c, false);
        Gemm.gemm(false, true, n, c, kvd, dkv, 0, 2 * kvd, w.wk, 0, kvd, dxn, 0, c, true);
        Gemm.gemm(false, true, n, c, kvd, dkv, kvd, 2 * kvd, w.wv, 0, kvd, dxn, 0, c, true);
        normBackward(dx, dxn, a.x[l], a.rstd1[l], w.attnNorm, g.dAttnNorm, n);
    }

    /** dIn += RMSNorm backward of dOut (rows [0, n)); dWeight += its gain gradient. */
    private void normBackward(float[] dIn, float[] dOut, float[] in, float[] rstd, float[] weight, float[] dWeight, int n) {
        forSlots(n, c, (slot, r0, r1) -> RmsNorm.backward(dIn, dOut, in, rstd, weight, r0, r1, c, rowScratch[slot]));
        if ((long) n * c < PARALLEL_MIN_FLOATS) RmsNorm.backwardWeight(dWeight, dOut, in, rstd, 0, n, 0, c, c);
        else Parallel.forRange(c, (c0, c1) -> RmsNorm.backwardWeight(dWeight, dOut, in, rstd, 0, n, c0, c1, c));
    }

    private void embeddingBackward() {
        float[] dE = grads.dTokenEmbeddings;
        int[] tokens = acts.tokens;
        // scatter-add by id: rows collide (repeated ids), columns never do, so threads split the columns
        Parallel.forRange(c, (c0, c1) -> {
            for (int r = 0; r < rows; r++) {
                int e = tokens[r] * c, o = r * c;
                for (int j = c0; j < c1; j++) dE[e + j] += dx[o + j];
            }
        });
    }

    // ====================================================================================================
    // the exits: shared final norm + LM head + cross-entropy

    /** The exit after layer l in training: its loss times its weight, gradients into dx and the head. */
    private double exit(int l, int[] targets) {
        double w = exitWeights[l - 1];
        if (w <= 0) {
            lastExitLoss[l - 1] = Double.NaN;
            return 0;
        }
        int stride = l == layers ? 1 : options.exitRowStride();
        double loss = headLoss(l, targets, w, stride, true, null);
        lastExitLoss[l - 1] = loss;
        return w * loss;
    }

    /**
     * Mean cross-entropy of the exit after layer l over its rows (every row, or with stride k the rows r ≡ l mod k);
     * with train, the gradient of weight·loss goes into dx and the head's parameters; top, when not null, receives
     * each row's top-1 token (not with distillation's soft targets, which only training uses).
     */
    private double headLoss(int l, int[] targets, double weight, int stride, boolean train, int[] top) {
        float[] x = acts.x[l];
        int m;
        float[] src;
        int[] tgt;
        if (stride == 1) {
            m = rows;
            src = x;
            tgt = targets;
        } else {
            m = 0;
            for (int r = Math.floorMod(l, stride); r < rows; r += stride) {
                exitRows[m] = r;
                exitTargets[m] = targets[r];
                System.arraycopy(x, r * c, gathered, m * c, c);
                m++;
            }
            src = gathered;
            tgt = exitTargets;
        }
        int count = m;
        finalNormRows(src, count);
        headForward(count, logits);
        float scale = (float) (weight / count);
        boolean last = l == layers;
        if (train && last && teacher != null) {   // the last exit reads every row: row r of logits is token r
            System.arraycopy(logits, 0, teacher, 0, rows * vocab);
            forRows(rows, vocab, (r0, r1) -> {
                for (int r = r0; r < r1; r++) {
                    if (options.distillTop1()) oneHotOfArgmax(teacher, r * vocab, vocab);
                    else softmaxRow(teacher, r * vocab, vocab);
                }
            });
        }
        if (train && !last && teacher != null) {
            float beta = options.exitDistill();
            forRows(count, vocab, (r0, r1) -> {
                for (int r = r0; r < r1; r++) {
                    int token = stride == 1 ? r : exitRows[r];
                    rowLoss[r] = softCrossEntropyRow(logits, r * vocab, vocab, tgt[r], teacher, token * vocab, beta, scale);
                }
            });
        } else {
            forRows(count, vocab, (r0, r1) -> {
                for (int r = r0; r < r1; r++) {
                    if (top != null) top[r] = argmax(logits, r * vocab, vocab);   // before the row becomes exponentials
                    rowLoss[r] = crossEntropyRow(logits, r * vocab, vocab, tgt[r], train ? scale : 0f);
                }
            });
        }
        double sum = 0;
        for (int r = 0; r < count; r++) sum += rowLoss[r];
        if (train) headBackward(src, count, stride == 1 ? null : exitRows);
        return sum / count;
    }

    /** normed (m, C) and rstdFinal = the final RMSNorm of rows [0, m) of src. */
    private void finalNormRows(float[] src, int m) {
        float eps = config.rmsNormEps();
        forRows(m, c, (r0, r1) -> RmsNorm.forward(normed, rstdFinal, src, weights.finalNorm, r0, r1, c, eps));
    }

    /** out (m, V) = normed · Wlm. */
    private void headForward(int m, float[] out) {
        Gemm.matmul(normed, 0, c, lmHead, out, 0, vocab, m, false);
    }

    /** to (cols, rows) += fromᵀ for from (rows, cols). */
    private static void addTransposed(float[] from, float[] to, int rows, int cols) {
        Parallel.forRange(cols, (c0, c1) -> {
            for (int r0 = 0; r0 < rows; r0 += 64) {
                int r1 = Math.min(rows, r0 + 64);
                for (int j = c0; j < c1; j++) for (int r = r0; r < r1; r++) to[j * rows + r] += from[r * cols + j];
            }
        });
    }

    /**
     * −log softmax(row)[target]; with gradScale ≠ 0 the row is replaced by gradScale·(softmax − onehot(target)),
     * the gradient of gradScale·loss.
     */
    public static float crossEntropyRow(float[] z, int off, int v, int target, float gradScale) {
        float max = VectorOps.max(z, off, v);
        float logit = z[off + target];
        float sum = VectorOps.expSub(z, off, v, max);
        float loss = (float) (Math.log(sum) + max - logit);
        if (gradScale != 0f) {
            VectorOps.scale(gradScale / sum, z, off, v);
            z[off + target] -= gradScale;
        }
        return loss;
    }

    /**
     * Cross-entropy against the soft target t = (1 − β)·onehot(target) + β·q (q a distribution at qOff), that is
     * (1 − β)·(lse − z_target) + β·(lse − q·z) with lse = log Σ e^z; with gradScale ≠ 0 the row is replaced by
     * gradScale·(softmax − t), the gradient of gradScale·loss (q held constant).
     */
    static float softCrossEntropyRow(float[] z, int off, int v, int target, float[] q, int qOff, float beta, float gradScale) {
        float max = VectorOps.max(z, off, v);
        float logit = z[off + target];
        float qz = VectorOps.dot(q, qOff, z, off, v);
        float sum = VectorOps.expSub(z, off, v, max);
        float lse = (float) (Math.log(sum) + max);
        float loss = (1 - beta) * (lse - logit) + beta * (lse - qz);
        if (gradScale != 0f) {
            VectorOps.scale(gradScale / sum, z, off, v);
            z[off + target] -= gradScale * (1 - beta);
            VectorOps.axpy(-gradScale * beta, q, qOff, z, off, v);
        }
        return loss;
    }

    /** The row replaced by the one-hot vector of its largest entry. */
    static void oneHotOfArgmax(float[] z, int off, int v) {
        int best = argmax(z, off, v);
        Arrays.fill(z, off, off + v, 0f);
        z[off + best] = 1f;
    }

    /** The row replaced by its softmax. */
    static void softmaxRow(float[] z, int off, int v) {
        float max = VectorOps.max(z, off, v);
        float sum = VectorOps.expSub(z, off, v, max);
        VectorOps.scale(1f / sum, z, off, v);
    }

    /** Backward of the head from dlogits (in logits, m rows): head gradients, then dx (rows scattered if given). */
    private void headBackward(float[] src, int m, int[] rowIndex) {
        // (C, V) = normedᵀ·dlogits: for a tied head into dHeadT, added to dE once per step (a (V, C) product here
        // would read dlogits column-wise, ~30 % slower)
        Gemm.gemm(true, false, c, vocab, m, normed, 0, c, logits, 0, vocab, dHeadT != null ? dHeadT : grads.dLmHead, 0,
                vocab, true);
        if (dHeadT == null) {
            Gemm.gemm(false, true, m, c, vocab, logits, 0, vocab, weights.lmHead, 0, vocab, dNormed, 0, c, false);
        } else {
            Gemm.gemm(false, false, m, c, vocab, logits, 0, vocab, weights.tokenEmbeddings, 0, c, dNormed, 0, c, false);
        }
        if (rowIndex == null) {
            normBackward(dx, dNormed, src, rstdFinal, weights.finalNorm, grads.dFinalNorm, m);
            return;
        }
        Arrays.fill(dGathered, 0, m * c, 0f);
        normBackward(dGathered, dNormed, src, rstdFinal, weights.finalNorm, grads.dFinalNorm, m);
        for (int i = 0; i < m; i++) {
            VectorOps.add(dGathered, i * c, dx, rowIndex[i] * c, c);
        }
    }

    // ====================================================================================================

    /** Splits rows over the threads when the pass is large enough to pay for the hand-off. */
    private static void forRows(int n, int width, Parallel.RangeTask task) {
        if ((long) n * width < PARALLEL_MIN_FLOATS || Parallel.threads() == 1) task.run(0, n);
        else Parallel.forRange(n, task);
    }

    @FunctionalInterface
    private interface SlotTask {
        void run(int slot, int r0, int r1);
    }

    /** As forRows, telling each chunk its slot so it can use that slot's scratch. */
    private static void forSlots(int n, int width, SlotTask task) {
        int slots = (long) n * width < PARALLEL_MIN_FLOATS ? 1 : Math.min(Parallel.threads(), n);
        if (slots == 1) {
            task.run(0, 0, n);
            return;
        }
        Parallel.forRange(slots, (s0, s1) -> {
            for (int s = s0; s < s1; s++) task.run(s, (int) ((long) n * s / slots), (int) ((long) n * (s + 1) / slots));
        });
    }
}
