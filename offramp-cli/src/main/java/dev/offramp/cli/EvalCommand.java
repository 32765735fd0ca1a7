package dev.offramp.cli;

import dev.offramp.criteria.ExitCriterion;
import dev.offramp.eval.PolicyCalibration;
import dev.offramp.onnxruntime.OnnxRuntimeEncoder;
import dev.offramp.tokenizer.Encoding;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * ./offramp eval: one policy on dev, calibrated on validation at --max-drop; metric, speed-ups in layers and in
 * wall-clock time against full-depth Offramp and full-depth ONNX Runtime, measured in the same run.
 */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = "Evaluate an exit policy on dev: metric, layer speed-up, wall-clock speed-up (batch 1 and 32).")
final class EvalCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "trained model folder")
    Path modelDir;

    @Option(names = "--task", description = "task (default: the model's)")
    String task;

    @Option(names = "--policy", defaultValue = "beem-a", split = ",",
            description = "full, max-prob, entropy, patience, beem-c, beem-a, consistentee (models with policies), static, oracle;"
                    + " several, comma-separated, are evaluated in turn (default: ${DEFAULT-VALUE})")
    List<String> policies;

    @Option(names = "--no-length-match", description = "calibrate on validation as carved, not resampled to dev's input lengths")
    void noLengthMatch(boolean off) { Evaluation.lengthMatch = !off; }

    @Option(names = "--max-drop", defaultValue = "0.5", description = "calibrate: fastest setting within D points of the full model on validation (default: ${DEFAULT-VALUE})")
    double maxDrop;

    @Option(names = "--speedup", defaultValue = "0",
            description = "calibrate instead: the most accurate setting with a layer speed-up of at least S on validation,"
                    + " to compare criteria at equal speed (0 = off, use --max-drop)")
    double speedup;

    @Option(names = "--repeats", defaultValue = "3", description = "timed passes per engine and batch size (default: ${DEFAULT-VALUE})")
    int repeats;

    @Option(names = "--timing-examples", defaultValue = "0", description = "time on the first N dev inputs only (0 = all)")
    int timingExamples;

    @Option(names = "--no-onnxruntime", description = "skip the ONNX Runtime peer")
    boolean noOrt;

    @Override
    public Integer call() throws Exception {
        TrainedModel tm = TrainedModel.load(modelDir, task);
        CalibrationTarget target = new CalibrationTarget(maxDrop, speedup);
        Map<String, PolicyCalibration.Calibrated> cal = Evaluation.calibrate(tm, target);
        List<ExitCriterion> criteria = new java.util.ArrayList<>();
        for (String p : policies) criteria.add(Evaluation.criterion(p, cal, target)); // every name checked before any run
        List<Encoding> dev = tm.encode(tm.splits().dev());
        Evaluation.Run full = Evaluation.run(tm, null, tm.splits().dev(), dev, 32);
        List<Encoding> timed = timingExamples > 0 && timingExamples < dev.size() ? dev.subList(0, timingExamples) : dev;
        int layers = tm.encoder().config().layers();
        List<String> summaries = new java.util.ArrayList<>();
        // a fine-tuned backbone keeps the published graph and shapes: ONNX Runtime's time on the published file is
        // its time on this model (timing only)
        try (OnnxRuntimeEncoder ort = noOrt || tm.backboneOnnxFile() == null
                ? null : new OnnxRuntimeEncoder(tm.backboneOnnxFile())) {
            for (int i = 0; i < policies.size(); i++) {
                String policy = policies.get(i);
                ExitCriterion criterion = criteria.get(i);
                Evaluation.Run run = criterion == null ? full : Evaluation.run(tm, criterion, tm.splits().dev(), dev, 32);
                double layerSpeedup = layers / run.meanExitLayer();
                System.out.printf(Locale.ROOT, "policy %s: %s%n", policy, criterion == null ? "full depth" : criterion.describe());
                System.out.printf(Locale.ROOT, "dev: %s | full model: %s%n", run.metric().format(), full.metric().format());
                System.out.printf(Locale.ROOT, "mean exit layer %.3f of %d, layer speed-up %.3fx%n", run.meanExitLayer(), layers, layerSpeedup);
                ExitCriterion timedCriterion = criterion != null ? criterion : new dev.offramp.criteria.StaticCriterion(layers);
                Evaluation.WallClock b1 = Evaluation.time(tm, timedCriterion, timed, 1, repeats, ort);
                Evaluation.WallClock b32 = Evaluation.time(tm, timedCriterion, timed, 32, repeats, ort);
                for (Evaluation.WallClock w : List.of(b1, b32)) {
                    System.out.printf(Locale.ROOT, "wall clock, batch %d, %d inputs: full %.1f ms, early exit %.1f ms, onnxruntime %.1f ms"
                                    + " -> speed-up %.3fx, vs onnxruntime %.3fx%n", w.batch(), timed.size(), w.fullMs(), w.earlyExitMs(),
                            w.onnxRuntimeMs(), w.speedup(), w.vsOnnxRuntime());
                }
                summaries.add(String.format(Locale.ROOT, "summary: task=%s policy=%s metric=%.4f full_metric=%.4f layer_speedup=%.3f"
                                + " wall_speedup=%.3f vs_onnxruntime=%.3f%s",
                        tm.splits().task().name(), policy, run.metric().headline(), full.metric().headline(), layerSpeedup,
                        b1.speedup(), b1.vsOnnxRuntime(), target.atSpeedup() ? " target_speedup=" + speedup : ""));
            }
        }
        // the summary lines last, together, so a script can take the tail
        for (String line : summaries) System.out.println(line);
        return 0;
    }
}
