package dev.offramp.weights;

import dev.offramp.tokenizer.WordPieceTokenizer;

import java.nio.file.Path;

/**
 * A pretrained encoder as loaded from disk or a Maven artifact.
 *
 * @param name      the name it was asked for ("bge-small-en-v1.5", "bert-base-uncased" or a folder path)
 * @param weights   every parameter
 * @param tokenizer the file its tokenizer is built from, or null when the model came without one
 * @param onnxFile  the ONNX file the weights came from, or null (safetensors, TF checkpoint); ONNX Runtime runs it
 * @param maskedLm  the masked-language-model head, or null (the ONNX exports and most fine-tuned models have none)
 */
public record PretrainedModel(String name, BertWeights weights, TokenizerSource tokenizer, Path onnxFile,
                              MaskedLmWeights maskedLm) {
    public PretrainedModel {
        if (maskedLm != null) maskedLm.validate(weights.config);
    }

    /** A model without an MLM head whose tokenizer is a tokenizer.json (null: none). */
    public PretrainedModel(String name, BertWeights weights, Path tokenizerJson, Path onnxFile) {
        this(name, weights, tokenizerJson == null ? null : TokenizerSource.tokenizerJson(tokenizerJson), onnxFile, null);
    }

    public BertConfig config() {
        return weights.config;
    }

    /** Builds the model's tokenizer from its tokenizer.json or vocab.txt. */
    public WordPieceTokenizer newTokenizer() {
        if (tokenizer == null) {
            throw new IllegalArgumentException("model " + name + " has no tokenizer (neither tokenizer.json nor vocab.txt)");
        }
        return tokenizer.load();
    }
}
