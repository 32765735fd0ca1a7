package dev.offramp.criteria;

import java.util.Arrays;
import java.util.Locale;

/**
 * BEEM: exits as experts whose confidences add up while neighbours agree
 * ("BEEM: Boosting Performance of Early Exit DNNs using Multi-Exit Classifiers as Experts").
 *
 * <p>The rule, with w_i the weight of exit i, c_i = max p_i, ŷ_i = argmax p_i (ties → lowest class index):
 * <pre>
 *   S_1 = w_1·c_1
 *   S_i = S_{i−1} + w_i·c_i   if ŷ_i = ŷ_{i−1}
 *   S_i = w_i·c_i             otherwise                  (Reset.CURRENT, the paper: restart from exit i)
 *   S_i = 0                   otherwise                  (Reset.ZERO, the reference code)
 *   exit at the first i with S_i ≥ α_i; the prediction is ŷ_i; the last layer always exits.
 * </pre>
 * Reading of {@code Reset.ZERO}: the reset replaces the score and nothing is added at the disagreeing exit, so
 * S_i = 0 there and exit i cannot fire (unless α_i ≤ 0); accumulation starts again at i+1 from 0, i.e.
 * S_{i+1} = w_{i+1}·c_{i+1} if ŷ_{i+1} = ŷ_i. The other reading (reset to 0, then add w_i·c_i) would be the
 * paper's rule again, so it cannot be what the option means.
 *
 * <p>Weights: BEEM-C {@link #costWeights} w_i = i/L; BEEM-A w_i = validation accuracy of exit i alone
 * (calibration computes them). Thresholds α_i per exit (or one global α) come from calibration.
 *
 * <p>Regression (K = 1) (our choice; the paper is classification-only): "agree" is |ŷ_i − ŷ_{i−1}| < δ as in
 * PABEE, and each exit's confidence is c_i = 1, so S_i is the summed weight of the current run of agreeing
 * exits: a weighted patience.
 */
public final class BeemCriterion implements ExitCriterion {
    public static final String NAME = "beem";

    /** What happens to S when neighbouring exits disagree. */
    public enum Reset {
        /** S_i = w_i·c_i: the ensemble restarts from the current expert (the paper's rule). */
        CURRENT,
        /** S_i = 0: the reference code's rule ({@code --reset zero}). */
        ZERO;

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }

        public static Reset fromLabel(String label) {
            return switch (label.toLowerCase(Locale.ROOT)) {
                case "current" -> CURRENT;
                case "zero" -> ZERO;
                default -> throw new IllegalArgumentException("unknown BEEM reset '" + label
                        + "' (expected current or zero)");
            };
        }
    }

    private final double[] weights;  // (L) w_i at index i-1
    private final double[] alphas;   // (L) α_i at index i-1; α_L is never read (the last layer always exits)
    private final Reset reset;
    private final double delta;      // regression agreement; NaN = classification only

    /**
     * @param weights w_1..w_L (length L, all ≥ 0)
     * @param alphas  α_1..α_{L−1} or α_1..α_L (+∞ = never exit at that exit)
     * @param delta   regression agreement tolerance, NaN when the task is classification
     */
    public BeemCriterion(double[] weights, double[] alphas, Reset reset, double delta) {
        if (weights.length < 1) {
            throw new IllegalArgumentException("beem needs at least one weight");
        }
        for (int i = 0; i < weights.length; i++) {
            if (!(weights[i] >= 0.0) || Double.isInfinite(weights[i])) {
                throw new IllegalArgumentException("beem weight w_" + (i + 1) + " must be finite and >= 0, got "
                        + weights[i]);
            }
        }
        if (alphas.length != weights.length && alphas.length != weights.length - 1) {
            throw new IllegalArgumentException("beem has " + weights.length + " weights but " + alphas.length
                    + " thresholds (expected L or L-1)");
        }
        for (int i = 0; i < alphas.length; i++) {
            if (Double.isNaN(alphas[i])) {
                throw new IllegalArgumentException("beem threshold alpha_" + (i + 1) + " is NaN");
            }
        }
        if (!Double.isNaN(delta) && !(delta > 0.0)) {
            throw new IllegalArgumentException("beem regression delta must be > 0, got " + delta);
        }
        this.weights = weights.clone();
        this.alphas = Arrays.copyOf(alphas, weights.length);
        this.alphas[weights.length - 1] = 0.0;  // α_L is never read; one canonical value keeps equals() honest
        this.reset = reset;
        this.delta = delta;
    }

    public BeemCriterion(double[] weights, double[] alphas, Reset reset) {
        this(weights, alphas, reset, Double.NaN);
    }

    /** One threshold α for every exit. */
    public static BeemCriterion global(double[] weights, double alpha, Reset reset) {
        double[] alphas = new double[weights.length];
        Arrays.fill(alphas, alpha);
        return new BeemCriterion(weights, alphas, reset);
    }

    /** BEEM-C weights for L identical layers: w_i = i/L (0.1, 0.2, ... in the paper's figure for ~10 layers). */
    public static double[] costWeights(int numLayers) {
        double[] w = new double[numLayers];
        for (int i = 1; i <= numLayers; i++) {
            w[i - 1] = (double) i / numLayers;
        }
        return w;
    }

    public double[] weights() { return weights.clone(); }
    public double[] alphas() { return alphas.clone(); }
    public Reset reset() { return reset; }
    public double delta() { return delta; }

    /** The same weights, reset and δ with other thresholds. */
    public BeemCriterion withAlphas(double[] newAlphas) {
        return new BeemCriterion(weights, newAlphas, reset, delta);
    }

    @Override public String name() { return NAME; }

    @Override
    public String describe() {
        return NAME + "(reset=" + reset.label() + ", w=" + Arrays.toString(weights) + ", alpha="
                + Arrays.toString(Arrays.copyOf(alphas, alphas.length - 1))
                + (Double.isNaN(delta) ? "" : ", delta=" + delta) + ")";
    }

    @Override
    public CriterionSettings settings() {
        double[] a = Arrays.copyOf(alphas, alphas.length - 1);  // α_L is meaningless; don't store it
        return Double.isNaN(delta)
                ? CriterionSettings.of(NAME, "reset", reset.label(), "weights", weights.clone(), "alphas", a)
                : CriterionSettings.of(NAME, "reset", reset.label(), "weights", weights.clone(), "alphas", a,
                        "delta", delta);
    }

    @Override
    public Decider start(int numLayers, int numClasses) {
        if (numLayers != weights.length) {
            throw new IllegalArgumentException("beem was calibrated for " + weights.length + " exits but the model"
                    + " has " + numLayers);
        }
        boolean regression = numClasses == 1;
        if (regression && Double.isNaN(delta)) {
            throw new IllegalArgumentException("beem on a regression exit needs delta (|y_i - y_{i-1}| < delta"
                    + " counts as agreement)");
        }
        return new LayerDecider(NAME, numLayers, numClasses) {
            double score;  // S_i
            int previousClass;
            float previousValue;

            @Override void resetState() { score = 0.0; }

            @Override boolean decide(int layer, float[] out, int off, float pi) {
                double c;
                boolean agree;
                if (regression) {
                    float value = out[off];
                    c = 1.0;
                    agree = previousLayer > 0 && Math.abs(value - previousValue) < delta;
                    previousValue = value;
                } else {
                    int cls = ExitMath.argmax(out, off, numClasses);
                    c = ExitMath.max(out, off, numClasses);
                    agree = previousLayer > 0 && cls == previousClass;
                    previousClass = cls;
                }
                double wc = weights[layer - 1] * c;
                if (previousLayer == 0) {
                    score = wc;                               // S_1 = w_1·c_1
                } else if (agree) {
                    score += wc;                              // S_i = S_{i−1} + w_i·c_i
                } else {
                    score = reset == Reset.CURRENT ? wc : 0.0; // restart from exit i, or from nothing
                }
                return score >= alphas[layer - 1];
            }

            @Override public double statistic() { return score; }
        };
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof BeemCriterion b && Arrays.equals(weights, b.weights) && Arrays.equals(alphas, b.alphas)
                && reset == b.reset && Double.compare(delta, b.delta) == 0;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(weights) * 31 + Arrays.hashCode(alphas) * 7 + reset.hashCode();
    }

    @Override
    public String toString() {
        return describe();
    }
}
