package dev.offramp.eval.calibration;

import dev.offramp.criteria.BeemCriterion;
import dev.offramp.criteria.ConsistentEeCriterion;
import dev.offramp.criteria.EntropyCriterion;
import dev.offramp.criteria.ExitCriterion;
import dev.offramp.criteria.MaxProbCriterion;
import dev.offramp.criteria.PatienceCriterion;
import dev.offramp.criteria.StaticCriterion;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.DoubleFunction;

/**
 * Trade-off curves: every criterion replayed over one cached split for each value of its knob.
 * The default grids: max-prob τ ∈ [1/K, 1] (= [0.5, 1] for binary tasks), entropy S ∈ [0, ln K], patience
 * P ∈ 1..L, static k ∈ 1..L, ConsistentEE τ ∈ [0, 1], BEEM per-exit ε ∈ {@link #DEFAULT_EPSILONS} and global α
 * over the quantiles of S. Each point is one {@link Simulator} run (~1 ms for 10k × 12 × 2), so the few hundred
 * settings of {@link #all} take about a second
 * (0.7–2.4 s measured on the shared 2-core machine at load 3–8).
 */
public final class Sweep {
    /** BEEM tolerance factors ε (target error p·(1+ε)); 0 = "at least as accurate as the final exit". */
    public static final double[] DEFAULT_EPSILONS = {0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10};
    /** Points on the continuous default grids. */
    public static final int GRID_POINTS = 51;
    /** Quantiles of S tried as global BEEM α (plus +∞, the full model). */
    public static final int ALPHA_QUANTILES = 64;

    private final ExitOutputs cache;
    private final Metric metric;
    private final double fullModelMetric;

    public Sweep(ExitOutputs cache, Metric metric) {
        this.cache = cache;
        this.metric = metric;
        this.fullModelMetric = Simulator.run(cache, new StaticCriterion(cache.layers()), metric).metric();
    }

    public ExitOutputs cache() { return cache; }
    public Metric metric() { return metric; }
    /** The metric of the last exit alone (every sample runs all L layers). */
    public double fullModelMetric() { return fullModelMetric; }

    /** One simulated point. */
    public TradeoffPoint point(ExitCriterion criterion, String knob, double knobValue) {
        SimulationResult r = Simulator.run(cache, criterion, metric);
        return new TradeoffPoint(criterion.settings(), knob, knobValue, r.metric(), r.meanLayers(), r.layerSpeedup());
    }

    /** A curve over any knob: {@code make} builds the criterion for each value. */
    public TradeoffCurve curve(String name, String knob, double[] values, DoubleFunction<ExitCriterion> make) {
        List<TradeoffPoint> points = new ArrayList<>(values.length);
        for (double v : values) points.add(point(make.apply(v), knob, v));
        return new TradeoffCurve(name, fullModelMetric, points);
    }

    public TradeoffCurve maxProb(double[] taus) {
        return curve(MaxProbCriterion.NAME, "tau", taus, MaxProbCriterion::new);
    }

    public TradeoffCurve entropy(double[] thresholds) {
        return curve(EntropyCriterion.NAME, "threshold", thresholds, EntropyCriterion::new);
    }

    /** @param delta regression agreement tolerance (NaN for classification) */
    public TradeoffCurve patience(int[] patiences, double delta) {
        return curve(PatienceCriterion.NAME, "patience", toDoubles(patiences),
                p -> new PatienceCriterion((int) p, delta));
    }

    public TradeoffCurve staticExits() {
        int[] k = new int[cache.layers()];
        for (int i = 0; i < k.length; i++) k[i] = i + 1;
        return curve(StaticCriterion.NAME, "layer", toDoubles(k), v -> new StaticCriterion((int) v));
    }

    public TradeoffCurve consistentEe(double[] taus) {
        if (!cache.hasPolicy()) {
            throw new IllegalArgumentException("consistentee sweep needs policy probabilities in the exit cache"
                    + " (ExitOutputs.withPolicy)");
        }
        return curve(ConsistentEeCriterion.NAME, "tau", taus, ConsistentEeCriterion::new);
    }

    /** BEEM with one α at every exit; the template gives weights, reset and δ. */
    public TradeoffCurve beemGlobal(BeemCriterion template, double[] alphas) {
        double[] w = template.weights();
        return curve(BeemCriterion.NAME, "alpha", alphas, a -> {
            double[] all = new double[w.length];
            Arrays.fill(all, a);
            return template.withAlphas(all);
        });
    }

    /** BEEM with per-exit α_i from error rates, for each tolerance ε (classification only). */
    public TradeoffCurve beemPerExit(BeemCriterion template, double[] epsilons) {
        return curve(BeemCriterion.NAME, "epsilon", epsilons,
                eps -> BeemThresholds.fromErrorRates(cache, template, eps).criterion());
    }

    public double[] defaultMaxProbGrid() {
        return grid(1.0 / cache.classes(), 1.0, GRID_POINTS);
    }

    public double[] defaultEntropyGrid() {
        return grid(0.0, Math.log(cache.classes()), GRID_POINTS);
    }

