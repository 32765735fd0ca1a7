package dev.offramp.model;

import dev.offramp.kernels.Gemm;
import dev.offramp.kernels.Parallel;
import dev.offramp.kernels.VectorOps;
import dev.offramp.weights.BertConfig;
import dev.offramp.weights.BertWeights;
import dev.offramp.weights.MaskedLmWeights;

import java.util.ArrayList;
import java.util.List;

/**
 * BERT's masked-language-model head: vocabulary logits for chosen token positions of a hidden state.
 * <pre>
 * t      = LayerNorm(act(h · W_t + b_t))        (R, H)   act = the encoder's GELU
 * logits = t · E^T + output_bias                (R, V)   E = the word embeddings (the decoder is tied to them)
 * </pre>
 * Only the few positions asked for are transformed (a [MASK] or two, not the whole sequence); the (R, V)
 * product is one dot product per vocabulary row, split over the threads, so E (94 MB for BERT-base) streams
 * through the cache once for all R rows. Read-only and thread-safe: every call allocates its own buffers.
 */
public final class MaskedLmHead {
    private final BertConfig config;
    private final float[] embeddings;  // (V, H), shared with the backbone
    private final MaskedLmWeights w;

    public MaskedLmHead(BertWeights backbone, MaskedLmWeights head) {
        head.validate(backbone.config);
        this.config = backbone.config;
        this.embeddings = backbone.wordEmbeddings;
        this.w = head;
    }

    public int vocabSize() {
        return config.vocabSize();
    }

    /**
     * Logits (R, V) of the hidden-state rows starting at {@code rowOffsets[r]} (float offsets into {@code hidden},
     * each the start of an H-wide row).
     */
    public float[] logits(float[] hidden, int[] rowOffsets) {
        int h = config.hidden(), v = config.vocabSize(), rows = rowOffsets.length;
        float[] x = new float[rows * h];
        for (int r = 0; r < rows; r++) System.arraycopy(hidden, rowOffsets[r], x, r * h, h);
        float[] t = new float[rows * h];
        Gemm.gemm(false, false, rows, h, h, x, 0, h, w.transformW(), 0, h, t, 0, h, false);
        Gelu.biasForward(t, w.transformB(), 0, rows * h, h, config.activation());
        LayerNorm.forward(t, null, null, t, w.lnGamma(), w.lnBeta(), 0, rows, h, config.layerNormEps());
        float[] logits = new float[rows * v];
        float[] bias = w.outputBias();
        Parallel.forRange(v, (v0, v1) -> {
            for (int id = v0; id < v1; id++) {
                for (int r = 0; r < rows; r++) {
                    logits[r * v + id] = VectorOps.dot(t, r * h, embeddings, id * h, h) + bias[id];
                }
            }
        });
        return logits;
    }

    /** A vocabulary entry and its softmax probability. */
    public record Token(int id, float probability) {}

    /**
     * The k most likely tokens of the logits row {@code logits[off, off + n)}, best first, with probabilities of
     * the softmax over the whole row (ties: the lower id first).
     */
    public static List<Token> topK(float[] logits, int off, int n, int k) {
        k = Math.min(k, n);
        float max = VectorOps.max(logits, off, n);
        float[] e = new float[n];
        System.arraycopy(logits, off, e, 0, n);
        float sum = VectorOps.expSub(e, 0, n, max);
        // insertion into a k-long sorted list: k is small (5), V is 30k
        int[] best = new int[k];
        int found = 0;
        for (int i = 0; i < n; i++) {
            if (found == k && logits[off + i] <= logits[off + best[k - 1]]) continue;
            int at = Math.min(found, k - 1);
            while (at > 0 && logits[off + best[at - 1]] < logits[off + i]) {
                best[at] = best[at - 1];
                at--;
            }
            best[at] = i;
            if (found < k) found++;
        }
        List<Token> out = new ArrayList<>(found);
        for (int j = 0; j < found; j++) out.add(new Token(best[j], e[best[j]] / sum));
        return out;
    }
}
