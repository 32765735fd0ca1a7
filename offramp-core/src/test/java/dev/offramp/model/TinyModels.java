package dev.offramp.model;

import dev.offramp.tokenizer.Encoding;
import dev.offramp.weights.BertConfig;
import dev.offramp.weights.BertWeights;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Small random models and batches for the gradient and training tests. */
public final class TinyModels {
    private TinyModels() {}

    /** V=50, H=8, heads=2, I=16, L=2, P=16, types=2. */
    public static BertConfig tinyConfig(BertConfig.Activation act) {
        return new BertConfig(50, 8, 2, 2, 16, 16, 2, 1e-12f, act);
    }

    /** Random weights at a scale where attention is far from uniform and GELU is in its curved region. */
    public static BertWeights randomWeights(BertConfig c, long seed) {
        Random r = new Random(seed);
        int h = c.hidden(), in = c.intermediate();
        BertWeights.Layer[] layers = new BertWeights.Layer[c.layers()];
        float ws = (float) (0.9 / Math.sqrt(h)), ws2 = (float) (0.9 / Math.sqrt(in));
        for (int l = 0; l < layers.length; l++) {
            layers[l] = new BertWeights.Layer(
                    gauss(r, h * h, ws), gauss(r, h, 0.1f), gauss(r, h * h, ws), gauss(r, h, 0.1f),
                    gauss(r, h * h, ws), gauss(r, h, 0.1f), gauss(r, h * h, ws), gauss(r, h, 0.1f),
                    ones(r, h), gauss(r, h, 0.1f), gauss(r, h * in, ws), gauss(r, in, 0.1f),
                    gauss(r, in * h, ws2), gauss(r, h, 0.1f), ones(r, h), gauss(r, h, 0.1f));
        }
        return new BertWeights(c, gauss(r, c.vocabSize() * h, 0.5f), gauss(r, c.maxPositions() * h, 0.5f),
                gauss(r, c.typeVocabSize() * h, 0.5f), ones(r, h), gauss(r, h, 0.1f), layers, null, null);
    }

    /** Random encodings of the given lengths ([CLS]-like id 1 first; types 0 then 1 for the second half). */
    public static List<Encoding> randomBatch(BertConfig c, long seed, int... lengths) {
        Random r = new Random(seed);
        List<Encoding> out = new ArrayList<>();
        for (int len : lengths) {
            int[] ids = new int[len], types = new int[len];
            for (int t = 0; t < len; t++) {
                ids[t] = t == 0 ? 1 : 2 + r.nextInt(c.vocabSize() - 2);
                types[t] = t < (len + 1) / 2 ? 0 : Math.min(1, c.typeVocabSize() - 1);
            }
            out.add(new Encoding(ids, types));
        }
        return out;
    }

    static float[] gauss(Random r, int n, float scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (r.nextGaussian() * scale);
        return a;
    }

    static float[] ones(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = 1f + (float) (r.nextGaussian() * 0.1);
        return a;
    }

    /** Every parameter tensor, in a fixed order (embeddings, then 16 per layer as in BertWeights.Layer). */
    public static List<float[]> tensors(BertWeights w) {
        List<float[]> t = new ArrayList<>(List.of(w.wordEmbeddings, w.positionEmbeddings, w.tokenTypeEmbeddings,
                w.embLnGamma, w.embLnBeta));
        for (BertWeights.Layer l : w.layers) {
            t.addAll(List.of(l.wq, l.bq, l.wk, l.bk, l.wv, l.bv, l.wo, l.bo, l.ln1Gamma, l.ln1Beta,
                    l.wIn, l.bIn, l.wOut, l.bOut, l.ln2Gamma, l.ln2Beta));
        }
        return t;
    }

    /** The gradients in the order of {@link #tensors}. */
    public static List<float[]> tensors(EncoderGradients g) {
        List<float[]> t = new ArrayList<>(List.of(g.dWordEmbeddings, g.dPositionEmbeddings, g.dTokenTypeEmbeddings,
                g.dEmbLnGamma, g.dEmbLnBeta));
        for (EncoderGradients.Layer l : g.layers) t.addAll(List.of(l.all()));
        return t;
    }

    /** Names in the order of {@link #tensors}. */
    public static List<String> tensorNames(BertConfig c) {
        List<String> n = new ArrayList<>(List.of("word", "position", "type", "embLnGamma", "embLnBeta"));
        String[] per = {"wq", "bq", "wk", "bk", "wv", "bv", "wo", "bo", "ln1Gamma", "ln1Beta",
                "wIn", "bIn", "wOut", "bOut", "ln2Gamma", "ln2Beta"};
        for (int l = 0; l < c.layers(); l++) for (String p : per) n.add("layer" + l + "." + p);
        return n;
    }
}