    public int[] defaultPatienceGrid() {
        int[] p = new int[cache.layers()];
        for (int i = 0; i < p.length; i++) p[i] = i + 1;
        return p;
    }

    /**
     * τ evenly spaced in [0, 1], plus (when the cache has π) the quantiles of π over samples and layers 1..L−1:
     * trained policies put most π near 0 or 1, where an even grid has too few points to trace the curve.
     */
    public double[] defaultConsistentEeGrid() {
        double[] even = grid(0.0, 1.0, GRID_POINTS);
        if (!cache.hasPolicy()) return even;
        int n = cache.samples(), numLayers = cache.layers(), m = 0;
        double[] pi = new double[n * (numLayers - 1)];
        for (int sample = 0; sample < n; sample++) {
            for (int i = 1; i < numLayers; i++) pi[m++] = cache.policy(sample, i);
        }
        Arrays.sort(pi, 0, m);
        double[] all = Arrays.copyOf(even, even.length + ALPHA_QUANTILES);
        int g = even.length;
        for (int q = 0; q < ALPHA_QUANTILES && m > 0; q++) {
            // just above the quantile: π ≥ τ then excludes that quantile's samples, which separates them
            all[g++] = Math.min(1.0, Math.nextUp((float) pi[(int) ((long) q * (m - 1) / (ALPHA_QUANTILES - 1))]));
        }
        all = Arrays.copyOf(all, g);
        Arrays.sort(all);
        int d = 0;
        for (int i = 0; i < all.length; i++) if (d == 0 || all[i] != all[d - 1]) all[d++] = all[i];
        return Arrays.copyOf(all, d);
    }

    /** Distinct quantiles of S over all samples and exits 1..L−1, then +∞ (never exit early). */
    public double[] defaultBeemAlphaGrid(BeemCriterion template) {
        int n = cache.samples(), numLayers = cache.layers();
        double[] s = BeemThresholds.scores(cache, template);  // (N, L)
        double[] early = new double[n * (numLayers - 1)];
        int m = 0;
        for (int sample = 0; sample < n; sample++) {
            for (int i = 0; i < numLayers - 1; i++) early[m++] = s[sample * numLayers + i];
        }
        Arrays.sort(early, 0, m);
        double[] grid = new double[ALPHA_QUANTILES + 1];
        int g = 0;
        for (int q = 0; q < ALPHA_QUANTILES && m > 0; q++) {
            double v = early[(int) ((long) q * (m - 1) / (ALPHA_QUANTILES - 1))];
            if (g == 0 || v != grid[g - 1]) grid[g++] = v;
        }
        grid[g++] = Double.POSITIVE_INFINITY;
        return Arrays.copyOf(grid, g);
    }

    /**
     * Every applicable criterion on its default grid: static; max-prob, entropy (classification); patience;
     * BEEM-C and BEEM-A (reset current), each with per-exit ε (classification) and global α; ConsistentEE when the
     * cache has policy probabilities.
     *
     * @param regressionDelta agreement tolerance for patience/BEEM on regression; ignored for classification
     */
    public List<TradeoffCurve> all(double regressionDelta) {
        boolean regression = cache.regression();
        double delta = regression ? regressionDelta : Double.NaN;
        List<TradeoffCurve> curves = new ArrayList<>();
        curves.add(staticExits());
        if (!regression) {
            curves.add(maxProb(defaultMaxProbGrid()));
            curves.add(entropy(defaultEntropyGrid()));
        }
        curves.add(patience(defaultPatienceGrid(), delta));
        int numLayers = cache.layers();
        double[] never = new double[numLayers];
        Arrays.fill(never, Double.POSITIVE_INFINITY);
        BeemCriterion beemC = new BeemCriterion(BeemCriterion.costWeights(numLayers), never,
                BeemCriterion.Reset.CURRENT, delta);
        curves.add(rename("beem-c global", beemGlobal(beemC, defaultBeemAlphaGrid(beemC))));
        if (!regression) {
            curves.add(rename("beem-c per-exit", beemPerExit(beemC, DEFAULT_EPSILONS)));
            BeemCriterion beemA = new BeemCriterion(BeemThresholds.accuracyWeights(cache), never,
                    BeemCriterion.Reset.CURRENT, delta);
            curves.add(rename("beem-a global", beemGlobal(beemA, defaultBeemAlphaGrid(beemA))));
            curves.add(rename("beem-a per-exit", beemPerExit(beemA, DEFAULT_EPSILONS)));
        }
        if (cache.hasPolicy()) {
            curves.add(consistentEe(defaultConsistentEeGrid()));
        }
        return curves;
    }

    /** {@code points} evenly spaced values from lo to hi inclusive. */
    public static double[] grid(double lo, double hi, int points) {
        if (points < 2) return new double[] {lo};
        double[] g = new double[points];
        for (int i = 0; i < points; i++) g[i] = lo + (hi - lo) * i / (points - 1);
        g[points - 1] = hi;
        return g;
    }

    private static TradeoffCurve rename(String name, TradeoffCurve c) {
        return new TradeoffCurve(name, c.fullModelMetric(), c.points());
    }

    private static double[] toDoubles(int[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) d[i] = v[i];
        return d;
    }
}
