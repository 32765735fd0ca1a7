package dev.offramp.cli;

import dev.offramp.criteria.Criteria;
import dev.offramp.criteria.ExitCriterion;
import dev.offramp.criteria.OracleCriterion;
import dev.offramp.data.Example;
import dev.offramp.eval.PolicyCalibration;
import dev.offramp.eval.TaskMetric;
import dev.offramp.eval.calibration.CalibratedSettings;
import dev.offramp.eval.calibration.ExitOutputs;
import dev.offramp.eval.calibration.LengthMatching;
import dev.offramp.exits.LayerwiseOutputs;
import dev.offramp.inference.EarlyExitRunner;
import dev.offramp.onnxruntime.OnnxRuntimeEncoder;
import dev.offramp.tokenizer.Encoding;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/** What eval, report and demo share: calibration on validation, real runs on dev, wall-clock timing. */
final class Evaluation {
    private Evaluation() {}

    /** Gold labels (as floats) or scores, the calibration code's view. */
    static float[] gold(TrainedModel tm, List<Example> examples) {
        return goldOf(tm.model().task().regression(), examples);
    }

    static float[] goldOf(boolean regression, List<Example> examples) {
        if (regression) return TaskSplits.scores(examples);
        int[] y = TaskSplits.labels(examples);
        float[] g = new float[y.length];
        for (int i = 0; i < y.length; i++) g[i] = y[i];
        return g;
    }

    /** Off with --no-length-match: calibrate on the validation split as carved. */
    static boolean lengthMatch = true;

    /**
     * The validation exit outputs the criteria are calibrated on: by default resampled so that input lengths
     * follow dev's (see {@link LengthMatching}; only dev's token counts are read, never its labels).
     */
    static ExitOutputs validationOutputs(TrainedModel tm) throws IOException {
        ExitOutputs raw = outputs(tm, tm.splits().validation(), "validation");
        if (!lengthMatch) return raw;
        int[] vLen = tm.encode(tm.splits().validation()).stream().mapToInt(Encoding::length).toArray();
        int[] dLen = tm.encode(tm.splits().dev()).stream().mapToInt(Encoding::length).toArray();
        return LengthMatching.resample(raw, vLen, dLen, 10, Math.max(5000, raw.samples()), 42);
    }

    /** A split's cached exit outputs, with ConsistentEE's π attached when the model has policies. */
    static ExitOutputs outputs(TrainedModel tm, List<Example> examples, String split) throws IOException {
        ExitOutputs o = tm.layerwise(examples, split).toExitOutputs(gold(tm, examples));
        float[] pi = tm.policyProbs(examples, split);
        return pi == null ? o : o.withPolicy(pi);
    }

    /**
     * Calibrates every policy on validation and saves each chosen setting with the model, as
     * {@code <model>/calibration/<policy>-max-drop-<D>.json}.
     */
    static Map<String, PolicyCalibration.Calibrated> calibrate(TrainedModel tm, double maxDrop) throws IOException {
        return calibrate(tm, CalibrationTarget.maxDrop(maxDrop));
    }

    /** As {@link #calibrate(TrainedModel, double)} for any target; saved as {@code <policy>-<target tag>.json}. */
    static Map<String, PolicyCalibration.Calibrated> calibrate(TrainedModel tm, CalibrationTarget target) throws IOException {
        Map<String, PolicyCalibration.Calibrated> cal = PolicyCalibration.calibrateAll(validationOutputs(tm),
                PolicyCalibration.metricFor(tm.splits().task()), target::pick, 0.1);
        String metricName = tm.splits().task().headline().key();
        for (PolicyCalibration.Calibrated c : cal.values()) {
            if (c.chosen().isEmpty()) continue;
            java.nio.file.Path file = target.file(tm.dir(), c.policy());
            java.nio.file.Files.createDirectories(file.getParent());
            CalibratedSettings.of(c.chosen().get(), c.curve().fullModelMetric(), "validation", metricName).write(file);
        }
        return cal;
    }

    /** The criterion for a policy name, from a calibration; null for "full". */
    static ExitCriterion criterion(String policy, Map<String, PolicyCalibration.Calibrated> cal, double maxDrop) {
        return criterion(policy, cal, CalibrationTarget.maxDrop(maxDrop));
    }

    static ExitCriterion criterion(String policy, Map<String, PolicyCalibration.Calibrated> cal, CalibrationTarget target) {
        if (policy.equals("full")) return null;
        if (policy.equals("oracle")) return new OracleCriterion();
        PolicyCalibration.Calibrated c = cal.get(policy);
        if (c == null) {
            throw new IllegalArgumentException("unknown or inapplicable --policy '" + policy + "' for this task (available: full, "
                    + String.join(", ", cal.keySet()) + ", oracle)");
        }
        return Criteria.fromSettings(c.chosen().orElseThrow(() -> new IllegalStateException("no setting of " + policy
                + " " + target.unmet())).settings());
    }

    /** The outcome of running one policy over a split for real. */
    record Run(EarlyExitRunner.Result[] results, double meanExitLayer, TaskMetric.Result metric) {}

