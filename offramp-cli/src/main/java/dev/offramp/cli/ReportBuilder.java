package dev.offramp.cli;

import dev.offramp.cli.report.CalibratedPoint;
import dev.offramp.cli.report.CriterionCurve;
import dev.offramp.cli.report.CurvePoint;
import dev.offramp.cli.report.ReportData;
import dev.offramp.cli.report.TimingContext;
import dev.offramp.criteria.Criteria;
import dev.offramp.criteria.ExitCriterion;
import dev.offramp.criteria.OracleCriterion;
import dev.offramp.criteria.StaticCriterion;
import dev.offramp.data.Task;
import dev.offramp.eval.PolicyCalibration;
import dev.offramp.eval.calibration.ExitOutputs;
import dev.offramp.eval.calibration.Metric;
import dev.offramp.eval.calibration.SimulationResult;
import dev.offramp.eval.calibration.Simulator;
import dev.offramp.eval.calibration.TradeoffPoint;
import dev.offramp.inference.EarlyExitRunner;
import dev.offramp.onnxruntime.OnnxRuntimeEncoder;
import dev.offramp.tokenizer.Encoding;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Measures everything the report shows. Curves: every validation-swept setting of each criterion replayed on dev's
 * cached exit outputs (so dev is never used to choose); calibrated points: the setting chosen on validation at
 * --max-drop, run for real on dev with the early-exit runner and timed against full depth (same engine) and
 * ONNX Runtime at batch 1 and 32.
 */
final class ReportBuilder {
    /** One criterion's calibrated result on dev, as the table and the summary lines print it. */
    record Row(String policy, String setting, double metric, double meanExitLayer, double layerSpeedup,
               double wall1, double wall32, double ort1, double ort32) {}

    private ReportBuilder() {}

    static final int SMALL = 1, LARGE = 32;

    /**
     * How close to the gold score a regression exit must be for the oracle to take it: a tenth of STS-B's 0–5 range.
     * At 0 no float prediction ever equals the gold score, and the oracle would run every layer.
     */
    static final double REGRESSION_ORACLE_TOLERANCE = 0.5;

    /** The accuracy bound drawn beside the criteria: first correct exit (a score: within the tolerance above). */
    static OracleCriterion oracleFor(Task task) {
        return new OracleCriterion(task.isRegression() ? REGRESSION_ORACLE_TOLERANCE : 0.0);
    }

    static ReportData build(TrainedModel tm, double maxDrop, int timingExamples, int repeats, boolean withOrt,
                            List<Row> rows) throws IOException {
        Map<String, PolicyCalibration.Calibrated> cal = Evaluation.calibrate(tm, maxDrop);
        Metric metric = PolicyCalibration.metricFor(tm.splits().task());
        ExitOutputs dev = Evaluation.outputs(tm, tm.splits().dev(), "dev");
        int layers = dev.layers();
        double[] perExit = new double[layers];
        for (int e = 1; e <= layers; e++) perExit[e - 1] = Simulator.run(dev, new StaticCriterion(e), metric).metric();
        double full = perExit[layers - 1];

        List<Encoding> devInputs = tm.encode(tm.splits().dev());
        List<Encoding> timed = timingExamples > 0 && timingExamples < devInputs.size()
                ? devInputs.subList(0, timingExamples) : devInputs;
        Evaluation.Bench small = new Evaluation.Bench(tm, timed, SMALL, repeats);
        Evaluation.Bench large = new Evaluation.Bench(tm, timed, LARGE, repeats);
        double ortSmall = Double.NaN, ortLarge = Double.NaN;
        // a fine-tuned backbone has the published one's graph and shapes, so ONNX Runtime's time on the published
        // ONNX file is its time on this model (timing only; its outputs are never compared here)
        boolean ortOk = withOrt && tm.backboneOnnxFile() != null;
        if (ortOk) {
            try (OnnxRuntimeEncoder ort = new OnnxRuntimeEncoder(tm.backboneOnnxFile())) {
                ortSmall = small.onnxRuntimeMs(ort);
                ortLarge = large.onnxRuntimeMs(ort);
            }
        }

        List<CriterionCurve> curves = new ArrayList<>();
        List<String> order = new ArrayList<>(cal.keySet());
        order.add("oracle");
        try (Progress bar = new Progress("criteria on dev", order.size(), "criteria")) {
            int done = 0;
            for (String policy : order) {
                bar.extra(policy);
                curves.add(curve(tm, policy, cal.get(policy), dev, metric, devInputs, small, large, ortSmall, ortLarge, rows));
                bar.stepTo(++done);
            }
        }
        String note = String.format(Locale.ROOT, "%d-core machine, %d dev inputs timed per pass, median of %d passes; "
                + "ONNX Runtime %s", Runtime.getRuntime().availableProcessors(), timed.size(), repeats,
                ortOk ? "with " + Runtime.getRuntime().availableProcessors() + " intra-op threads"
                        + (tm.model().fineTunedBackbone() != null ? " on the published graph of the same architecture" : "")
                        : "not run (no ONNX file for this backbone)");
        return new ReportData(tm.model().backbone() + " / " + tm.dir().getFileName(), tm.splits().task().displayName(),
                tm.splits().task().headline().key(), "dev", layers, full, perExit, maxDrop,
                new TimingContext(LARGE, SMALL, LARGE, note), curves);
    }

