package dev.offramp.exits;

import dev.offramp.tokenizer.Encoding;
import dev.offramp.weights.BertConfig;
import dev.offramp.weights.BertWeights;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** A small random BERT and random inputs for tests that need a real encoder but no checkpoint. */
public final class TinyBert {
    private TinyBert() {}

    public static BertConfig config() {
        return new BertConfig(40, 16, 3, 2, 32, 24, 2, 1e-12f, BertConfig.Activation.GELU_EXACT);
    }

    public static BertWeights weights(BertConfig c, long seed, boolean pooler) {
        SplittableRandom r = new SplittableRandom(seed);
        int h = c.hidden(), in = c.intermediate();
        BertWeights.Layer[] layers = new BertWeights.Layer[c.layers()];
        for (int i = 0; i < layers.length; i++) {
            layers[i] = new BertWeights.Layer(g(r, h * h, 0.2f), g(r, h, 0.1f), g(r, h * h, 0.2f), g(r, h, 0.1f),
                    g(r, h * h, 0.2f), g(r, h, 0.1f), g(r, h * h, 0.2f), g(r, h, 0.1f), ones(r, h), g(r, h, 0.1f),
                    g(r, h * in, 0.2f), g(r, in, 0.1f), g(r, in * h, 0.2f), g(r, h, 0.1f), ones(r, h), g(r, h, 0.1f));
        }
        return new BertWeights(c, g(r, c.vocabSize() * h, 1f), g(r, c.maxPositions() * h, 0.3f),
                g(r, c.typeVocabSize() * h, 0.3f), ones(r, h), g(r, h, 0.1f), layers,
                pooler ? g(r, h * h, 0.2f) : null, pooler ? g(r, h, 0.1f) : null);
    }

    /** n inputs of lengths 2..maxLen: [CLS]=1 … [SEP]=2, random ids in between, two segments for some. */
    public static List<Encoding> inputs(int n, int maxLen, int vocab, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        List<Encoding> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int len = 2 + r.nextInt(maxLen - 1);
            int[] ids = new int[len], types = new int[len];
            ids[0] = 1;
            ids[len - 1] = 2;
            for (int t = 1; t < len - 1; t++) ids[t] = 3 + r.nextInt(vocab - 3);
            if (len > 4 && r.nextBoolean()) for (int t = len / 2; t < len; t++) types[t] = 1;
            out.add(new Encoding(ids, types));
        }
        return out;
    }

    static float[] g(SplittableRandom r, int n, float std) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (r.nextGaussian() * std);
        return a;
    }

    static float[] ones(SplittableRandom r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = 1f + (float) (r.nextGaussian() * 0.1);
        return a;
    }

    /** Fills every parameter of the heads with N(0, std) (gamma around 1), for tests that need large gradients. */
    public static void randomise(ExitHeads heads, float std, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] p = heads.params();
        for (ExitHeads.Tensor t : heads.tensors()) {
            boolean gamma = t.name().endsWith("layer_norm.weight");
            for (int i = t.offset(); i < t.offset() + t.size(); i++) {
                p[i] = (gamma ? 1f : 0f) + (float) (r.nextGaussian() * std);
            }
        }
    }
}
