package dev.offramp.weights;

/**
 * Shape and numerics of a BERT-family encoder.
 *
 * @param vocabSize       V, rows of the word embedding table
 * @param hidden          H (C in llm.c's letters), width of every hidden state
 * @param layers          L, number of transformer layers
 * @param heads           NH, attention heads; hidden must be a multiple of it
 * @param intermediate    I, width of the feed-forward inner layer
 * @param maxPositions    P, rows of the position embedding table (longest input, specials included)
 * @param typeVocabSize   rows of the token-type (segment) table
 * @param layerNormEps    epsilon inside every LayerNorm
 * @param activation      the FFN non-linearity; comes from the checkpoint's config, never guessed
 */
public record BertConfig(int vocabSize, int hidden, int layers, int heads, int intermediate,
                         int maxPositions, int typeVocabSize, float layerNormEps, Activation activation) {

    public enum Activation {
        /** x·Φ(x) with the exact error function (HF "gelu"): BERT exports to ONNX, bge, MiniLM. */
        GELU_EXACT,
        /** the tanh approximation (HF "gelu_new"/"gelu_pytorch_tanh"; original TF BERT checkpoints). */
        GELU_TANH;

        /** Maps a Hugging Face {@code hidden_act} string. */
        public static Activation fromHuggingFace(String name) {
            return switch (name) {
                case "gelu" -> GELU_EXACT;
                case "gelu_new", "gelu_pytorch_tanh", "gelu_fast" -> GELU_TANH;
                default -> throw new IllegalArgumentException("unsupported hidden_act '" + name
                        + "' (supported: gelu, gelu_new, gelu_pytorch_tanh)");
            };
        }
    }

    public BertConfig {
        if (vocabSize <= 0 || hidden <= 0 || layers <= 0 || heads <= 0 || intermediate <= 0
                || maxPositions <= 0 || typeVocabSize <= 0) {
            throw new IllegalArgumentException("every BertConfig dimension must be positive: " + this);
        }
        if (hidden % heads != 0) {
            throw new IllegalArgumentException("hidden " + hidden + " is not a multiple of heads " + heads);
        }
    }

    public int headDim() {
        return hidden / heads;
    }
}
