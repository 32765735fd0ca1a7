package dev.offramp.generation;

/**
 * Decides, after each layer of one generated token, whether the token leaves there (token-level early exit).
 *
 * <p>Immutable; the generator calls {@link #exitAfter} for layers 1 .. L−1 in order with the token's
 * {@link LayerSignals} and stops at the first true. Layer L always exits and is never asked. The prompt runs every
 * layer and is never asked either.
 */
public interface TokenExitCriterion {

    /** Short stable name: top-prob, top-margin, saturation, static, oracle, consistentee, speculative, full. */
    String name();

    /** The name with its knob, e.g. {@code top-prob(tau=0.9)}. */
    String describe();

    /** The knob a calibration sweeps (a threshold or a layer), NaN when there is none. */
    double threshold();

    /** True when the token exits after {@code s.layer()}. */
    boolean exitAfter(LayerSignals s);

    /**
     * The oracle needs the full-depth token before it can decide, so the generator runs every layer first and asks
     * afterwards (the KV cache is then exact whatever the mode).
     */
    default boolean needsFullDepthToken() {
        return false;
    }
}
