package dev.offramp.weights;


/**
 * Every parameter of a BERT encoder as plain float arrays (row-major), the layout the engine computes with.
 * Matrices are stored [in, out] so that a linear layer is {@code y = x · W + b} (the layout of an ONNX MatMul's
 * right operand and of a TF kernel; a PyTorch Linear weight [out, in] is transposed on load).
 * Arrays are mutable: training updates them in place.
 */
public final class BertWeights {
    public final BertConfig config;
    public final float[] wordEmbeddings;      // (V, H)
    public final float[] positionEmbeddings;  // (P, H)
    public final float[] tokenTypeEmbeddings; // (T, H)
    public final float[] embLnGamma;          // (H)
    public final float[] embLnBeta;           // (H)
    public final Layer[] layers;              // L of them
    /** Pooler dense (H, H) [in, out] and bias (H); null when the checkpoint has none (the bge ONNX export). */
    public final float[] poolerW;
    public final float[] poolerB;

    public BertWeights(BertConfig config, float[] wordEmbeddings, float[] positionEmbeddings,
                       float[] tokenTypeEmbeddings, float[] embLnGamma, float[] embLnBeta, Layer[] layers,
                       float[] poolerW, float[] poolerB) {
        this.config = config;
        this.wordEmbeddings = wordEmbeddings;
        this.positionEmbeddings = positionEmbeddings;
        this.tokenTypeEmbeddings = tokenTypeEmbeddings;
        this.embLnGamma = embLnGamma;
        this.embLnBeta = embLnBeta;
        this.layers = layers;
        this.poolerW = poolerW;
        this.poolerB = poolerB;
        validate();
    }

    /** One transformer layer (post-LayerNorm BERT). */
    public static final class Layer {
        public final float[] wq, bq;        // (H, H), (H)
        public final float[] wk, bk;        // (H, H), (H)
        public final float[] wv, bv;        // (H, H), (H)
        public final float[] wo, bo;        // (H, H), (H)  attention output projection
        public final float[] ln1Gamma, ln1Beta; // (H) LayerNorm after attention + residual
        public final float[] wIn, bIn;      // (H, I), (I)  FFN up
        public final float[] wOut, bOut;    // (I, H), (H)  FFN down
        public final float[] ln2Gamma, ln2Beta; // (H) LayerNorm after FFN + residual

        public Layer(float[] wq, float[] bq, float[] wk, float[] bk, float[] wv, float[] bv, float[] wo, float[] bo,
                     float[] ln1Gamma, float[] ln1Beta, float[] wIn, float[] bIn, float[] wOut, float[] bOut,
                     float[] ln2Gamma, float[] ln2Beta) {
            this.wq = wq; this.bq = bq; this.wk = wk; this.bk = bk; this.wv = wv; this.bv = bv;
            this.wo = wo; this.bo = bo; this.ln1Gamma = ln1Gamma; this.ln1Beta = ln1Beta;
            this.wIn = wIn; this.bIn = bIn; this.wOut = wOut; this.bOut = bOut;
            this.ln2Gamma = ln2Gamma; this.ln2Beta = ln2Beta;
        }
    }

    /** An independent copy of every tensor (e.g. the best epoch's weights, kept while training goes on). */
    public BertWeights deepCopy() {
        Layer[] ls = new Layer[layers.length];
        for (int i = 0; i < ls.length; i++) {
            Layer a = layers[i];
            ls[i] = new Layer(a.wq.clone(), a.bq.clone(), a.wk.clone(), a.bk.clone(), a.wv.clone(), a.bv.clone(),
                    a.wo.clone(), a.bo.clone(), a.ln1Gamma.clone(), a.ln1Beta.clone(), a.wIn.clone(), a.bIn.clone(),
                    a.wOut.clone(), a.bOut.clone(), a.ln2Gamma.clone(), a.ln2Beta.clone());
        }
        return new BertWeights(config, wordEmbeddings.clone(), positionEmbeddings.clone(), tokenTypeEmbeddings.clone(),
                embLnGamma.clone(), embLnBeta.clone(), ls, poolerW == null ? null : poolerW.clone(),
                poolerB == null ? null : poolerB.clone());
    }

    private void validate() {
        int v = config.vocabSize(), h = config.hidden(), p = config.maxPositions(), t = config.typeVocabSize();
        int in = config.intermediate();
        check("word_embeddings", wordEmbeddings, (long) v * h);
        check("position_embeddings", positionEmbeddings, (long) p * h);
        check("token_type_embeddings", tokenTypeEmbeddings, (long) t * h);
        check("embeddings.LayerNorm.gamma", embLnGamma, h);
        check("embeddings.LayerNorm.beta", embLnBeta, h);
        if (layers.length != config.layers()) {
            throw new IllegalArgumentException("expected " + config.layers() + " layers, found " + layers.length);
        }
        for (int i = 0; i < layers.length; i++) {
            Layer l = layers[i];
            String n = "layer " + i + " ";
            check(n + "query", l.wq, (long) h * h); check(n + "query.bias", l.bq, h);
            check(n + "key", l.wk, (long) h * h); check(n + "key.bias", l.bk, h);
            check(n + "value", l.wv, (long) h * h); check(n + "value.bias", l.bv, h);
            check(n + "attention.output", l.wo, (long) h * h); check(n + "attention.output.bias", l.bo, h);
            check(n + "attention.LayerNorm.gamma", l.ln1Gamma, h); check(n + "attention.LayerNorm.beta", l.ln1Beta, h);
            check(n + "intermediate", l.wIn, (long) h * in); check(n + "intermediate.bias", l.bIn, in);
            check(n + "output", l.wOut, (long) in * h); check(n + "output.bias", l.bOut, h);
            check(n + "output.LayerNorm.gamma", l.ln2Gamma, h); check(n + "output.LayerNorm.beta", l.ln2Beta, h);
        }
        if ((poolerW == null) != (poolerB == null)) {
            throw new IllegalArgumentException("pooler weight and bias must both be present or both absent");
        }
        if (poolerW != null) {
            check("pooler.dense", poolerW, (long) h * h);
            check("pooler.dense.bias", poolerB, h);
        }
    }

    private static void check(String name, float[] a, long expected) {
        if (a == null) throw new IllegalArgumentException("missing tensor " + name);
        if (a.length != expected) {
            throw new IllegalArgumentException("tensor " + name + " has " + a.length + " values, expected " + expected);
        }
    }
}
