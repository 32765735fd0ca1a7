package dev.offramp.eval.calibration;

import dev.offramp.criteria.BeemCriterion;
import dev.offramp.criteria.Criteria;
import dev.offramp.criteria.ExitCriterion;

import java.util.Arrays;

/**
 * BEEM's thresholds α_i from validation error rates, and the search modes around them (methods.md §3).
 *
 * <p><b>From error rates</b> ({@link #fromErrorRates}): let p be the final exit's error rate on the validation
 * split and the target t = p·(1+ε). Exits are processed in order 1..L−1 on the samples that have not exited at
 * an earlier exit. For exit i, α_i is the smallest value such that, among the remaining samples with S_i ≥ α_i,
 * the error rate (ŷ_i wrong) is ≤ t. Only the S_i values of remaining samples are candidates (any α between two
 * neighbouring values selects the same set, and we take the value itself, so a sample whose S_i equals α_i
 * exits). The error rate is not monotone in α, so every candidate is checked and the smallest qualifying one
 * kept. If none qualifies (or no sample reaches exit i), α_i = +∞: nobody exits there. Samples with
 * S_i ≥ α_i are then removed before exit i+1.
 *
 * <p>Alongside, the report gives q_i, the error rate of exit i alone on all validation samples: BEEM's
 * Theorem 3.1 bounds the ensemble's error by p when the q_i are small enough.
 *
 * <p><b>Global α</b> and the <b>target</b> modes search a {@link Sweep} curve: a single α for all exits, or the
 * per-exit rule over a grid of ε, picking the fastest setting within an allowed metric drop, or the most
 * accurate one at a required speed-up.
 */
public final class BeemThresholds {
    private BeemThresholds() {}

    /** Which family of thresholds a target mode searches. */
    public enum Mode {
        /** α_i from error rates, ε swept over {@link Sweep#DEFAULT_EPSILONS}. */
        PER_EXIT,
        /** one α for every exit, swept over the quantiles of S. */
        GLOBAL
    }

    /**
     * Result of {@link #fromErrorRates}; arrays indexed by exit − 1.
     *
     * @param finalErrorRate   p, error rate of exit L on the split
     * @param epsilon          tolerance ε
     * @param targetErrorRate  p·(1+ε)
     * @param alphas           α_1..α_{L−1} (+∞ = never exit there)
     * @param exitErrorRates   q_1..q_L, each exit alone on all samples
     * @param reached          samples that reached exit i (not exited before), i < L
     * @param exited           samples that exit at i, i < L
     * @param exitErrors       wrong predictions among those, i < L
     * @param criterion        the calibrated criterion (template's weights, reset, δ with these α)
     */
    public record Calibration(double finalErrorRate, double epsilon, double targetErrorRate, double[] alphas,
                              double[] exitErrorRates, int[] reached, int[] exited, int[] exitErrors,
                              BeemCriterion criterion) {

        /** A table: exit, weight, α_i, q_i, reached, exited, error rate among the exited; then p. */
        public String report() {
            double[] w = criterion.weights();
            StringBuilder sb = new StringBuilder();
            sb.append(String.format("BEEM thresholds from error rates: p = %.4f (final exit), epsilon = %.3g,"
                    + " target = %.4f, reset = %s%n", finalErrorRate, epsilon, targetErrorRate,
                    criterion.reset().label()));
            sb.append(String.format("%5s %8s %10s %8s %8s %8s %10s%n", "exit", "w", "alpha", "q_i", "reached",
                    "exited", "err(exit)"));
            for (int i = 0; i < exitErrorRates.length; i++) {
                if (i < alphas.length) {
                    sb.append(String.format("%5d %8.4f %10.4f %8.4f %8d %8d %10s%n", i + 1, w[i], alphas[i],
                            exitErrorRates[i], reached[i], exited[i],
                            exited[i] == 0 ? "-" : String.format("%.4f", (double) exitErrors[i] / exited[i])));
                } else {
                    sb.append(String.format("%5d %8.4f %10s %8.4f%n", i + 1, w[i], "(last)", exitErrorRates[i]));
                }
            }
            return sb.toString();
        }
    }

    /** BEEM-A weights: each exit's validation accuracy alone. */
    public static double[] accuracyWeights(ExitOutputs validation) {
        return validation.exitAccuracies();
    }

    /**
     * S_i of every sample at every exit (N, L) under the template's weights, reset and δ, computed by the
     * criterion's own decider (all thresholds +∞), so calibration and inference share one implementation.
     */
    public static double[] scores(ExitOutputs cache, BeemCriterion template) {
        int n = cache.samples(), numLayers = cache.layers();
        double[] never = new double[numLayers];
        Arrays.fill(never, Double.POSITIVE_INFINITY);
        ExitCriterion.Decider d = template.withAlphas(never).start(numLayers, cache.classes());
        float[] out = cache.outputs();
        double[] s = new double[n * numLayers];  // (N, L)
        for (int sample = 0; sample < n; sample++) {
            d.reset();
            for (int layer = 1; layer <= numLayers; layer++) {
                d.observe(layer, out, cache.offset(sample, layer), Float.NaN);
                s[sample * numLayers + layer - 1] = d.statistic();
            }
        }
        return s;
    }

