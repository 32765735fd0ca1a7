package dev.offramp.criteria;

/** Static: every sample exits at layer k (k = L is the full model). The cost lower bound, for reports. */
public record StaticCriterion(int layer) implements ExitCriterion {
    public static final String NAME = "static";

    public StaticCriterion {
        if (layer < 1) {
            throw new IllegalArgumentException("static exit layer k must be >= 1, got " + layer);
        }
    }

    @Override public String name() { return NAME; }
    @Override public String describe() { return NAME + "(k=" + layer + ")"; }
    @Override public CriterionSettings settings() { return CriterionSettings.of(NAME, "layer", layer); }

    @Override
    public Decider start(int numLayers, int numClasses) {
        if (layer > numLayers) {
            throw new IllegalArgumentException("static exit layer k=" + layer + " is beyond the model's "
                    + numLayers + " layers");
        }
        return new LayerDecider(NAME, numLayers, numClasses) {
            @Override void resetState() {}
            @Override boolean decide(int l, float[] out, int off, float pi) { return l >= layer; }
            @Override public double statistic() { return previousLayer; }
        };
    }
}
