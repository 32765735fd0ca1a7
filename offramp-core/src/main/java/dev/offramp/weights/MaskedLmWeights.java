package dev.offramp.weights;

/**
 * BERT's masked-language-model head ({@code cls/predictions} in Google's checkpoints): a dense H×H transform with
 * the encoder's activation, a LayerNorm, then a decoder tied to the word embeddings plus a per-token bias.
 * {@code logits = LN(act(h · transformW + transformB)) · E^T + outputBias}, E = {@link BertWeights#wordEmbeddings}.
 *
 * @param transformW  (H, H) [in, out]
 * @param transformB  (H)
 * @param lnGamma     (H)
 * @param lnBeta      (H)
 * @param outputBias  (V) one bias per vocabulary entry
 */
public record MaskedLmWeights(float[] transformW, float[] transformB, float[] lnGamma, float[] lnBeta,
                              float[] outputBias) {
    /** Checks every tensor against the backbone's config it belongs to. */
    public void validate(BertConfig c) {
        int h = c.hidden();
        check("cls/predictions/transform/dense/kernel", transformW, (long) h * h);
        check("cls/predictions/transform/dense/bias", transformB, h);
        check("cls/predictions/transform/LayerNorm/gamma", lnGamma, h);
        check("cls/predictions/transform/LayerNorm/beta", lnBeta, h);
        check("cls/predictions/output_bias", outputBias, c.vocabSize());
    }

    private static void check(String name, float[] a, long expected) {
        if (a == null) throw new IllegalArgumentException("missing tensor " + name);
        if (a.length != expected) {
            throw new IllegalArgumentException("tensor " + name + " has " + a.length + " values, expected " + expected);
        }
    }
}
