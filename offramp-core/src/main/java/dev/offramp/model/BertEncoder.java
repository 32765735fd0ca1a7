package dev.offramp.model;

import dev.offramp.kernels.Gemm;
import dev.offramp.kernels.PackedMatrix;
import dev.offramp.kernels.Parallel;
import dev.offramp.tokenizer.Encoding;
import dev.offramp.weights.BertConfig;
import dev.offramp.weights.BertWeights;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.util.List;

/**
 * A BERT encoder run one layer at a time on a ragged batch ({@link EncoderBatch}).
 *
 * <pre>
 *   x = LN(word[id] + position[p] + type[s])                       embeddings
 *   for each layer:
 *     q|k|v = x·Wqkv + bqkv                                          one fused GEMM (H → 3H)
 *     c     = softmax(q·kᵀ/√d)·v   per sample, per head
 *     x     = LN1(c·Wo + bo + x)                                     post-LayerNorm, as in BERT
 *     x     = LN2(gelu(x·Win + bin)·Wout + bout + x)
 * </pre>
 *
 * The encoder itself is read-only after construction (weights packed once), so one instance serves many
 * threads, each with its own EncoderBatch. Training changes the weights and calls {@link #repack()}.
 */
public final class BertEncoder {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** Below this many floats an elementwise pass is not worth waking the other threads for. */
    private static final int PARALLEL_MIN_FLOATS = 1 << 15;

    private final BertConfig config;
    private final BertWeights weights;
    private final PackedMatrix[] wqkv, wo, wIn, wOut;
    private final float[][] bqkv;

    public BertEncoder(BertWeights weights) {
        this.weights = weights;
        this.config = weights.config;
        int l = config.layers(), h = config.hidden();
        wqkv = new PackedMatrix[l];
        wo = new PackedMatrix[l];
        wIn = new PackedMatrix[l];
        wOut = new PackedMatrix[l];
        bqkv = new float[l][3 * h];
        for (int i = 0; i < l; i++) {
            BertWeights.Layer w = weights.layers[i];
            wqkv[i] = PackedMatrix.pack(fuseQkv(w, h), 0, h, 3 * h);
            wo[i] = PackedMatrix.pack(w.wo, 0, h, h);
            wIn[i] = PackedMatrix.pack(w.wIn, 0, h, config.intermediate());
            wOut[i] = PackedMatrix.pack(w.wOut, 0, config.intermediate(), h);
        }
        repackBiases();
    }

    /** [Wq | Wk | Wv] side by side: (H, 3H). */
    private static float[] fuseQkv(BertWeights.Layer w, int h) {
        float[] f = new float[h * 3 * h];
        for (int r = 0; r < h; r++) {
            System.arraycopy(w.wq, r * h, f, r * 3 * h, h);
            System.arraycopy(w.wk, r * h, f, r * 3 * h + h, h);
            System.arraycopy(w.wv, r * h, f, r * 3 * h + 2 * h, h);
        }
        return f;
    }

    private void repackBiases() {
        int h = config.hidden();
        for (int i = 0; i < config.layers(); i++) {
            BertWeights.Layer w = weights.layers[i];
            System.arraycopy(w.bq, 0, bqkv[i], 0, h);
            System.arraycopy(w.bk, 0, bqkv[i], h, h);
            System.arraycopy(w.bv, 0, bqkv[i], 2 * h, h);
        }
    }

    /** Re-reads the weights after an optimizer step changed them. */
    public void repack() {
        int h = config.hidden();
        for (int i = 0; i < config.layers(); i++) {
            BertWeights.Layer w = weights.layers[i];
            wqkv[i].repack(fuseQkv(w, h), 0);
            wo[i].repack(w.wo, 0);
            wIn[i].repack(w.wIn, 0);
            wOut[i].repack(w.wOut, 0);
        }
        repackBiases();
    }

    public BertConfig config() { return config; }

    public BertWeights weights() { return weights; }

    /** A new, empty batch state for this model's shapes. */
    public EncoderBatch newBatch() {
        return new EncoderBatch(config);
    }

    /** Loads inputs into the batch (reusing its buffers) and runs the embeddings. */
    public EncoderBatch start(EncoderBatch batch, List<Encoding> inputs) {
        for (int i = 0; i < inputs.size(); i++) checkInput(config, inputs.get(i), "input " + i);
        batch.reset(inputs);
        embed(batch);
        return batch;
    }

    /**
     * Refuses an input this model cannot run (no tokens, more than maxPositions, a token id or type outside the
     * embeddings) with an IllegalArgumentException that says why; lets a scheduler refuse it before it joins a batch.
     */
    public void checkInput(Encoding e) {
        checkInput(config, e, "the input");
    }