    private static CriterionCurve curve(TrainedModel tm, String policy, PolicyCalibration.Calibrated c, ExitOutputs dev,
                                        Metric metric, List<Encoding> devInputs, Evaluation.Bench small,
                                        Evaluation.Bench large, double ortSmall, double ortLarge, List<Row> rows) {
        boolean oracle = policy.equals("oracle");
        List<TradeoffPoint> swept = oracle ? List.of() : c.curve().points();
        List<CurvePoint> points = new ArrayList<>();
        List<ExitCriterion> criteria = new ArrayList<>();
        OracleCriterion bound = oracle ? oracleFor(tm.splits().task()) : null;
        if (oracle) {
            SimulationResult r = Simulator.run(dev, bound, metric);
            points.add(new CurvePoint("oracle", r.metric(), r.layerSpeedup(), Double.NaN));
            criteria.add(bound);
        }
        for (TradeoffPoint p : swept) {
            ExitCriterion crit = Criteria.fromSettings(p.settings());
            SimulationResult r = Simulator.run(dev, crit, metric);
            points.add(new CurvePoint(knob(p), r.metric(), r.layerSpeedup(), Double.NaN));
            criteria.add(crit);
        }
        paretoFront(points, criteria);
        // wall clock at the large batch for a few points spread over the curve's speed-ups
        if (!oracle) {
            List<Integer> idx = new ArrayList<>();
            for (int i = 0; i < points.size(); i++) idx.add(i);
            idx.sort(Comparator.comparingDouble(i -> points.get(i).layerSpeedup()));
            int picks = Math.min(4, idx.size());
            for (int j = 0; j < picks; j++) {
                int i = idx.get((int) Math.round(j * (idx.size() - 1) / (double) Math.max(1, picks - 1)));
                if (!Double.isNaN(points.get(i).wallClockSpeedup())) continue;
                double[] fe = large.fullAndEarlyExitMs(criteria.get(i));
                CurvePoint p = points.get(i);
                points.set(i, new CurvePoint(p.knob(), p.metric(), p.layerSpeedup(), fe[0] / fe[1]));
            }
        }
        ExitCriterion chosen = oracle ? bound
                : c.chosen().map(p -> Criteria.fromSettings(p.settings())).orElse(null);
        if (chosen == null) return CriterionCurve.of(displayName(policy), points, null, null);
        Evaluation.Run run = Evaluation.run(tm, chosen, tm.splits().dev(), devInputs, LARGE);
        int[] hist = new int[dev.layers()];
        for (EarlyExitRunner.Result r : run.results()) hist[r.exitLayer() - 1]++;
        double layerSpeedup = dev.layers() / run.meanExitLayer();
        double w1 = Double.NaN, w32 = Double.NaN, o1 = Double.NaN, o32 = Double.NaN;
        if (!oracle) {
            double[] s = small.fullAndEarlyExitMs(chosen), l = large.fullAndEarlyExitMs(chosen);
            w1 = s[0] / s[1];
            w32 = l[0] / l[1];
            o1 = ortSmall / s[1];
            o32 = ortLarge / l[1];
        }
        String setting = !oracle ? c.chosen().map(ReportBuilder::knob).orElse("-")
                : bound.tolerance() > 0 ? knob("tolerance", bound.tolerance()) : "oracle";
        rows.add(new Row(policy, setting, run.metric().headline(), run.meanExitLayer(), layerSpeedup, w1, w32, o1, o32));
        CurvePoint cp = new CurvePoint(setting, run.metric().headline(), layerSpeedup, w32);
        return CriterionCurve.of(displayName(policy), points,
                new CalibratedPoint(cp, run.meanExitLayer(), w1, w32, o1, o32), hist);
    }

    /**
     * Keeps the settings no other setting beats on both axes (faster and at least as accurate): a criterion with
     * two knob families (BEEM's global α and per-exit ε) otherwise zig-zags between them. Parallel lists.
     */
    static void paretoFront(List<CurvePoint> points, List<ExitCriterion> criteria) {
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < points.size(); i++) order.add(i);
        order.sort(Comparator.comparingDouble((Integer i) -> points.get(i).layerSpeedup()).reversed()
                .thenComparing(Comparator.comparingDouble((Integer i) -> points.get(i).metric()).reversed()));
        boolean[] keep = new boolean[points.size()];
        double best = Double.NEGATIVE_INFINITY;
        for (int i : order) {
            if (points.get(i).metric() > best) {
                keep[i] = true;
                best = points.get(i).metric();
            }
        }
        for (int i = points.size() - 1; i >= 0; i--) {
            if (!keep[i]) {
                points.remove(i);
                criteria.remove(i);
            }
        }
    }

    private static String knob(TradeoffPoint p) {
        return knob(p.knob(), p.knobValue());
    }

    private static String knob(String name, double value) {
        return String.format(Locale.ROOT, "%s=%.4g", name, value);
    }

    static String displayName(String policy) {
        return switch (policy) {
            case "entropy" -> "entropy (DeeBERT)";
            case "patience" -> "patience (PABEE)";
            case "beem-c" -> "BEEM-C";
            case "beem-a" -> "BEEM-A";
            case "consistentee" -> "ConsistentEE";
            default -> policy;
        };
    }
}
