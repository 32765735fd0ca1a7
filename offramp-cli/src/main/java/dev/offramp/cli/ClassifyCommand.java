package dev.offramp.cli;

import dev.offramp.api.InvalidInputException;
import dev.offramp.api.Offramp;
import dev.offramp.api.Prediction;
import dev.offramp.tokenizer.Encoding;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
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
        Offramp.Options options = Offramp.Options.defaults().withPolicy(policy).withMaxDrop(maxDrop).withTruncate(truncate);
        if (!policy.equals(Offramp.FULL_DEPTH) && (!Evaluation.lengthMatch
                || !Files.isRegularFile(Offramp.calibrationFile(modelDir, policy, maxDrop)))) {
            // calibrate on validation now (this saves every policy's file), as eval would
            Evaluation.criterion(policy, Evaluation.calibrate(TrainedModel.load(modelDir, null), maxDrop), maxDrop);
        }
        try (Offramp model = Offramp.load(modelDir, options)) {
            List<Encoding> enc = new ArrayList<>(in.size());
            for (InputTexts.Text t : in) {
                try {
                    enc.add(model.encode(t.a(), t.b()));
                } catch (InvalidInputException e) {
                    String hint = e.reason() == InvalidInputException.Reason.TOO_LONG ? " (pass --truncate to cut it)" : "";
                    throw new IllegalArgumentException(t.where() + ": " + e.getMessage() + hint, e);
                }
            }
            List<Prediction> res = model.classifyEncoded(enc);
            double layers = 0;
            for (int i = 0; i < res.size(); i++) {
                Prediction p = res.get(i);
                String label = p.label() == null ? String.format(Locale.ROOT, "%.4f", p.score()) : p.label();
                System.out.printf(Locale.ROOT, "%s\t%s\tscore=%.4f\texit=%d%n", in.get(i).where(), label, p.score(), p.exitLayer());
                layers += p.exitLayer();
            }
            System.out.printf(Locale.ROOT, "summary: inputs=%d policy=%s mean_exit_layer=%.3f%n", res.size(), policy, layers / res.size());
        }
        return 0;
    }
}
