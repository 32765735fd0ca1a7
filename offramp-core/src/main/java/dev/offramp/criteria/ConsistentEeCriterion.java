package dev.offramp.criteria;

/**
 * ConsistentEE: exit at the first layer i whose policy probability π_i = π(exit | h_i) is ≥ τ (default 0.5).
 * The runner computes π_i with the policy network and passes it as observe's {@code policyExitProb}; a missing
 * (NaN) π before the last layer is an error. At layer L the sample exits without reading π. Works for
 * regression too: the rule never looks at the exit's output.
 */
public record ConsistentEeCriterion(float tau) implements ExitCriterion {
    public static final String NAME = "consistentee";

    public ConsistentEeCriterion() {
        this(0.5f);
    }

    public ConsistentEeCriterion(double tau) {
        this((float) tau);
    }

    public ConsistentEeCriterion {
        if (!(tau >= 0f && tau <= 1f)) {
            throw new IllegalArgumentException("consistentee threshold tau must be in [0, 1], got " + tau);
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
        return new LayerDecider(NAME, numLayers, numClasses) {
            float policy = Float.NaN;

            @Override void resetState() { policy = Float.NaN; }

            @Override boolean decide(int layer, float[] out, int off, float pi) {
                policy = pi;
                if (layer == numLayers) {
                    return true;
                }
                if (Float.isNaN(pi)) {
                    throw new IllegalArgumentException("consistentee needs the policy exit probability pi_" + layer
                            + " (got NaN): the runner must evaluate the policy network at every exit before L");
                }
                return pi >= tau;
            }

            @Override public double statistic() { return policy; }
        };
    }
}