    /** Refuses an input this model cannot run, naming which one and why. */
    static void checkInput(BertConfig config, Encoding e, String what) {
        if (e.length() == 0) throw new IllegalArgumentException(what + " has no tokens");
        if (e.length() > config.maxPositions()) {
            throw new IllegalArgumentException(what + " has " + e.length()
                    + " tokens; the model accepts at most " + config.maxPositions());
        }
        for (int t = 0; t < e.length(); t++) {
            int id = e.ids()[t], type = e.typeIds()[t];
            if (id < 0 || id >= config.vocabSize()) {
                throw new IllegalArgumentException(what + " has token id " + id
                        + " outside the vocabulary of " + config.vocabSize());
            }
            if (type < 0 || type >= config.typeVocabSize()) {
                throw new IllegalArgumentException(what + " has token type " + type
                        + "; the model has " + config.typeVocabSize());
            }
        }
    }

    /** Runs all remaining layers (full depth). */
    public void runToEnd(EncoderBatch batch) {
        while (batch.layersDone < config.layers()) layer(batch);
    }

    // ----------------------------------------------------------------------------------------------------
    // embeddings

    void embed(EncoderBatch s) {
        int h = config.hidden();
        float[] x = s.x;
        forRows(s.tokens, h, (r0, r1) -> {
            for (int b = 0; b < s.size; b++) {
                int off = s.offset[b], len = s.length[b];
                int from = Math.max(r0, off), to = Math.min(r1, off + len);
                for (int t = from; t < to; t++) {
                    int pos = t - off, o = t * h;
                    int wr = s.ids[t] * h, pr = pos * h, tr = s.typeIds[t] * h;
                    for (int c = 0; c < h; c++) {
                        x[o + c] = weights.wordEmbeddings[wr + c] + weights.positionEmbeddings[pr + c]
                                + weights.tokenTypeEmbeddings[tr + c];
                    }
                }
            }
            LayerNorm.forward(x, null, null, x, weights.embLnGamma, weights.embLnBeta, r0, r1, h, config.layerNormEps());
        });
        s.layersDone = 0;
    }

    // ----------------------------------------------------------------------------------------------------
    // one transformer layer

    /** Runs the next layer on every sample still in the batch. */
    public void layer(EncoderBatch s) {
        if (s.layersDone >= config.layers()) throw new IllegalStateException("all " + config.layers() + " layers already run");
        if (s.size == 0) { s.layersDone++; return; }
        int l = s.layersDone;
        int n = s.tokens, h = config.hidden(), in = config.intermediate();
        BertWeights.Layer w = weights.layers[l];
        float eps = config.layerNormEps();

        Gemm.matmul(s.x, 0, h, wqkv[l], s.qkv, 0, 3 * h, n, false);
        addBias(s.qkv, bqkv[l], n, 3 * h);
        Attention.forward(s.ctx, null, null, s.qkv, s.offset, s.length, s.size, h, config.heads(), s.attScratch);

        // attention output projection, residual, LayerNorm: ctx becomes the projection, x the new state
        Gemm.matmul(s.ctx, 0, h, wo[l], s.qkv, 0, h, n, false);
        biasResidualLayerNorm(s.x, s.qkv, w.bo, w.ln1Gamma, w.ln1Beta, n, h, eps);

        Gemm.matmul(s.x, 0, h, wIn[l], s.ffn, 0, in, n, false);
        forRows(n, in, (r0, r1) -> Gelu.biasForward(s.ffn, w.bIn, r0 * in, r1 * in, in, config.activation()));
        Gemm.matmul(s.ffn, 0, in, wOut[l], s.qkv, 0, h, n, false);
        biasResidualLayerNorm(s.x, s.qkv, w.bOut, w.ln2Gamma, w.ln2Beta, n, h, eps);
        s.layersDone++;
    }

    /** x = LN(y + bias + x) row by row; y is scratch (overwritten). */
    private void biasResidualLayerNorm(float[] x, float[] y, float[] bias, float[] gamma, float[] beta,
                                       int n, int h, float eps) {
        forRows(n, h, (r0, r1) -> {
            int bound = S.loopBound(h);
            for (int r = r0; r < r1; r++) {
                int o = r * h, c = 0;
                for (; c < bound; c += S.length()) {
                    FloatVector.fromArray(S, y, o + c).add(FloatVector.fromArray(S, bias, c))
                            .add(FloatVector.fromArray(S, x, o + c)).intoArray(y, o + c);
                }
                for (; c < h; c++) y[o + c] += bias[c] + x[o + c];
            }
            LayerNorm.forward(x, null, null, y, gamma, beta, r0, r1, h, eps);
        });
    }

    private void addBias(float[] y, float[] bias, int n, int width) {
        forRows(n, width, (r0, r1) -> {
            int bound = S.loopBound(width);
            for (int r = r0; r < r1; r++) {
                int o = r * width, c = 0;
                for (; c < bound; c += S.length()) {
                    FloatVector.fromArray(S, y, o + c).add(FloatVector.fromArray(S, bias, c)).intoArray(y, o + c);
                }
                for (; c < width; c++) y[o + c] += bias[c];
            }
        });
    }

    /** Splits rows over the threads when the pass is large enough to pay for the hand-off. */
    private static void forRows(int rows, int width, Parallel.RangeTask task) {
        if ((long) rows * width < PARALLEL_MIN_FLOATS || Parallel.threads() == 1) task.run(0, rows);
        else Parallel.forRange(rows, task);
    }
}
