package dev.offramp.cli.report;

import java.util.List;
import java.util.Locale;

/**
 * One exit criterion's speed–accuracy curve over its knob, its calibrated setting, and where examples exit at
 * that setting.
 *
 * @param name          display name, e.g. "entropy (DeeBERT)"
 * @param bound         true for the static and oracle reference curves: drawn grey and dashed, marked "bound"
 * @param points        the swept settings, in any order (drawn sorted by layer speed-up)
 * @param calibrated    the chosen setting, or null if no setting met the calibration target
 * @param exitHistogram examples exiting after layer 1..L at the calibrated setting (int[L]); null iff calibrated is
 */
public record CriterionCurve(String name, boolean bound, List<CurvePoint> points, CalibratedPoint calibrated,
                             int[] exitHistogram) {
    public CriterionCurve {
        ReportData.requireText(name, "criterion name");
        points = List.copyOf(points);
        if (points.isEmpty()) throw new IllegalArgumentException("criterion " + name + " has no curve points");
        if ((calibrated == null) != (exitHistogram == null)) {
            throw new IllegalArgumentException("criterion " + name + ": the exit histogram is given exactly when a "
                    + "calibrated point is (calibrated " + (calibrated != null) + ", histogram "
                    + (exitHistogram != null) + ")");
        }
        if (exitHistogram != null) {
            exitHistogram = exitHistogram.clone();
            for (int i = 0; i < exitHistogram.length; i++) {
                if (exitHistogram[i] < 0) {
                    throw new IllegalArgumentException("criterion " + name + ": exit count at layer " + (i + 1)
                            + " is negative (" + exitHistogram[i] + ")");
                }
            }
        }
    }

    /** A curve whose bound flag follows the name: "static ..." and "oracle ..." are bounds. */
    public static CriterionCurve of(String name, List<CurvePoint> points, CalibratedPoint calibrated,
                                    int[] exitHistogram) {
        return new CriterionCurve(name, isBoundName(name), points, calibrated, exitHistogram);
    }

    public static boolean isBoundName(String name) {
        String n = name.toLowerCase(Locale.ROOT).strip();
        return n.startsWith("static") || n.startsWith("oracle");
    }

    /** The name with " (bound)" appended for bounds that do not say so already, for legends. */
    public String legendName() {
        return bound && !name.toLowerCase(Locale.ROOT).contains("bound") ? name + " (bound)" : name;
    }

    public int examplesInHistogram() {
        int n = 0;
        if (exitHistogram != null) for (int c : exitHistogram) n += c;
        return n;
    }

    @Override
    public int[] exitHistogram() {
        return exitHistogram == null ? null : exitHistogram.clone();
    }
}
