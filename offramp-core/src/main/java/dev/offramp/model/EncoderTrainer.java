package dev.offramp.model;

import dev.offramp.kernels.Gemm;
import dev.offramp.kernels.PackedMatrix;
import dev.offramp.kernels.Parallel;
import dev.offramp.tokenizer.Encoding;
import dev.offramp.weights.BertConfig;
import dev.offramp.weights.BertWeights;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;
import java.util.List;

/**
 * Training forward and backward of a BERT encoder on a ragged batch (sample b owns token rows
 * [offset(b), offset(b) + length(b)), no padding). The same computation as {@link BertEncoder}, plus dropout,
 * keeping every activation backward needs ({@link TrainingStep}); backward is the forward in exact reverse:
 *
 * <pre>
 *   x0 = drop(LN(word[id] + position[p] + type[s]))
 *   per layer:  qkv = x·Wqkv + bqkv
 *               c   = drop(softmax(q·kᵀ/√d))·v                per sample and head
 *               h1  = LN1(drop(c·Wo + bo) + x)
 *               x'  = LN2(drop(gelu(h1·Win + bin)·Wout + bout) + h1)
 * </pre>
 *
 * Backward adds into {@link #gradients()} (zero them between steps, or not, to accumulate). The exits read
 * every layer, so backward takes a loss gradient for each layer's output and adds them in as it walks down.
 * Frozen parts (the embeddings, the first k layers) get no parameter gradients, and backward stops at the
 * lowest trainable part. All buffers grow to the largest batch seen and are reused: a steady-state step
 * allocates nothing. One trainer serves one thread.
 *
 * <p>The trainer re-reads the weights at every forward, so an optimizer may update them in place between
 * steps; an inference {@link BertEncoder} built on the same {@link BertWeights} must then call
 * {@link BertEncoder#repack()} before it sees the new values.
 *
 * <p>Memory: about (10H + 2I)·N floats of activations per layer plus NH·Σ T_b² probabilities; for bge-small at
 * 32 × 64 tokens that is ≈ 0.7 GB for the 12 layers.
 */
public final class EncoderTrainer {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** Below this many floats an elementwise pass is not worth waking the other threads for. */
    private static final int PARALLEL_MIN_FLOATS = 1 << 14;

    /**
     * @param hiddenDropout    after the embeddings, the attention output projection and the FFN (BERT: 0.1)
     * @param attentionDropout on the attention probabilities (BERT: 0.1)
     * @param seed             dropout seed: the same seed, weights and batches give the same run
     * @param freezeEmbeddings no gradients for the embedding tables and their LayerNorm
     * @param frozenLayers     no gradients for layers 1..frozenLayers (0: all layers train)
     */
    public record Options(float hiddenDropout, float attentionDropout, long seed, boolean freezeEmbeddings,
                          int frozenLayers) {
        public Options {
            Dropout.checkProbability("hiddenDropout", hiddenDropout);
            Dropout.checkProbability("attentionDropout", attentionDropout);
            if (frozenLayers < 0) throw new IllegalArgumentException("frozenLayers must be >= 0, got " + frozenLayers);
        }

        /** BERT's dropout (0.1 and 0.1), everything trainable. */
        public static Options defaults(long seed) {
            return new Options(0.1f, 0.1f, seed, false, 0);
        }

        /** No dropout, everything trainable. */
        public static Options noDropout() {
            return new Options(0f, 0f, 0L, false, 0);
        }
    }

    private final BertConfig config;
    private final BertWeights weights;
    private final Options options;
    private final EncoderGradients grads;
    private final TrainingStep step;
    private final int hidden, inter, layerCount;

    // the weights as the forward GEMMs read them: re-read from `weights` at every forward (an optimizer may
    // have changed them)
    private final PackedMatrix[] wqkvPacked, woPacked, wInPacked, wOutPacked;
    private final float[][] wqkv;  // [L] (H, 3H) [Wq | Wk | Wv] side by side, for the backward dX GEMM
    private final float[][] bqkv;  // [L] (3H)

