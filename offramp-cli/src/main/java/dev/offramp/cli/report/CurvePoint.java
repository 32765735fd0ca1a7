package dev.offramp.cli.report;

/**
 * One setting of one exit criterion on its speed–accuracy curve.
 *
 * @param knob             the setting in words, e.g. "tau=0.90" or "layer 6"
 * @param metric           the task metric in its natural unit (accuracy in [0, 1], Pearson in [-1, 1])
 * @param layerSpeedup     L / mean layers executed (≥ 1)
 * @param wallClockSpeedup full-depth time / early-exit time on the same engine and inputs; NaN if not measured
 */
public record CurvePoint(String knob, double metric, double layerSpeedup, double wallClockSpeedup) {
    public CurvePoint {
        ReportData.requireText(knob, "knob of a curve point");
        ReportData.requireFinite(metric, "metric of point " + knob);
        if (!(layerSpeedup > 0.0) || Double.isInfinite(layerSpeedup)) {
            throw new IllegalArgumentException("layer speed-up of point " + knob + " must be finite and > 0, got "
                    + layerSpeedup);
        }
        ReportData.requirePositiveOrNaN(wallClockSpeedup, "wall-clock speed-up of point " + knob);
    }

    public boolean hasWallClock() {
        return !Double.isNaN(wallClockSpeedup);
    }
}
