package dev.offramp.criteria;

/**
 * Oracle: exit at the first layer whose prediction is correct, else at the last. Needs the gold label
 * (Decider.reset(gold)); the accuracy upper bound, for reports only. Classification: correct = argmax equals the
 * gold class. Regression: correct = |ŷ_i − gold| ≤ tolerance (the knob; ignored for classification).
 */
public record OracleCriterion(double tolerance) implements ExitCriterion {
    public static final String NAME = "oracle";

    public OracleCriterion() {
        this(0.0);
    }

    public OracleCriterion {
        if (!(tolerance >= 0.0)) {
            throw new IllegalArgumentException("oracle regression tolerance must be >= 0, got " + tolerance);
        }
    }

    @Override public String name() { return NAME; }
    @Override public String describe() { return NAME + (tolerance > 0 ? "(tolerance=" + tolerance + ")" : ""); }
    @Override public CriterionSettings settings() { return CriterionSettings.of(NAME, "tolerance", tolerance); }

    @Override
    public Decider start(int numLayers, int numClasses) {
        return new LayerDecider(NAME, numLayers, numClasses) {
            boolean correct;

            @Override void resetState() { correct = false; }

            @Override boolean decide(int layer, float[] out, int off, float pi) {
                if (Float.isNaN(gold)) {
                    throw new IllegalStateException("oracle needs the gold label: call Decider.reset(gold) (layer "
                            + layer + ")");
                }
                correct = numClasses == 1 ? Math.abs(out[off] - gold) <= tolerance
                        : ExitMath.argmax(out, off, numClasses) == (int) gold;
                return correct;
            }

            @Override public double statistic() { return correct ? 1.0 : 0.0; }
        };
    }
}