    // backward scratch, (N, ·), grown with the batch
    private float[] dOut = new float[0];    // (N, H) ∂loss/∂(current layer's output), then of its input
    private float[] dH1 = new float[0];     // (N, H) ∂loss/∂h1
    private float[] dTmp = new float[0];    // (N, H) a gradient after a dropout mask
    private float[] dCtx = new float[0];    // (N, H)
    private float[] dQkv = new float[0];    // (N, 3H)
    private float[] dFfnAct = new float[0]; // (N, I)
    private float[] dFfnPre = new float[0]; // (N, I)
    private final float[] dWqkv;            // (H, 3H) the fused Q/K/V weight gradient of one layer
    private float[][] attScratch = new float[0][]; // per slot 2·Tmax²
    private long stepsTaken;                // training forwards so far: the dropout step counter

    public EncoderTrainer(BertWeights weights, Options options) {
        this.weights = weights;
        this.config = weights.config;
        this.options = options;
        this.hidden = config.hidden();
        this.inter = config.intermediate();
        this.layerCount = config.layers();
        if (options.frozenLayers() > layerCount) {
            throw new IllegalArgumentException("frozenLayers " + options.frozenLayers() + " exceeds the model's "
                    + layerCount + " layers");
        }
        this.grads = new EncoderGradients(config);
        this.step = new TrainingStep(config);
        wqkvPacked = new PackedMatrix[layerCount];
        woPacked = new PackedMatrix[layerCount];
        wInPacked = new PackedMatrix[layerCount];
        wOutPacked = new PackedMatrix[layerCount];
        wqkv = new float[layerCount][3 * hidden * hidden];
        bqkv = new float[layerCount][3 * hidden];
        dWqkv = new float[3 * hidden * hidden];
        for (int l = 0; l < layerCount; l++) {
            BertWeights.Layer w = weights.layers[l];
            wqkvPacked[l] = PackedMatrix.pack(wqkv[l], 0, hidden, 3 * hidden);
            woPacked[l] = PackedMatrix.pack(w.wo, 0, hidden, hidden);
            wInPacked[l] = PackedMatrix.pack(w.wIn, 0, hidden, inter);
            wOutPacked[l] = PackedMatrix.pack(w.wOut, 0, inter, hidden);
        }
    }

    public BertConfig config() { return config; }

    public BertWeights weights() { return weights; }

    public Options options() { return options; }

    public EncoderGradients gradients() { return grads; }

    public void zeroGradients() { grads.zero(); }

    /**
     * Adds every trainable encoder tensor (frozen ones left out) to an optimizer's parameter set, named as in
     * Hugging Face checkpoints. Weight decay on matrices and embeddings, none on biases and LayerNorm.
     */
    public void addParameters(ParameterSet set) {
        EncoderGradients g = grads;
        BertWeights w = weights;
        if (!options.freezeEmbeddings()) {
            set.add("embeddings.word_embeddings", w.wordEmbeddings, g.dWordEmbeddings, true);
            set.add("embeddings.position_embeddings", w.positionEmbeddings, g.dPositionEmbeddings, true);
            set.add("embeddings.token_type_embeddings", w.tokenTypeEmbeddings, g.dTokenTypeEmbeddings, true);
            set.add("embeddings.LayerNorm.weight", w.embLnGamma, g.dEmbLnGamma, false);
            set.add("embeddings.LayerNorm.bias", w.embLnBeta, g.dEmbLnBeta, false);
        }
        for (int l = options.frozenLayers(); l < layerCount; l++) {
            BertWeights.Layer p = w.layers[l];
            EncoderGradients.Layer d = g.layers[l];
            String n = "encoder.layer." + l + ".";
            set.add(n + "attention.self.query.weight", p.wq, d.dWq, true);
            set.add(n + "attention.self.query.bias", p.bq, d.dbq, false);
            set.add(n + "attention.self.key.weight", p.wk, d.dWk, true);
            set.add(n + "attention.self.key.bias", p.bk, d.dbk, false);
            set.add(n + "attention.self.value.weight", p.wv, d.dWv, true);
            set.add(n + "attention.self.value.bias", p.bv, d.dbv, false);
            set.add(n + "attention.output.dense.weight", p.wo, d.dWo, true);
            set.add(n + "attention.output.dense.bias", p.bo, d.dbo, false);
            set.add(n + "attention.output.LayerNorm.weight", p.ln1Gamma, d.dLn1Gamma, false);
            set.add(n + "attention.output.LayerNorm.bias", p.ln1Beta, d.dLn1Beta, false);
            set.add(n + "intermediate.dense.weight", p.wIn, d.dWIn, true);
            set.add(n + "intermediate.dense.bias", p.bIn, d.dbIn, false);
            set.add(n + "output.dense.weight", p.wOut, d.dWOut, true);
            set.add(n + "output.dense.bias", p.bOut, d.dbOut, false);
            set.add(n + "output.LayerNorm.weight", p.ln2Gamma, d.dLn2Gamma, false);
            set.add(n + "output.LayerNorm.bias", p.ln2Beta, d.dLn2Beta, false);
        }
    }

