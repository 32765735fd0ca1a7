package dev.offramp.model;

import dev.offramp.weights.BertConfig;
import dev.offramp.weights.BertWeights;

import java.util.Arrays;

/**
 * ∂loss/∂parameter for every tensor of {@link BertWeights} (pooler excluded: the encoder does not use it),
 * same shapes and layouts, names prefixed with d. Backward adds into these; {@link #zero} between steps
 * (or not, to accumulate gradients over several batches).
 */
public final class EncoderGradients {
    public final float[] dWordEmbeddings;      // (V, H)
    public final float[] dPositionEmbeddings;  // (P, H)
    public final float[] dTokenTypeEmbeddings; // (T, H)
    public final float[] dEmbLnGamma;          // (H)
    public final float[] dEmbLnBeta;           // (H)
    public final Layer[] layers;               // L of them

    public static final class Layer {
        public final float[] dWq, dbq;             // (H, H), (H)
        public final float[] dWk, dbk;             // (H, H), (H)
        public final float[] dWv, dbv;             // (H, H), (H)
        public final float[] dWo, dbo;             // (H, H), (H)
        public final float[] dLn1Gamma, dLn1Beta;  // (H)
        public final float[] dWIn, dbIn;           // (H, I), (I)
        public final float[] dWOut, dbOut;         // (I, H), (H)
        public final float[] dLn2Gamma, dLn2Beta;  // (H)

        Layer(int h, int in) {
            dWq = new float[h * h]; dbq = new float[h];
            dWk = new float[h * h]; dbk = new float[h];
            dWv = new float[h * h]; dbv = new float[h];
            dWo = new float[h * h]; dbo = new float[h];
            dLn1Gamma = new float[h]; dLn1Beta = new float[h];
            dWIn = new float[h * in]; dbIn = new float[in];
            dWOut = new float[in * h]; dbOut = new float[h];
            dLn2Gamma = new float[h]; dLn2Beta = new float[h];
        }

        float[][] all() {
            return new float[][] {dWq, dbq, dWk, dbk, dWv, dbv, dWo, dbo, dLn1Gamma, dLn1Beta,
                    dWIn, dbIn, dWOut, dbOut, dLn2Gamma, dLn2Beta};
        }
    }

    public EncoderGradients(BertConfig c) {
        int h = c.hidden();
        dWordEmbeddings = new float[c.vocabSize() * h];
        dPositionEmbeddings = new float[c.maxPositions() * h];
        dTokenTypeEmbeddings = new float[c.typeVocabSize() * h];
        dEmbLnGamma = new float[h];
        dEmbLnBeta = new float[h];
        layers = new Layer[c.layers()];
        for (int l = 0; l < layers.length; l++) layers[l] = new Layer(h, c.intermediate());
    }

    /** Sets every gradient to zero. */
    public void zero() {
        for (float[] a : new float[][] {dWordEmbeddings, dPositionEmbeddings, dTokenTypeEmbeddings, dEmbLnGamma, dEmbLnBeta}) {
            Arrays.fill(a, 0f);
        }
        for (Layer l : layers) for (float[] a : l.all()) Arrays.fill(a, 0f);
    }
}
