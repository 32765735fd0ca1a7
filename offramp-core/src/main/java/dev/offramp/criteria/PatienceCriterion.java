package dev.offramp.criteria;

/**
 * PABEE (patience), exactly as the reference code's loop: at each exit, if there is a previous exit and this
 * exit agrees with it, {@code counter += 1}, else {@code counter = 0}; exit when {@code counter == P}.
 * So P = 1 exits at the first layer whose prediction equals the previous layer's (two consecutive agreeing
 * exits), P = 2 needs three in a row; P = 0 exits at layer 1.
 *
 * <p>"Agree": classification, same argmax (ties → lowest index); regression (K = 1), {@code |ŷ_i − ŷ_{i−1}| < δ}
 * (strict, as in PABEE). δ is required for regression and ignored for classification. "Previous" is the
 * previously observed exit.
 */
public record PatienceCriterion(int patience, double delta) implements ExitCriterion {
    public static final String NAME = "patience";

    /** Classification-only form (δ unset). */
    public PatienceCriterion(int patience) {
        this(patience, Double.NaN);
    }

    public PatienceCriterion {
        if (patience < 0) {
            throw new IllegalArgumentException("patience P must be >= 0, got " + patience);
        }
        if (!Double.isNaN(delta) && !(delta > 0.0)) {
            throw new IllegalArgumentException("patience regression delta must be > 0, got " + delta);
        }
    }

    @Override public String name() { return NAME; }

    @Override public String describe() {
        return NAME + "(P=" + patience + (Double.isNaN(delta) ? "" : ", delta=" + delta) + ")";
    }

    @Override public CriterionSettings settings() {
        return Double.isNaN(delta) ? CriterionSettings.of(NAME, "patience", patience)
                : CriterionSettings.of(NAME, "patience", patience, "delta", delta);
    }

    @Override
    public Decider start(int numLayers, int numClasses) {
        boolean regression = numClasses == 1;
        if (regression && Double.isNaN(delta)) {
            throw new IllegalArgumentException("patience on a regression exit needs delta (|y_i - y_{i-1}| < delta"
                    + " counts as agreement); construct PatienceCriterion(P, delta)");
        }
        return new LayerDecider(NAME, numLayers, numClasses) {
            int counter;
            int previousClass;
            float previousScore;

            @Override void resetState() { counter = 0; }

            @Override boolean decide(int layer, float[] out, int off, float pi) {
                boolean agree;
                if (regression) {
                    float score = out[off];
                    agree = previousLayer > 0 && Math.abs(score - previousScore) < delta;
                    previousScore = score;
                } else {
                    int cls = ExitMath.argmax(out, off, numClasses);
                    agree = previousLayer > 0 && cls == previousClass;
                    previousClass = cls;
                }
                counter = agree ? counter + 1 : 0;
                return counter == patience;
            }

            @Override public double statistic() { return counter; }
        };
    }
}
