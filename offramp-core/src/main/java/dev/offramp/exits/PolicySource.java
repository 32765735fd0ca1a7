package dev.offramp.exits;

/**
 * Supplies ConsistentEE's π_i, the policy network's probability of exiting, for the samples of a batch at one exit;
 * the runners take null for criteria that need none.
 */
@FunctionalInterface
public interface PolicySource {
    /** Writes π(exit | h) for each of the b pooled vectors (B, H) at exit {@code layer} into out[0..b). */
    void exitProbabilities(int layer, float[] pooled, int b, float[] out);
}