    /** The dropout site numbers: 0 the embeddings, then three per layer. */
    static int site(int layer, int which) {
        return 1 + 3 * layer + which;
    }

    static final int SITE_ATTENTION = 0, SITE_ATTENTION_OUTPUT = 1, SITE_FFN_OUTPUT = 2;

    // ====================================================================================================
    // forward

    /**
     * Runs the encoder on a batch, keeping what backward needs. train = true turns dropout on (if the options
     * have any) and advances the dropout step. The returned step is this trainer's, valid until the next call.
     */
    public TrainingStep forward(List<Encoding> batch, boolean train) {
        if (batch.isEmpty()) throw new IllegalArgumentException("empty batch");
        load(batch);
        TrainingStep s = step;
        s.train = train;
        s.dropoutStep = train ? stepsTaken++ : -1;
        repackWeights();
        embeddingsForward(s);
        for (int l = 0; l < layerCount; l++) layerForward(s, l);
        return s;
    }

    private void load(List<Encoding> batch) {
        int b = batch.size(), n = 0, tmax = 0;
        long att = 0;
        for (int i = 0; i < b; i++) {
            Encoding e = batch.get(i);
            BertEncoder.checkInput(config, e, "input " + i);
            n += e.length();
            tmax = Math.max(tmax, e.length());
            att += (long) config.heads() * e.length() * e.length();
        }
        if (att > Integer.MAX_VALUE - 16) throw new IllegalArgumentException("batch too large: " + att + " attention probabilities per layer");
        TrainingStep s = step;
        s.ensureCapacity(b, n, (int) att);
        s.size = b;
        s.tokens = n;
        s.maxLength = tmax;
        s.attTotal = (int) att;
        int off = 0, aOff = 0;
        for (int i = 0; i < b; i++) {
            Encoding e = batch.get(i);
            int t = e.length();
            s.offset[i] = off;
            s.length[i] = t;
            s.attOffset[i] = aOff;
            System.arraycopy(e.ids(), 0, s.ids, off, t);
            System.arraycopy(e.typeIds(), 0, s.typeIds, off, t);
            for (int p = 0; p < t; p++) s.positions[off + p] = p;
            off += t;
            aOff += config.heads() * t * t;
        }
        ensureScratch(n, tmax);
    }

    private void ensureScratch(int n, int tmax) {
        if (dOut.length < n * hidden) {
            int cap = n + n / 4;
            dOut = new float[cap * hidden];
            dH1 = new float[cap * hidden];
            dTmp = new float[cap * hidden];
            dCtx = new float[cap * hidden];
            dQkv = new float[cap * 3 * hidden];
            dFfnAct = new float[cap * inter];
            dFfnPre = new float[cap * inter];
        }
        int slots = Parallel.threads();
        int need = 2 * tmax * tmax;
        if (attScratch.length < slots || attScratch[0].length < need) {
            attScratch = new float[slots][];
            for (int i = 0; i < slots; i++) attScratch[i] = new float[Math.max(need, 64)];
        }
    }

    private void repackWeights() {
        int h = hidden;
        for (int l = 0; l < layerCount; l++) {
            BertWeights.Layer w = weights.layers[l];
            float[] f = wqkv[l];
            for (int r = 0; r < h; r++) {
                System.arraycopy(w.wq, r * h, f, r * 3 * h, h);
                System.arraycopy(w.wk, r * h, f, r * 3 * h + h, h);
                System.arraycopy(w.wv, r * h, f, r * 3 * h + 2 * h, h);
            }
            System.arraycopy(w.bq, 0, bqkv[l], 0, h);
            System.arraycopy(w.bk, 0, bqkv[l], h, h);
            System.arraycopy(w.bv, 0, bqkv[l], 2 * h, h);
            wqkvPacked[l].repack(f, 0);
            woPacked[l].repack(w.wo, 0);
            wInPacked[l].repack(w.wIn, 0);
            wOutPacked[l].repack(w.wOut, 0);
        }
    }

