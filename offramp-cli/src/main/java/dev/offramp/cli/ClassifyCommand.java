package dev.offramp.cli;

import dev.offramp.criteria.ExitCriterion;
import dev.offramp.inference.EarlyExitRunner;
import dev.offramp.tokenizer.Encoding;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** ./offramp classify: label texts with a trained multi-exit model, each leaving at its own exit. */
@Command(name = "classify", mixinStandardHelpOptions = true,
        description = "Classify texts with a trained model and an exit policy; prints label, score and exit layer.")
final class ClassifyCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "trained model folder")
    Path modelDir;

    @Option(names = "--policy", defaultValue = "beem-a", description = "exit policy (default: ${DEFAULT-VALUE}); full = no early exit")
    String policy;

    @Option(names = "--no-length-match", description = "calibrate on validation as carved, not resampled to dev's input lengths")
    void noLengthMatch(boolean off) { Evaluation.lengthMatch = !off; }

    @Option(names = "--max-drop", defaultValue = "0.5", description = "calibration target in points (default: ${DEFAULT-VALUE})")
    double maxDrop;

    @Option(names = "--input", description = "a UTF-8 file with one text per line (a tab separates a pair with --pair)")
    Path input;

    @Option(names = "--pair", description = "texts come in pairs")
    boolean pair;

    @Option(names = "--truncate", description = "cut inputs longer than the model's limit instead of refusing them")
    boolean truncate;

    @Parameters(description = "texts")
    List<String> texts;

    @Override
    public Integer call() throws Exception {
        List<InputTexts.Text> in = InputTexts.collect(texts, input, pair);
        TrainedModel tm = TrainedModel.load(modelDir, null);
        List<Encoding> enc = InputTexts.encode(tm.tokenizer(), in, tm.encoder().config().maxPositions(), truncate);
        ExitCriterion criterion = policy.equals("full") ? null : Evaluation.criterion(policy, Evaluation.calibrate(tm, maxDrop), maxDrop);
        ExitCriterion run = criterion != null ? criterion : new dev.offramp.criteria.StaticCriterion(tm.encoder().config().layers());
        EarlyExitRunner runner = new EarlyExitRunner(tm.encoder(), tm.model(), run, tm.policyFor(run));
        EarlyExitRunner.Result[] res = new EarlyExitRunner.Result[enc.size()];
        if (criterion == null) runner.runFullDepth(enc, res, 0);
        else runner.run(enc, res, 0);
        List<String> labels = tm.model().task().labels();
        double layers = 0;
        for (int i = 0; i < res.length; i++) {
            EarlyExitRunner.Result r = res[i];
            String label = r.label() < 0 ? String.format(Locale.ROOT, "%.4f", r.output()[0]) : labels.get(r.label());
            System.out.printf(Locale.ROOT, "%s\t%s\tscore=%.4f\texit=%d%n", in.get(i).where(), label, r.score(), r.exitLayer());
            layers += r.exitLayer();
        }
        System.out.printf(Locale.ROOT, "summary: inputs=%d policy=%s mean_exit_layer=%.3f%n", res.length, policy, layers / res.length);
        return 0;
    }
}
