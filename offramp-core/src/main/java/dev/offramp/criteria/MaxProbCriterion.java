package dev.offramp.criteria;

/**
 * Max-prob: exit at the first layer i with c_i = max p_i ≥ τ (a value exactly equal to τ exits).
 * τ is compared in float, the type of the probabilities, so τ = 0.9 and c = 0.9f count as equal.
 * Not defined for regression (throws in {@link #start}).
 */
public record MaxProbCriterion(float tau) implements ExitCriterion {
    public static final String NAME = "max-prob";

    public MaxProbCriterion(double tau) {
        this((float) tau);
    }

    public MaxProbCriterion {
        if (!(tau >= 0f && tau <= 1f)) {
            throw new IllegalArgumentException("max-prob threshold tau must be in [0, 1], got " + tau);
        }
    }

    @Override public String name() { return NAME; }
    @Override public String describe() { return NAME + "(tau=" + tau + ")"; }
    /** τ is written as its shortest decimal (0.9, not 0.8999999761581421); reading it back gives the same float. */
    @Override public CriterionSettings settings() {
        return CriterionSettings.of(NAME, "tau", Double.parseDouble(Float.toString(tau)));
    }

    @Override
    public Decider start(int numLayers, int numClasses) {
        LayerDecider.requireClassification(NAME, numClasses);
        return new LayerDecider(NAME, numLayers, numClasses) {
            float confidence = Float.NaN;

            @Override void resetState() { confidence = Float.NaN; }

            @Override boolean decide(int layer, float[] out, int off, float pi) {
                confidence = ExitMath.max(out, off, numClasses);
                return confidence >= tau;
            }

            @Override public double statistic() { return confidence; }
        };
    }
}
