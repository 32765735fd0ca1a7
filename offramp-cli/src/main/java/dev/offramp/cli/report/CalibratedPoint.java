package dev.offramp.cli.report;

/**
 * The setting a criterion was calibrated to (e.g. the fastest within 0.5 points of the full model on dev), with
 * the timings measured for it. Every speed-up is a ratio of medians measured in one run; NaN where not measured.
 *
 * @param point            knob, metric, layer speed-up and wall-clock speed-up at the curve's batch size
 * @param meanExitLayer    mean number of layers executed (1..L)
 * @param wallSmallBatch   full-depth / early-exit wall-clock time, same engine, at {@link TimingContext#smallBatch()}
 * @param wallLargeBatch   the same at {@link TimingContext#largeBatch()}
 * @param onnxSmallBatch   ONNX Runtime full-depth time / our early-exit time at the small batch
 * @param onnxLargeBatch   the same at the large batch
 */
public record CalibratedPoint(CurvePoint point, double meanExitLayer, double wallSmallBatch, double wallLargeBatch,
                              double onnxSmallBatch, double onnxLargeBatch) {
    public CalibratedPoint {
        if (point == null) throw new IllegalArgumentException("calibrated point is null");
        if (!(meanExitLayer >= 1.0) || Double.isInfinite(meanExitLayer)) {
            throw new IllegalArgumentException("mean exit layer of " + point.knob() + " must be >= 1, got "
                    + meanExitLayer);
        }
        ReportData.requirePositiveOrNaN(wallSmallBatch, "small-batch wall-clock speed-up of " + point.knob());
        ReportData.requirePositiveOrNaN(wallLargeBatch, "large-batch wall-clock speed-up of " + point.knob());
        ReportData.requirePositiveOrNaN(onnxSmallBatch, "small-batch speed-up vs ONNX Runtime of " + point.knob());
        ReportData.requirePositiveOrNaN(onnxLargeBatch, "large-batch speed-up vs ONNX Runtime of " + point.knob());
    }

    public String knob() {
        return point.knob();
    }

    public double metric() {
        return point.metric();
    }

    public double layerSpeedup() {
        return point.layerSpeedup();
    }
}
