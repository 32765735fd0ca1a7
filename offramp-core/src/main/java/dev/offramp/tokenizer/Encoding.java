package dev.offramp.tokenizer;

/**
 * One tokenized input: ids with [CLS]/[SEP] already in place, and the segment (token type) of each.
 * No padding: batches pad to their own longest sequence.
 */
public record Encoding(int[] ids, int[] typeIds) {
    public Encoding {
        if (ids.length != typeIds.length) {
            throw new IllegalArgumentException("ids and typeIds differ in length: " + ids.length + " vs " + typeIds.length);
        }
    }

    public int length() {
        return ids.length;
    }
}