    /** Thresholds from error rates with tolerance ε ≥ 0 (see the class comment). Classification only. */
    public static Calibration fromErrorRates(ExitOutputs validation, BeemCriterion template, double epsilon) {
        if (validation.regression()) {
            throw new IllegalArgumentException("BEEM thresholds from error rates need a classification task; for"
                    + " regression search a global alpha with a metric (BeemThresholds.forAccuracyDrop, GLOBAL)");
        }
        if (!(epsilon >= 0.0)) {
            throw new IllegalArgumentException("BEEM tolerance epsilon must be >= 0, got " + epsilon);
        }
        int n = validation.samples(), numLayers = validation.layers();
        float[] gold = validation.gold();
        double[] s = scores(validation, template);  // (N, L)

        double[] q = new double[numLayers];
        for (int i = 1; i <= numLayers; i++) q[i - 1] = 1.0 - validation.exitAccuracy(i);
        double p = q[numLayers - 1];
        double target = p * (1.0 + epsilon);

        double[] alphas = new double[numLayers - 1];
        int[] reached = new int[numLayers - 1], exited = new int[numLayers - 1], exitErrors = new int[numLayers - 1];
        boolean[] gone = new boolean[n];
        double[] right = new double[n], wrong = new double[n];  // S_i of remaining samples, by correctness
        for (int i = 1; i < numLayers; i++) {
            int nRight = 0, nWrong = 0;
            for (int sample = 0; sample < n; sample++) {
                if (gone[sample]) continue;
                double si = s[sample * numLayers + i - 1];
                if (validation.prediction(sample, i) == gold[sample]) right[nRight++] = si;
                else wrong[nWrong++] = si;
            }
            reached[i - 1] = nRight + nWrong;
            double alpha = smallestQualifyingAlpha(right, nRight, wrong, nWrong, target);
            alphas[i - 1] = alpha;
            for (int sample = 0; sample < n; sample++) {
                if (!gone[sample] && s[sample * numLayers + i - 1] >= alpha) {
                    gone[sample] = true;
                    exited[i - 1]++;
                    if (validation.prediction(sample, i) != gold[sample]) exitErrors[i - 1]++;
                }
            }
        }
        return new Calibration(p, epsilon, target, alphas, q, reached, exited, exitErrors,
                template.withAlphas(alphas));
    }

    /**
     * Scans the candidate thresholds (the distinct S values) from the highest down, growing the set
     * {S ≥ α}, and keeps the lowest α whose set has error rate ≤ target. +∞ when none does.
     */
    static double smallestQualifyingAlpha(double[] right, int nRight, double[] wrong, int nWrong, double target) {
        Arrays.sort(right, 0, nRight);
        Arrays.sort(wrong, 0, nWrong);
        int a = nRight - 1, b = nWrong - 1;
        long count = 0, errors = 0;
        double best = Double.POSITIVE_INFINITY;
        while (a >= 0 || b >= 0) {
            double v = Math.max(a >= 0 ? right[a] : Double.NEGATIVE_INFINITY, b >= 0 ? wrong[b] : Double.NEGATIVE_INFINITY);
            while (a >= 0 && right[a] == v) { count++; a--; }
            while (b >= 0 && wrong[b] == v) { count++; errors++; b--; }
            if (errors <= target * count + 1e-9) best = v;  // slack: p·(1+ε)·count is a float product
        }
        return best;
    }

    /**
     * Target accuracy drop: the fastest BEEM setting (of the given mode) whose validation metric is ≥ the full
     * model's − maxDropPoints/100 (D in metric points, see {@link TradeoffCurve}). Falls back to "never exit
     * early" (all α = +∞) when no setting qualifies.
     */
    public static BeemCriterion forAccuracyDrop(Sweep sweep, BeemCriterion template, double maxDropPoints, Mode mode) {
        TradeoffCurve curve = curve(sweep, template, mode);
        return curve.pickFastestWithin(maxDropPoints)
                .map(p -> (BeemCriterion) Criteria.fromSettings(p.settings()))
                .orElseGet(() -> neverEarly(template));
    }

    /**
     * Target speed-up: the most accurate BEEM setting (of the given mode) with layer speed-up ≥ target; when
     * none is that fast, the fastest setting there is.
     */
    public static BeemCriterion forSpeedup(Sweep sweep, BeemCriterion template, double targetSpeedup, Mode mode) {
        TradeoffCurve curve = curve(sweep, template, mode);
        TradeoffPoint chosen = curve.pickBestAtSpeedup(targetSpeedup).orElseGet(() -> curve.points().stream()
                .max((x, y) -> Double.compare(x.layerSpeedup(), y.layerSpeedup())).orElseThrow());
        return (BeemCriterion) Criteria.fromSettings(chosen.settings());
    }

    /** The single global α: the fastest one at least as good as the full model on validation (drop 0). */
    public static BeemCriterion globalAlpha(Sweep sweep, BeemCriterion template) {
        return forAccuracyDrop(sweep, template, 0.0, Mode.GLOBAL);
    }

    private static TradeoffCurve curve(Sweep sweep, BeemCriterion template, Mode mode) {
        return switch (mode) {
            case PER_EXIT -> sweep.beemPerExit(template, Sweep.DEFAULT_EPSILONS);
            case GLOBAL -> sweep.beemGlobal(template, sweep.defaultBeemAlphaGrid(template));
        };
    }

    private static BeemCriterion neverEarly(BeemCriterion template) {
        double[] never = new double[template.weights().length];
        Arrays.fill(never, Double.POSITIVE_INFINITY);
        return template.withAlphas(never);
    }
}
