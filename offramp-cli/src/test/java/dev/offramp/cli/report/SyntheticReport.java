package dev.offramp.cli.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/** A plausible 12-layer SST-2-like report: eight criteria, smooth curves, some timings missing. */
final class SyntheticReport {
    static final int LAYERS = 12;
    static final double FULL = 0.9243;
    static final String[] NAMES = {"max-prob", "entropy (DeeBERT)", "patience (PABEE)", "BEEM-C", "BEEM-A",
            "ConsistentEE", "static", "oracle"};

    private SyntheticReport() {}

    static ReportData make(String modelName, String machineNote) {
        double[] perExit = new double[LAYERS];
        for (int l = 1; l <= LAYERS; l++) {
            // rises from ~0.62 at exit 1 to the full model at exit 12, fastest in the middle layers
            perExit[l - 1] = 0.62 + (FULL - 0.002 - 0.62) / (1.0 + Math.exp(-(l - 5.0) / 1.4)) + (l == LAYERS ? 0.002 : 0);
        }
        List<CriterionCurve> curves = new ArrayList<>();
        // per criterion: how fast the metric falls with speed-up (points per (speed-up - 1)^1.6)
        double[] fall = {0.55, 0.7, 0.45, 0.38, 0.32, 0.42};
        for (int c = 0; c < 6; c++) curves.add(criterion(NAMES[c], fall[c], c, perExit));
        curves.add(staticBound(perExit));
        curves.add(oracleBound());
        return new ReportData(modelName, "SST-2", "accuracy", "dev", LAYERS, FULL, perExit, 0.5,
                TimingContext.standard(8, machineNote), curves);
    }

    private static CriterionCurve criterion(String name, double fall, int index, double[] perExit) {
        List<CurvePoint> pts = new ArrayList<>();
        for (int k = 0; k < 14; k++) {
            double speedup = 1.0 + 0.3 * k;
            double metric = FULL + 0.001 - fall * Math.pow(speedup - 1.0, 1.6) / 100.0 + 0.0008 * Math.sin(k + index);
            double wall = (index == 5 || k % 3 == 1) ? Double.NaN : 1.0 + (speedup - 1.0) * (0.72 - 0.03 * index);
            String knob = String.format(Locale.ROOT, "%s=%.2f", index == 2 ? "patience" : "tau", 0.99 - 0.03 * k);
            pts.add(new CurvePoint(knob, metric, speedup, wall));
        }
        CurvePoint best = null;
        for (CurvePoint p : pts) {
            if (p.metric() >= FULL - 0.005 && (best == null || p.layerSpeedup() > best.layerSpeedup())) best = p;
        }
        double mean = LAYERS / best.layerSpeedup();
        double wall1 = index == 4 ? Double.NaN : 1.0 + (best.layerSpeedup() - 1.0) * 0.8;
        double wall32 = 1.0 + (best.layerSpeedup() - 1.0) * 0.6;
        double ort1 = index == 3 ? Double.NaN : wall1 * 1.3;
        double ort32 = wall32 * 0.9;
        CalibratedPoint cal = new CalibratedPoint(best, mean, wall1, wall32, ort1, ort32);
        return new CriterionCurve(name, false, pts, cal, histogram(mean, 5000, index));
    }

    /** Every example at one layer k: speed-up L/k, metric of exit k. */
    private static CriterionCurve staticBound(double[] perExit) {
        List<CurvePoint> pts = new ArrayList<>();
        CurvePoint best = null;
        int bestLayer = LAYERS;
        for (int k = 1; k <= LAYERS; k++) {
            double wall = k % 2 == 0 ? 0.97 * LAYERS / k : Double.NaN;
            CurvePoint p = new CurvePoint("layer " + k, perExit[k - 1], (double) LAYERS / k, wall);
            pts.add(p);
            if (p.metric() >= FULL - 0.005 && (best == null || p.layerSpeedup() > best.layerSpeedup())) {
                best = p;
                bestLayer = k;
            }
        }
        int[] hist = new int[LAYERS];
        hist[bestLayer - 1] = 5000;
        CalibratedPoint cal = new CalibratedPoint(best, bestLayer, best.wallClockSpeedup(), Double.NaN, Double.NaN,
                Double.NaN);
        return CriterionCurve.of("static", pts, cal, hist);
    }

    private static CriterionCurve oracleBound() {
        List<CurvePoint> pts = new ArrayList<>();
        for (int k = 0; k < 6; k++) {
            double speedup = 3.0 + 0.6 * k;
            pts.add(new CurvePoint("slack " + k, 0.975 - 0.004 * k * k, speedup, Double.NaN));
        }
        CurvePoint best = pts.get(3); // 0.939, the fastest above full − 0.5
        CalibratedPoint cal = new CalibratedPoint(best, LAYERS / best.layerSpeedup(), Double.NaN, Double.NaN,
                Double.NaN, Double.NaN);
        return CriterionCurve.of("oracle", pts, cal, histogram(LAYERS / best.layerSpeedup(), 5000, 99));
    }

    /** Counts of exit layers with roughly the given mean, skewed right, with a bump at the last layer. */
    static int[] histogram(double mean, int n, int seed) {
        Random rnd = new Random(seed);
        int[] h = new int[LAYERS];
        for (int i = 0; i < n; i++) {
            int layer;
            if (rnd.nextDouble() < 0.08) {
                layer = LAYERS;
            } else {
                double g = -Math.log(1.0 - rnd.nextDouble()) * (mean - 1.0) * 0.9; // exponential above 1
                layer = Math.min(LAYERS, 1 + (int) Math.round(g));
            }
            h[layer - 1]++;
        }
        return h;
    }
}
