package dev.offramp.eval.calibration;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The (speed-up, metric) points of one criterion over its knob (or of several criteria, {@link #merge}), with
 * the full model's metric on the same split for reference.
 *
 * <p>Units of the "drop" D: metric points, 1 point = 0.01 of the metric's natural unit. For accuracy 0.912 →
 * 91.2 %, D = 0.5 allows 91.2 % → 90.7 %, i.e. metric ≥ full − D/100.
 */
public record TradeoffCurve(String name, double fullModelMetric, List<TradeoffPoint> points) {
    /** Slack for the float noise of a metric that equals the bound exactly. */
    private static final double EPS = 1e-12;

    public TradeoffCurve {
        points = List.copyOf(points);
    }

    /**
     * The fastest point (highest layer speed-up) whose metric ≥ fullModelMetric − maxDropPoints/100; among
     * equally fast points the one with the higher metric, then the earlier one. Empty if no point qualifies.
     */
    public Optional<TradeoffPoint> pickFastestWithin(double maxDropPoints) {
        if (!(maxDropPoints >= 0.0)) {
            throw new IllegalArgumentException("allowed metric drop must be >= 0 points, got " + maxDropPoints);
        }
        double floor = fullModelMetric - maxDropPoints / 100.0 - EPS;
        TradeoffPoint best = null;
        for (TradeoffPoint p : points) {
            if (p.metric() < floor) continue;
            if (best == null || p.layerSpeedup() > best.layerSpeedup()
                    || (p.layerSpeedup() == best.layerSpeedup() && p.metric() > best.metric())) {
                best = p;
            }
        }
        return Optional.ofNullable(best);
    }

    /**
     * The most accurate point with layer speed-up ≥ target; among equal metrics the faster one. Empty if no
     * point is that fast.
     */
    public Optional<TradeoffPoint> pickBestAtSpeedup(double targetSpeedup) {
        TradeoffPoint best = null;
        for (TradeoffPoint p : points) {
            if (p.layerSpeedup() < targetSpeedup - EPS) continue;
            if (best == null || p.metric() > best.metric()
                    || (p.metric() == best.metric() && p.layerSpeedup() > best.layerSpeedup())) {
                best = p;
            }
        }
        return Optional.ofNullable(best);
    }

    /** All points of several curves measured on the same split, to pick across criteria. */
    public static TradeoffCurve merge(String name, List<TradeoffCurve> curves) {
        if (curves.isEmpty()) {
            throw new IllegalArgumentException("nothing to merge into " + name);
        }
        List<TradeoffPoint> all = new ArrayList<>();
        double full = curves.get(0).fullModelMetric();
        for (TradeoffCurve c : curves) {
            if (c.fullModelMetric() != full) {
                throw new IllegalArgumentException("curve " + c.name() + " has full-model metric "
                        + c.fullModelMetric() + ", " + curves.get(0).name() + " has " + full
                        + ": not measured on the same split");
            }
            all.addAll(c.points());
        }
        return new TradeoffCurve(name, full, all);
    }

    /** One line per point, for logs and reports. */
    public String table() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("%s (full model metric %.4f)%n", name, fullModelMetric));
        for (TradeoffPoint p : points) sb.append("  ").append(p).append(System.lineSeparator());
        return sb.toString();
    }
}
