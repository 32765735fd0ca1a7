package dev.offramp.cli;

import dev.offramp.model.BertEncoder;
import dev.offramp.tokenizer.WordPieceTokenizer;
import dev.offramp.weights.ModelRegistry;
import dev.offramp.weights.PretrainedModel;

/** A pretrained backbone ready to run: weights, encoder, tokenizer. */
record LoadedBackbone(PretrainedModel model, BertEncoder encoder, WordPieceTokenizer tokenizer) {
    static LoadedBackbone load(String nameOrPath) {
        PretrainedModel m = ModelRegistry.load(nameOrPath, new UnpackBar());
        return new LoadedBackbone(m, new BertEncoder(m.weights()), m.newTokenizer());
    }
}
