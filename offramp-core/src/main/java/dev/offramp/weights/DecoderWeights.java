package dev.offramp.weights;

import java.util.Arrays;

/**
 * Every parameter of a Llama-family decoder as plain float arrays, row-major. Linear weights are stored
 * [in, out] so a projection is {@code y = x · W} (Hugging Face stores PyTorch's [out, in]; the loader transposes).
 * Arrays are mutable: training updates them in place and then asks the engine to repack.
 */
public final class DecoderWeights {
    public final DecoderConfig config;
    public final float[] tokenEmbeddings;  // (V, C)
    public final Layer[] layers;           // L of them
    public final float[] finalNorm;        // (C) gain of the RMSNorm before the LM head (shared by every exit)
    /** (C, V) [in, out]; null when the head is tied to {@link #tokenEmbeddings}. */
    public final float[] lmHead;

    /** One pre-norm decoder layer: x += attn(RMSNorm(x)); x += mlp(RMSNorm(x)). */
    public static final class Layer {
        public final float[] attnNorm;      // (C) input_layernorm gain
        public final float[] wq, bq;        // (C, NH·HS), (NH·HS) or null
        public final float[] wk, bk;        // (C, KVH·HS), (KVH·HS) or null
        public final float[] wv, bv;        // (C, KVH·HS), (KVH·HS) or null
        public final float[] wo;            // (NH·HS, C)
        public final float[] mlpNorm;       // (C) post_attention_layernorm gain
        public final float[] wGate, wUp;    // (C, I) each
        public final float[] wDown;         // (I, C)

        public Layer(float[] attnNorm, float[] wq, float[] bq, float[] wk, float[] bk, float[] wv, float[] bv,
                     float[] wo, float[] mlpNorm, float[] wGate, float[] wUp, float[] wDown) {
            this.attnNorm = attnNorm; this.wq = wq; this.bq = bq; this.wk = wk; this.bk = bk; this.wv = wv;
            this.bv = bv; this.wo = wo; this.mlpNorm = mlpNorm; this.wGate = wGate; this.wUp = wUp; this.wDown = wDown;
        }

        Layer copy() {
            return new Layer(attnNorm.clone(), wq.clone(), copyOrNull(bq), wk.clone(), copyOrNull(bk), wv.clone(), copyOrNull(bv),
                    wo.clone(), mlpNorm.clone(), wGate.clone(), wUp.clone(), wDown.clone());
        }
    }

    public DecoderWeights(DecoderConfig config, float[] tokenEmbeddings, Layer[] layers, float[] finalNorm,
                          float[] lmHead) {
        this.config = config;
        this.tokenEmbeddings = tokenEmbeddings;
        this.layers = layers;
        this.finalNorm = finalNorm;
        this.lmHead = lmHead;
        validate();
    }

    /** The LM head as (C, V) [in, out], built from the embedding table when tied (a new array then). */
    public float[] lmHeadInOut() {
        if (lmHead != null) return lmHead;
        return transpose(tokenEmbeddings, config.vocabSize(), config.hidden());
    }

    /** An independent copy of every tensor. */
    public DecoderWeights deepCopy() {
        Layer[] ls = new Layer[layers.length];
        for (int i = 0; i < ls.length; i++) ls[i] = layers[i].copy();
        return new DecoderWeights(config, tokenEmbeddings.clone(), ls, finalNorm.clone(), copyOrNull(lmHead));
    }

    static float[] copyOrNull(float[] a) {
        return a == null ? null : a.clone();
    }

    /** (rows, cols) row-major → (cols, rows). */
    public static float[] transpose(float[] a, int rows, int cols) {
        float[] t = new float[a.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) t[c * rows + r] = a[r * cols + c];
        }
        return t;
    }

    private void validate() {
        DecoderConfig c = config;
        long v = c.vocabSize(), h = c.hidden(), q = c.qDim(), kv = c.kvDim(), in = c.intermediate();
        check("token embeddings", tokenEmbeddings, v * h);
        check("final norm", finalNorm, h);
        if (c.tiedEmbeddings() != (lmHead == null)) {
            throw new IllegalArgumentException("tie_word_embeddings is " + c.tiedEmbeddings() + " but the LM head is "
                    + (lmHead == null ? "missing" : "a separate matrix"));
        }
        if (lmHead != null) check("lm head", lmHead, h * v);
        if (layers.length != c.layers()) {
            throw new IllegalArgumentException(layers.length + " layers given, config says " + c.layers());
        }
        for (int i = 0; i < layers.length; i++) {
            Layer l = layers[i];
            String p = "layer " + i + " ";
            check(p + "input norm", l.attnNorm, h);
            check(p + "q_proj", l.wq, h * q);
            check(p + "k_proj", l.wk, h * kv);
            check(p + "v_proj", l.wv, h * kv);
            check(p + "o_proj", l.wo, q * h);
            check(p + "post-attention norm", l.mlpNorm, h);
            check(p + "gate_proj", l.wGate, h * in);
            check(p + "up_proj", l.wUp, h * in);
            check(p + "down_proj", l.wDown, in * h);
            if (c.qkvBias()) {
                check(p + "q_proj bias", l.bq, q);
                check(p + "k_proj bias", l.bk, kv);
                check(p + "v_proj bias", l.bv, kv);
            } else if (l.bq != null || l.bk != null || l.bv != null) {
                throw new IllegalArgumentException(p + "has q/k/v biases but the config has none (model_type "
                        + c.modelType() + ")");
            }
        }
    }

    private static void check(String what, float[] a, long expected) {
        if (a == null) throw new IllegalArgumentException(what + " is missing");
        if (a.length != expected) {
            throw new IllegalArgumentException(what + " has " + a.length + " values, the config implies " + expected);
        }
    }

    @Override
    public String toString() {
        return "DecoderWeights" + Arrays.asList(config.modelType(), config.layers() + " layers",
                config.parameterCount() + " parameters");
    }
}
