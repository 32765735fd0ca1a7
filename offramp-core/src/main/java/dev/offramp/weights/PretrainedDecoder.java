package dev.offramp.weights;

import dev.offramp.tokenizer.bpe.BpeTokenizer;

import java.nio.file.Path;

/**
 * A Llama-family decoder as loaded from a Hugging Face folder.
 *
 * @param name          the name or folder it was loaded from
 * @param weights       every parameter
 * @param tokenizerJson the folder's tokenizer.json, or null when it has none
 */
public record PretrainedDecoder(String name, DecoderWeights weights, Path tokenizerJson) {
    public DecoderConfig config() {
        return weights.config;
    }

    /** Builds the model's byte-level BPE tokenizer from its tokenizer.json. */
    public BpeTokenizer newTokenizer() {
        if (tokenizerJson == null) throw new IllegalArgumentException("model " + name + " has no tokenizer.json");
        BpeTokenizer t = BpeTokenizer.fromTokenizerJson(tokenizerJson);
        if (t.vocabSize() > config().vocabSize()) {
            throw new IllegalArgumentException(tokenizerJson + " has ids up to " + (t.vocabSize() - 1)
                    + " but the model's vocab_size is " + config().vocabSize());
        }
        return t;
    }
}
