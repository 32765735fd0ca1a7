package dev.offramp.weights;

/**
 * Hears how far the one-time unpacking of a model into the cache has got (hundreds of megabytes for BERT-base);
 * the CLI draws it as a progress bar. Called from the unpacking thread, at most every few megabytes.
 */
@FunctionalInterface
public interface UnpackProgress {
    UnpackProgress NONE = (what, done, total) -> {};

    /**
     * @param what       what is being unpacked (the model's name)
     * @param doneBytes  bytes unpacked so far; equals totalBytes on the last call
     * @param totalBytes bytes to unpack, or -1 when unknown
     */
    void update(String what, long doneBytes, long totalBytes);
}
