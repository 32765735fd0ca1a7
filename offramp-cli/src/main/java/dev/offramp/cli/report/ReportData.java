package dev.offramp.cli.report;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Everything the speed–accuracy report shows, as plain values: the writer computes nothing but display ranges.
 * Metrics are in their natural unit (accuracy 0.912); the report shows them ×100 and differences in points
 * (1 point = 0.01).
 *
 * @param modelName       e.g. "bert-base-uncased-sst2"
 * @param taskName        e.g. "SST-2"
 * @param metricName      e.g. "accuracy", "F1", "Matthews", "Pearson"
 * @param split           split the metrics were measured on, e.g. "dev"
 * @param layers          encoder layers L
 * @param fullModelMetric metric of the full L-layer model on {@code split}
 * @param perExitMetric   metric when every example exits at layer 1..L (double[L])
 * @param maxDropPoints   calibration target: allowed drop below the full model, in points (0.5 in the standard run)
 * @param timing          how the wall-clock numbers were measured
 * @param criteria        one curve per criterion, in display order
 * @param itemName        what exits, plural: "examples" for classification, "generated tokens" for generation
 */
public record ReportData(String modelName, String taskName, String metricName, String split, int layers,
                         double fullModelMetric, double[] perExitMetric, double maxDropPoints, TimingContext timing,
                         List<CriterionCurve> criteria, String itemName) {
    /** A classification report: examples exit. */
    public ReportData(String modelName, String taskName, String metricName, String split, int layers,
                      double fullModelMetric, double[] perExitMetric, double maxDropPoints, TimingContext timing,
                      List<CriterionCurve> criteria) {
        this(modelName, taskName, metricName, split, layers, fullModelMetric, perExitMetric, maxDropPoints, timing,
                criteria, "examples");
    }

    public ReportData {
        requireText(itemName, "item name");
        requireText(modelName, "model name");
        requireText(taskName, "task name");
        requireText(metricName, "metric name");
        requireText(split, "split name");
        if (layers < 1) throw new IllegalArgumentException("layers must be >= 1, got " + layers);
        requireFinite(fullModelMetric, "full-model metric");
        if (perExitMetric == null || perExitMetric.length != layers) {
            throw new IllegalArgumentException("per-exit metric must have one value per layer (" + layers + "), got "
                    + (perExitMetric == null ? "null" : perExitMetric.length));
        }
        perExitMetric = perExitMetric.clone();
        for (int i = 0; i < layers; i++) requireFinite(perExitMetric[i], "metric of exit " + (i + 1));
        if (!(maxDropPoints >= 0.0) || Double.isInfinite(maxDropPoints)) {
            throw new IllegalArgumentException("allowed drop must be >= 0 points, got " + maxDropPoints);
        }
        if (timing == null) throw new IllegalArgumentException("timing context is null");
        criteria = List.copyOf(criteria);
        Set<String> seen = new HashSet<>();
        for (CriterionCurve c : criteria) {
            if (!seen.add(c.name())) throw new IllegalArgumentException("criterion " + c.name() + " appears twice");
            if (c.exitHistogram() != null && c.exitHistogram().length != layers) {
                throw new IllegalArgumentException("criterion " + c.name() + ": exit histogram has "
                        + c.exitHistogram().length + " bins, the model has " + layers + " layers");
            }
            if (c.calibrated() != null && c.calibrated().meanExitLayer() > layers + 1e-9) {
                throw new IllegalArgumentException("criterion " + c.name() + ": mean exit layer "
                        + c.calibrated().meanExitLayer() + " > " + layers + " layers");
            }
        }
    }

    @Override
    public double[] perExitMetric() {
        return perExitMetric.clone();
    }

    /** The metric floor of the calibration target, full − maxDrop/100, in natural units. */
    public double calibrationFloor() {
        return fullModelMetric - maxDropPoints / 100.0;
    }

    static void requireText(String s, String what) {
        if (s == null || s.isBlank()) throw new IllegalArgumentException(what + " is missing");
    }

    static void requireFinite(double v, String what) {
        if (!Double.isFinite(v)) throw new IllegalArgumentException(what + " must be finite, got " + v);
    }

    static void requirePositiveOrNaN(double v, String what) {
        if (!Double.isNaN(v) && !(v > 0.0 && Double.isFinite(v))) {
            throw new IllegalArgumentException(what + " must be > 0 or NaN (not measured), got " + v);
        }
    }
}
