package dev.offramp.eval;

import dev.offramp.data.Task;
import dev.offramp.eval.calibration.ExitOutputs;
import dev.offramp.eval.calibration.Metric;
import dev.offramp.eval.calibration.Sweep;
import dev.offramp.eval.calibration.TradeoffCurve;
import dev.offramp.eval.calibration.TradeoffPoint;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * Calibrates every exit policy on the validation split's cached exit outputs: sweeps each criterion's knob and
 * picks the fastest setting whose validation metric is within D points of the full model (--max-drop D).
 * BEEM's curve joins its two calibrations, per-exit thresholds from error rates (swept over the tolerance ε)
 * and a single global α, so the pick is the faster of the two at the same accuracy bound.
 */
public final class PolicyCalibration {
    private PolicyCalibration() {}

    /** One policy's trade-off curve on validation and the chosen point (empty when none is within D). */
    public record Calibrated(String policy, TradeoffCurve curve, Optional<TradeoffPoint> chosen) {}

    /** The task's headline metric as a calibration metric over class indices or scores. */
    public static Metric metricFor(Task task) {
        return switch (task.headline()) {
            case ACCURACY -> Metric.ACCURACY;
            case F1 -> (p, g) -> Metrics.f1(toInt(p), toInt(g));
            case MACRO_F1 -> (p, g) -> Metrics.macroF1(toInt(p), toInt(g), task.numLabels());
            case MATTHEWS -> (p, g) -> Metrics.matthews(toInt(p), toInt(g));
            case PEARSON -> Metrics::pearson;
            case SPEARMAN -> Metrics::spearman;
        };
    }

    private static int[] toInt(float[] x) {
        int[] r = new int[x.length];
        for (int i = 0; i < x.length; i++) r[i] = (int) x[i];
        return r;
    }

    /**
     * Every applicable policy's curve and pick.
     *
     * @param maxDropPoints D in points of the metric (0.5 = 0.005 accuracy)
     * @param regressionDelta agreement tolerance on scores for patience/BEEM (regression only)
     */
    public static Map<String, Calibrated> calibrateAll(ExitOutputs validation, Metric metric, double maxDropPoints,
                                                       double regressionDelta) {
        return calibrateAll(validation, metric, curve -> curve.pickFastestWithin(maxDropPoints), regressionDelta);
    }

    /** Every applicable policy's curve and the point {@code pick} chooses on it (e.g. the best at a speed-up). */
    public static Map<String, Calibrated> calibrateAll(ExitOutputs validation, Metric metric,
                                                       Function<TradeoffCurve, Optional<TradeoffPoint>> pick,
                                                       double regressionDelta) {
        Sweep sweep = new Sweep(validation, metric);
        Map<String, List<TradeoffCurve>> byPolicy = new LinkedHashMap<>();
        for (TradeoffCurve c : sweep.all(regressionDelta)) {
            String policy = c.name().startsWith("beem-c") ? "beem-c" : c.name().startsWith("beem-a") ? "beem-a" : c.name();
            byPolicy.computeIfAbsent(policy, k -> new ArrayList<>()).add(c);
        }
        Map<String, Calibrated> out = new LinkedHashMap<>();
        for (var e : byPolicy.entrySet()) {
            TradeoffCurve curve = e.getValue().size() == 1 ? e.getValue().get(0) : TradeoffCurve.merge(e.getKey(), e.getValue());
            out.put(e.getKey(), new Calibrated(e.getKey(), curve, pick.apply(curve)));
        }
        return out;
    }
}
