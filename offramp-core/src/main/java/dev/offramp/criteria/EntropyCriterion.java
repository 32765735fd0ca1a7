package dev.offramp.criteria;

/**
 * DeeBERT: exit at the first layer i whose entropy H_i = -Σ p log p (nats) is strictly below the threshold S.
 * S = 0 never exits early (entropy is never negative); S > ln K always exits at layer 1.
 * Not defined for regression (throws in {@link #start}).
 */
public record EntropyCriterion(double threshold) implements ExitCriterion {
    public static final String NAME = "entropy";

    public EntropyCriterion {
        if (!(threshold >= 0.0)) {
            throw new IllegalArgumentException("entropy threshold S must be >= 0, got " + threshold);
        }
    }

    @Override public String name() { return NAME; }
    @Override public String describe() { return NAME + "(S=" + threshold + ")"; }
    @Override public CriterionSettings settings() { return CriterionSettings.of(NAME, "threshold", threshold); }

    @Override
    public Decider start(int numLayers, int numClasses) {
        LayerDecider.requireClassification(NAME, numClasses);
        return new LayerDecider(NAME, numLayers, numClasses) {
            double entropy = Double.NaN;

            @Override void resetState() { entropy = Double.NaN; }

            @Override boolean decide(int layer, float[] out, int off, float pi) {
                entropy = ExitMath.entropy(out, off, numClasses);
                return entropy < threshold;
            }

            @Override public double statistic() { return entropy; }
        };
    }
}
