package dev.offramp.criteria;

/**
 * A rule that decides, layer by layer, whether a sample leaves the backbone at the current exit.
 *
 * <p>A criterion is an immutable description (its knobs); {@link #start} makes a {@link Decider}, the per-sample
 * state. The runner (or the calibration simulator) makes one Decider per thread, calls {@link Decider#reset}
 * at the start of every sample and {@link Decider#observe} after every exit it evaluates, in increasing layer
 * order, until observe returns true. Deciders allocate nothing in reset/observe, so they can be reused for
 * millions of samples.
 *
 * <p>What an exit's output is: a slice {@code out[offset .. offset+K)} of a float array.
 * <ul>
 *   <li>classification, {@code K >= 2}: the exit's probability vector p_i (softmax already applied);
 *       ŷ_i = argmax p_i (ties go to the lowest class index), c_i = max p_i;</li>
 *   <li>regression (STS-B), {@code K == 1}: the exit's predicted score ŷ_i. Criteria that need a probability
 *       vector (max-prob, entropy) refuse regression in {@link #start}; the others say in their doc comment what
 *       "agree" and "confidence" mean for a score.</li>
 * </ul>
 *
 * <p>The last layer always exits: every Decider returns true at {@code layer == numLayers}, whatever its rule.
 */
public interface ExitCriterion {

    /** Marks "no gold label known" in {@link Decider#reset(float)}. */
    float NO_GOLD = Float.NaN;

    /** Short stable name, also the JSON key: max-prob, entropy, patience, beem, static, oracle, consistentee. */
    String name();

    /** Human-readable one-liner with the knob values, e.g. {@code max-prob(tau=0.9)}. */
    String describe();

    /** The knobs, serialisable; {@link Criteria#fromSettings} rebuilds an equal criterion from them. */
    CriterionSettings settings();

    /**
     * Makes a fresh per-sample state for a backbone of {@code numLayers} exits with {@code numClasses} outputs
     * each (1 = regression). Throws IllegalArgumentException when the criterion cannot serve that shape
     * (e.g. max-prob on regression, BEEM weights of the wrong length).
     */
    Decider start(int numLayers, int numClasses);

    /** Per-sample state of a criterion. Not thread-safe: one per thread. */
    interface Decider {

        /**
         * Starts a new sample. {@code gold} is the gold label (class index as a float, or the target score for
         * regression); only the oracle reads it, pass {@link #NO_GOLD} when unknown.
         */
        void reset(float gold);

        default void reset() {
            reset(NO_GOLD);
        }

        /**
         * Feeds exit {@code layer} (1-based, strictly increasing within a sample, at most numLayers).
         *
         * @param out            holds the exit's output at {@code out[offset .. offset+K)}
         * @param policyExitProb ConsistentEE's π_i = π(exit | h_i) for this layer, NaN when there is no policy
         * @return true when the sample exits here (always true at the last layer)
         */
        boolean observe(int layer, float[] out, int offset, float policyExitProb);

        /** {@code observe(layer, out, 0, NaN)}: the exit's output is the whole array. */
        default boolean observe(int layer, float[] out) {
            return observe(layer, out, 0, Float.NaN);
        }

        /**
         * The number the rule compared at the last observe: c_i (max-prob), H_i (entropy), the patience counter,
         * S_i (BEEM), π_i (ConsistentEE); for logs and for calibration, which reads BEEM's S_i through it.
         */
        double statistic();
    }
}