    static Run run(TrainedModel tm, ExitCriterion criterion, List<Example> examples, List<Encoding> inputs, int batch) {
        ExitCriterion crit = criterion != null ? criterion : new OracleCriterion();
        EarlyExitRunner runner = new EarlyExitRunner(tm.encoder(), tm.model(), crit, tm.policyFor(crit));
        EarlyExitRunner.Result[] res = new EarlyExitRunner.Result[inputs.size()];
        float[] gold = gold(tm, examples);
        List<int[]> batches = batches(inputs, batch);
        for (int[] b : batches) {
            List<Encoding> chunk = new ArrayList<>(b.length);
            for (int i : b) chunk.add(inputs.get(i));
            EarlyExitRunner.Result[] out = new EarlyExitRunner.Result[b.length];
            float[] g = new float[b.length];
            for (int j = 0; j < b.length; j++) g[j] = gold[b[j]];
            if (criterion == null) runner.runFullDepth(chunk, out, 0);
            else runner.run(chunk, out, 0, g);
            for (int j = 0; j < b.length; j++) res[b[j]] = out[j];
        }
        double layers = 0;
        for (EarlyExitRunner.Result r : res) layers += r.exitLayer();
        TaskMetric.Result m;
        if (tm.model().task().regression()) {
            float[] p = new float[res.length];
            for (int i = 0; i < p.length; i++) p[i] = res[i].output()[0];
            m = TaskMetric.evaluate(tm.splits().task(), p, examples);
        } else {
            int[] p = new int[res.length];
            for (int i = 0; i < p.length; i++) p[i] = res[i].label();
            m = TaskMetric.evaluate(tm.splits().task(), p, examples);
        }
        return new Run(res, layers / res.length, m);
    }

    /** Batches of input indices; batches larger than 1 group inputs of similar length (so ONNX Runtime pads little). */
    static List<int[]> batches(List<Encoding> inputs, int batch) {
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < inputs.size(); i++) order.add(i);
        if (batch > 1) order.sort(Comparator.comparingInt(i -> inputs.get(i).length()));
        List<int[]> out = new ArrayList<>();
        for (int s = 0; s < order.size(); s += batch) {
            int e = Math.min(order.size(), s + batch);
            int[] b = new int[e - s];
            for (int j = s; j < e; j++) b[j - s] = order.get(j);
            out.add(b);
        }
        return out;
    }

    /** Median wall-clock milliseconds of one pass over the inputs for each engine, measured interleaved. */
    record WallClock(int batch, double fullMs, double earlyExitMs, double onnxRuntimeMs) {
        double speedup() { return fullMs / earlyExitMs; }
        double vsOnnxRuntime() { return onnxRuntimeMs / earlyExitMs; }
    }

    static WallClock time(TrainedModel tm, ExitCriterion criterion, List<Encoding> inputs, int batch, int repeats,
                          OnnxRuntimeEncoder ort) {
        Bench bench = new Bench(tm, inputs, batch, repeats);
        double ortMs = ort == null ? Double.NaN : bench.onnxRuntimeMs(ort);
        double[] fe = bench.fullAndEarlyExitMs(criterion);
        return new WallClock(batch, fe[0], fe[1], ortMs);
    }

    /**
     * Times passes over a fixed set of inputs in fixed batches: full depth, early exit with a criterion, ONNX Runtime
     * at full depth. Every shape is warmed up first; medians of repeats; the engines alternate, with a pause between,
     * so only one engine's threads are busy at a time.
     */
    static final class Bench {
        private final TrainedModel tm;
        private final List<List<Encoding>> chunks = new ArrayList<>();
        private final int repeats, batch;
        private final EarlyExitRunner.Result[] sink;

        Bench(TrainedModel tm, List<Encoding> inputs, int batch, int repeats) {
            this.tm = tm;
            this.repeats = repeats;
            this.batch = batch;
            for (int[] b : batches(inputs, batch)) {
                List<Encoding> c = new ArrayList<>(b.length);
                for (int i : b) c.add(inputs.get(i));
                chunks.add(c);
            }
            sink = new EarlyExitRunner.Result[batch];
        }

        int batch() { return batch; }

        double onnxRuntimeMs(OnnxRuntimeEncoder ort) {
            Runnable r = () -> { for (List<Encoding> c : chunks) ort.lastHidden(c); };
            r.run();
            double[] t = new double[repeats];
            for (int i = 0; i < repeats; i++) {
                Timing.settle();
                long t0 = System.nanoTime(); r.run(); t[i] = Timing.millisSince(t0);
            }
            return Timing.median(t);
        }

        /** {full-depth ms, early-exit ms}, measured alternately. */
        double[] fullAndEarlyExitMs(ExitCriterion criterion) {
            EarlyExitRunner ee = new EarlyExitRunner(tm.encoder(), tm.model(), criterion, tm.policyFor(criterion));
            Runnable eeRun = () -> { for (List<Encoding> c : chunks) ee.run(c, sink, 0); };
            Runnable fullRun = () -> { for (List<Encoding> c : chunks) ee.runFullDepth(c, sink, 0); };
            fullRun.run();
            eeRun.run();
            double[] tFull = new double[repeats], tEe = new double[repeats];
            for (int i = 0; i < repeats; i++) {
                Timing.settle();
                long t0 = System.nanoTime(); fullRun.run(); tFull[i] = Timing.millisSince(t0);
                Timing.settle();
                t0 = System.nanoTime(); eeRun.run(); tEe[i] = Timing.millisSince(t0);
            }
            return new double[] {Timing.median(tFull), Timing.median(tEe)};
        }
    }
}