    private float hiddenDropout(TrainingStep s) {
        return s.train ? options.hiddenDropout() : 0f;
    }

    private float attentionDropout(TrainingStep s) {
        return s.train ? options.attentionDropout() : 0f;
    }

    private long key(TrainingStep s, int site) {
        return Dropout.key(options.seed(), s.dropoutStep, site);
    }

    // ----------------------------------------------------------------------------------------------------
    // embeddings: x0 = drop(LN(word[id] + position[p] + type[s]))

    private void embeddingsForward(TrainingStep s) {
        int h = hidden, n = s.tokens;
        float[] sum = s.embSum, out = s.output[0];
        float p = hiddenDropout(s);
        long key = key(s, 0);
        float[] word = weights.wordEmbeddings, pos = weights.positionEmbeddings, type = weights.tokenTypeEmbeddings;
        forRows(n, h, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int o = r * h, wr = s.ids[r] * h, pr = s.positions[r] * h, tr = s.typeIds[r] * h;
                for (int c = 0; c < h; c++) sum[o + c] = word[wr + c] + pos[pr + c] + type[tr + c];
            }
            LayerNorm.forward(out, s.embMean, s.embRstd, sum, weights.embLnGamma, weights.embLnBeta, r0, r1, h,
                    config.layerNormEps());
            if (p > 0f) Dropout.forward(out, out, r0 * h, r1 * h, p, key);
        });
    }

    private void embeddingsBackward(TrainingStep s) {
        int h = hidden, n = s.tokens;
        float p = hiddenDropout(s);
        long key = key(s, 0);
        float[] dLn = dOut;
        if (p > 0f) {
            Arrays.fill(dTmp, 0, n * h, 0f);
            forRows(n, h, (r0, r1) -> Dropout.backward(dTmp, dOut, r0 * h, r1 * h, p, key));
            dLn = dTmp;
        }
        float[] dLnOut = dLn;
        float[] dSum = dH1; // free at this point
        Arrays.fill(dSum, 0, n * h, 0f);
        forRows(n, h, (r0, r1) -> LayerNorm.backward(dSum, null, null, dLnOut, s.embSum, s.embMean, s.embRstd,
                weights.embLnGamma, r0, r1, h));
        EncoderGradients g = grads;
        // scatter-add by id: rows collide (repeated ids), columns never do, so threads split the columns
        Parallel.forRange(h, (c0, c1) -> {
            LayerNorm.backwardGammaBeta(g.dEmbLnGamma, g.dEmbLnBeta, dLnOut, s.embSum, s.embMean, s.embRstd,
                    0, n, c0, c1, h);
            for (int r = 0; r < n; r++) {
                int o = r * h, wr = s.ids[r] * h, pr = s.positions[r] * h, tr = s.typeIds[r] * h;
                for (int c = c0; c < c1; c++) {
                    float d = dSum[o + c];
                    g.dWordEmbeddings[wr + c] += d;
                    g.dPositionEmbeddings[pr + c] += d;
                    g.dTokenTypeEmbeddings[tr + c] += d;
                }
            }
        });
    }

    // ----------------------------------------------------------------------------------------------------
    // one transformer layer

    private void layerForward(TrainingStep s, int l) {
        TrainingStep.Layer a = s.layers[l];
        BertWeights.Layer w = weights.layers[l];
        int n = s.tokens, h = hidden, in = inter;
        float eps = config.layerNormEps();
        float ph = hiddenDropout(s);
        float[] x = s.output[l];

        Gemm.matmul(x, 0, h, wqkvPacked[l], a.qkv, 0, 3 * h, n, false);
        float[] bias = bqkv[l];
        forRows(n, 3 * h, (r0, r1) -> addBias(a.qkv, bias, r0, r1, 3 * h));
        Attention.forwardTraining(a.ctx, a.att, s.attOffset, a.qkv, s.offset, s.length, s.size, h, config.heads(),
                attentionDropout(s), key(s, site(l, SITE_ATTENTION)), attScratch);

        // h1 = LN1(drop(ctx·Wo + bo) + x)
        Gemm.matmul(a.ctx, 0, h, woPacked[l], a.ln1In, 0, h, n, false);
        long k1 = key(s, site(l, SITE_ATTENTION_OUTPUT));
        forRows(n, h, (r0, r1) -> {
            biasDropoutResidual(a.ln1In, w.bo, x, r0, r1, h, ph, k1);
            LayerNorm.forward(a.h1, a.ln1Mean, a.ln1Rstd, a.ln1In, w.ln1Gamma, w.ln1Beta, r0, r1, h, eps);
        });

        // x' = LN2(drop(gelu(h1·Win + bin)·Wout + bout) + h1)
        Gemm.matmul(a.h1, 0, h, wInPacked[l], a.ffnPre, 0, in, n, false);
        forRows(n, in, (r0, r1) -> {
            addBias(a.ffnPre, w.bIn, r0, r1, in);
            Gelu.forward(a.ffnAct, a.ffnPre, r0 * in, r1 * in, config.activation());
        });
        Gemm.matmul(a.ffnAct, 0, in, wOutPacked[l], a.ln2In, 0, h, n, false);
        long k2 = key(s, site(l, SITE_FFN_OUTPUT));
        float[] out = s.output[l + 1];
        forRows(n, h, (r0, r1) -> {
            biasDropoutResidual(a.ln2In, w.bOut, a.h1, r0, r1, h, ph, k2);
            LayerNorm.forward(out, a.ln2Mean, a.ln2Rstd, a.ln2In, w.ln2Gamma, w.ln2Beta, r0, r1, h, eps);
        });
    }

    /**
     * Backward of layer l: on entry dOut holds ∂loss/∂(layer output); on exit (if propagate) ∂loss/∂(layer
     * input). params = false skips this layer's parameter gradients (frozen).
     */
    private void layerBackward(TrainingStep s, int l, boolean params, boolean propagate) {
        TrainingStep.Layer a = s.layers[l];
        BertWeights.Layer w = weights.layers[l];
        EncoderGradients.Layer g = grads.layers[l];
        int n = s.tokens, h = hidden, in = inter;
        float ph = hiddenDropout(s);
        float[] x = s.output[l];

        // x' = LN2(ln2In), ln2In = drop(ffnAct·Wout + bout) + h1: the residual hands dLn2In to h1 unchanged
        Arrays.fill(dH1, 0, n * h, 0f);
        forRows(n, h, (r0, r1) -> LayerNorm.backward(dH1, null, null, dOut, a.ln2In, a.ln2Mean, a.ln2Rstd,
                w.ln2Gamma, r0, r1, h));
        if (params) layerNormParams(g.dLn2Gamma, g.dLn2Beta, dOut, a.ln2In, a.ln2Mean, a.ln2Rstd, n);
        float[] dDown = dropoutBackward(dH1, n, ph, key(s, site(l, SITE_FFN_OUTPUT)));
        if (params) {
            biasBackward(g.dbOut, dDown, 0, h, n, h);
            Gemm.gemm(true, false, in, h, n, a.ffnAct, 0, in, dDown, 0, h, g.dWOut, 0, h, true);
        }
        Gemm.gemm(false, true, n, in, h, dDown, 0, h, w.wOut, 0, h, dFfnAct, 0, in, false);

        // ffnAct = gelu(ffnPre), ffnPre = h1·Win + bin
        Arrays.fill(dFfnPre, 0, n * in, 0f);
        forRows(n, in, (r0, r1) -> Gelu.backward(dFfnPre, dFfnAct, a.ffnPre, r0 * in, r1 * in, config.activation()));
        if (params) {
            biasBackward(g.dbIn, dFfnPre, 0, in, n, in);
            Gemm.gemm(true, false, h, in, n, a.h1, 0, h, dFfnPre, 0, in, g.dWIn, 0, in, true);
        }
        Gemm.gemm(false, true, n, h, in, dFfnPre, 0, in, w.wIn, 0, in, dH1, 0, h, true);

        // h1 = LN1(ln1In), ln1In = drop(ctx·Wo + bo) + x: from here on dOut is ∂loss/∂x
        Arrays.fill(dOut, 0, n * h, 0f);
        forRows(n, h, (r0, r1) -> LayerNorm.backward(dOut, null, null, dH1, a.ln1In, a.ln1Mean, a.ln1Rstd,
                w.ln1Gamma, r0, r1, h));
        if (params) layerNormParams(g.dLn1Gamma, g.dLn1Beta, dH1, a.ln1In, a.ln1Mean, a.ln1Rstd, n);
        float[] dProj = dropoutBackward(dOut, n, ph, key(s, site(l, SITE_ATTENTION_OUTPUT)));
        if (params) {
            biasBackward(g.dbo, dProj, 0, h, n, h);
            Gemm.gemm(true, false, h, h, n, a.ctx, 0, h, dProj, 0, h, g.dWo, 0, h, true);
        }
        Gemm.gemm(false, true, n, h, h, dProj, 0, h, w.wo, 0, h, dCtx, 0, h, false);

        // attention, then qkv = x·Wqkv + bqkv
        Arrays.fill(dQkv, 0, n * 3 * h, 0f);
        Attention.backward(dQkv, dCtx, a.qkv, a.att, s.attOffset, s.offset, s.length, s.size, h, config.heads(),
                attentionDropout(s), key(s, site(l, SITE_ATTENTION)), attScratch);
        if (params) {
            biasBackward(g.dbq, dQkv, 0, 3 * h, n, h);
            biasBackward(g.dbk, dQkv, h, 3 * h, n, h);
            biasBackward(g.dbv, dQkv, 2 * h, 3 * h, n, h);
            // one (H, 3H) GEMM rather than three (H, H): xᵀ is packed once; then split into dWq, dWk, dWv
            Gemm.gemm(true, false, h, 3 * h, n, x, 0, h, dQkv, 0, 3 * h, dWqkv, 0, 3 * h, false);
            Parallel.RangeTask split = (r0, r1) -> {
                for (int r = r0; r < r1; r++) {
                    addRow(g.dWq, r * h, dWqkv, r * 3 * h, h);
                    addRow(g.dWk, r * h, dWqkv, r * 3 * h + h, h);
                    addRow(g.dWv, r * h, dWqkv, r * 3 * h + 2 * h, h);
                }
            };
            forRows(h, 3 * h, split);
        }
        if (propagate) Gemm.gemm(false, true, n, h, 3 * h, dQkv, 0, 3 * h, wqkv[l], 0, 3 * h, dOut, 0, h, true);
    }

    // ====================================================================================================
    // backward

    /**
     * Adds ∂loss/∂parameter into {@link #gradients()} for the step's batch.
     *
     * @param dLayerOutputs [L + 1]: dLayerOutputs[l] is ∂loss/∂(layer l's output) (N, H) as exposed by
     *                      {@link TrainingStep#layerOutput}, or null where the loss does not read layer l
     *                      ([0] is the embeddings' output). Not modified.
     */
    public void backward(TrainingStep s, float[][] dLayerOutputs) {
        if (s != step) throw new IllegalArgumentException("step is not this trainer's");
        if (dLayerOutputs.length != layerCount + 1) {
            throw new IllegalArgumentException("dLayerOutputs must have L + 1 = " + (layerCount + 1)
                    + " entries (index 0 = embeddings), got " + dLayerOutputs.length);
        }
        int n = s.tokens, h = hidden;
        for (int l = 0; l <= layerCount; l++) {
            if (dLayerOutputs[l] != null && dLayerOutputs[l].length < n * h) {
                throw new IllegalArgumentException("dLayerOutputs[" + l + "] has " + dLayerOutputs[l].length
                        + " values, the batch needs N·H = " + n * h);
            }
        }
        // the lowest layer that needs a gradient at its output: below it every parameter is frozen
        int stop = options.freezeEmbeddings() ? options.frozenLayers() : 0;
        if (stop >= layerCount) return;
        Arrays.fill(dOut, 0, n * h, 0f);
        addInto(dOut, dLayerOutputs[layerCount], n * h);
        for (int l = layerCount - 1; l >= stop; l--) {
            boolean propagate = l > stop || !options.freezeEmbeddings();
            layerBackward(s, l, l >= options.frozenLayers(), propagate);
            if (propagate) addInto(dOut, dLayerOutputs[l], n * h);
        }
        if (!options.freezeEmbeddings()) embeddingsBackward(s);
    }

    // ====================================================================================================
    // elementwise helpers

    private static void addInto(float[] y, float[] x, int count) {
        if (x == null) return;
        forRows(count / 1024 + 1, 1024, (c0, c1) -> {
            int from = c0 * 1024, to = Math.min(count, c1 * 1024);
            for (int i = from; i < to; i++) y[i] += x[i];
        });
    }

    /** y[yOff..yOff+n) += x[xOff..xOff+n). */
    private static void addRow(float[] y, int yOff, float[] x, int xOff, int n) {
        int bound = S.loopBound(n), i = 0;
        for (; i < bound; i += S.length()) {
            FloatVector.fromArray(S, y, yOff + i).add(FloatVector.fromArray(S, x, xOff + i)).intoArray(y, yOff + i);
        }
        for (; i < n; i++) y[yOff + i] += x[xOff + i];
    }

    /** y[r] += bias for rows [r0, r1) of width w. */
    private static void addBias(float[] y, float[] bias, int r0, int r1, int w) {
        int bound = S.loopBound(w);
        for (int r = r0; r < r1; r++) {
            int o = r * w, c = 0;
            for (; c < bound; c += S.length()) {
                FloatVector.fromArray(S, y, o + c).add(FloatVector.fromArray(S, bias, c)).intoArray(y, o + c);
            }
            for (; c < w; c++) y[o + c] += bias[c];
        }
    }

    /** y = drop(y + bias) + residual for rows [r0, r1) of width w (the dropout mask indexed by y's index). */
    private static void biasDropoutResidual(float[] y, float[] bias, float[] residual, int r0, int r1, int w,
                                            float p, long key) {
        addBias(y, bias, r0, r1, w);
        if (p > 0f) Dropout.forward(y, y, r0 * w, r1 * w, p, key);
        int from = r0 * w, to = r1 * w, bound = from + S.loopBound(to - from), i = from;
        for (; i < bound; i += S.length()) {
            FloatVector.fromArray(S, y, i).add(FloatVector.fromArray(S, residual, i)).intoArray(y, i);
        }
        for (; i < to; i++) y[i] += residual[i];
    }

    /** The gradient through a hidden dropout: dG itself when dropout is off, else dTmp = dG ⊙ mask. */
    private float[] dropoutBackward(float[] dG, int n, float p, long key) {
        if (p <= 0f) return dG;
        int h = hidden;
        Arrays.fill(dTmp, 0, n * h, 0f);
        forRows(n, h, (r0, r1) -> Dropout.backward(dTmp, dG, r0 * h, r1 * h, p, key));
        return dTmp;
    }

    /** db[c] += Σ_r dY[r·ld + off + c] for c < width: columns split over threads (rows would race). */
    private static void biasBackward(float[] db, float[] dY, int off, int ld, int n, int width) {
        Parallel.RangeTask task = (c0, c1) -> {
            int bound = c0 + S.loopBound(c1 - c0);
            for (int r = 0; r < n; r++) {
                int o = r * ld + off, c = c0;
                for (; c < bound; c += S.length()) {
                    FloatVector.fromArray(S, dY, o + c).add(FloatVector.fromArray(S, db, c)).intoArray(db, c);
                }
                for (; c < c1; c++) db[c] += dY[o + c];
            }
        };
        if ((long) n * width < PARALLEL_MIN_FLOATS) task.run(0, width);
        else Parallel.forRange(width, task);
    }

    private void layerNormParams(float[] dGamma, float[] dBeta, float[] dY, float[] in, float[] mean, float[] rstd,
                                 int n) {
        int h = hidden;
        Parallel.RangeTask task = (c0, c1) -> LayerNorm.backwardGammaBeta(dGamma, dBeta, dY, in, mean, rstd, 0, n,
                c0, c1, h);
        if ((long) n * h < PARALLEL_MIN_FLOATS) task.run(0, h);
        else Parallel.forRange(h, task);
    }

    /** Splits rows over the threads when the pass is large enough to pay for the hand-off. */
    private static void forRows(int rows, int width, Parallel.RangeTask task) {
        if ((long) rows * width < PARALLEL_MIN_FLOATS || Parallel.threads() == 1) task.run(0, rows);
        else Parallel.forRange(rows, task);
    }
}
