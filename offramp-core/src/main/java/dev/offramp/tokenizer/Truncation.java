package dev.offramp.tokenizer;

/** What {@link WordPieceTokenizer} does with an input longer than the model's maximum length. */
public enum Truncation {
    /** Cut tokens off the end (pairs: Hugging Face's {@code longest_first}), keeping [CLS]/[SEP]. */
    TRUNCATE,
    /** Refuse: throw "input has N tokens, the model accepts at most M"; empty text is refused too. */
    STRICT
}
