package dev.offramp.decoder;

import dev.offramp.weights.DecoderConfig;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * ∂loss/∂parameter for every tensor of {@link dev.offramp.weights.DecoderWeights}, same shapes and layouts ([in,
 * out] linears), names prefixed with d. Backward adds into these; {@link #zero} between steps (or not, to
 * accumulate). A tied LM head has no gradient of its own: its share goes into {@link #dTokenEmbeddings}.
 */
public final class DecoderGradients {
    public final float[] dTokenEmbeddings;  // (V, C)
    public final Layer[] layers;            // L of them
    public final float[] dFinalNorm;        // (C)
    /** (C, V); null when the head is tied. */
    public final float[] dLmHead;

    public static final class Layer {
        public final float[] dAttnNorm;     // (C)
        public final float[] dWq;           // (C, NH·HS)
        public final float[] dWk, dWv;      // (C, KVH·HS)
        public final float[] dWo;           // (NH·HS, C)
        public final float[] dMlpNorm;      // (C)
        public final float[] dWGate, dWUp;  // (C, I)
        public final float[] dWDown;        // (I, C)

        Layer(DecoderConfig c) {
            int h = c.hidden(), q = c.qDim(), kv = c.kvDim(), in = c.intermediate();
            dAttnNorm = new float[h];
            dWq = new float[h * q];
            dWk = new float[h * kv];
            dWv = new float[h * kv];
            dWo = new float[q * h];
            dMlpNorm = new float[h];
            dWGate = new float[h * in];
            dWUp = new float[h * in];
            dWDown = new float[in * h];
        }

        float[][] all() {
            return new float[][]{dAttnNorm, dWq, dWk, dWv, dWo, dMlpNorm, dWGate, dWUp, dWDown};
        }
    }

    public DecoderGradients(DecoderConfig c) {
        dTokenEmbeddings = new float[c.vocabSize() * c.hidden()];
        layers = new Layer[c.layers()];
        for (int l = 0; l < layers.length; l++) layers[l] = new Layer(c);
        dFinalNorm = new float[c.hidden()];
        dLmHead = c.tiedEmbeddings() ? null : new float[c.hidden() * c.vocabSize()];
    }

    /** Every gradient array, in no particular order. */
    public List<float[]> all() {
        List<float[]> a = new ArrayList<>();
        a.add(dTokenEmbeddings);
        for (Layer l : layers) a.addAll(Arrays.asList(l.all()));
        a.add(dFinalNorm);
        if (dLmHead != null) a.add(dLmHead);
        return a;
    }

    public void zero() {
        for (float[] g : all()) Arrays.fill(g, 0f);
    }
}
