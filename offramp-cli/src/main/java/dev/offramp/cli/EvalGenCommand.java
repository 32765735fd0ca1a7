package dev.offramp.cli;

import dev.offramp.generation.GenerationEval;
import dev.offramp.generation.KvMode;
import dev.offramp.weights.DecoderModels;
import dev.offramp.generation.TokenExitCriterion;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** ./offramp eval-gen: a token-level exit criterion against full depth on held-out text. */
@Command(name = "eval-gen", mixinStandardHelpOptions = true,
        description = {"Early-exit generation against full depth on the held-out split of a train-lm folder, same engine,"
                + " same run, batch 1: perplexity, tokens/s, mean exit layer, token match and ROUGE-L against"
                + " full-depth greedy output.",
                "Thresholds not given are calibrated on other held-out prompts (the loosest with agreement >= --target-agreement,"
                        + " free-running ROUGE-L by default)."},
        footer = {"", "Examples:",
                "  ./offramp eval-gen --model runs/lm --policy top-prob",
                "  ./offramp eval-gen --model runs/lm --policy consistentee --kv propagate-no-norm",
                "  ./offramp eval-gen --model demo-lm --policy saturation --compare-kv"})
final class EvalGenCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "a decoder folder (e.g. from train-lm) or demo-lm, the"
            + " demonstration decoder kept in the repository")
    String model;

    @Option(names = "--policy", required = true, description = "top-prob | top-margin | saturation | static | oracle"
            + " | consistentee | speculative (self-speculative: full depth's output, drafts from an early exit) | full")
    String policy;

    @Option(names = "--threshold", description = "the criterion's knob; default: calibrated (consistentee: its τ, 0.5 in the paper)")
    Double threshold;

    @Mixin
    GenerationCalibrationOptions calibration;

    @Option(names = "--policy-file", description = "exit policies (default: <model>/exit-policy.json)")
    Path policyFile;

    @Mixin
    HeldOutGenerationOptions heldOut;

    @Option(names = "--compare-kv", description = "also evaluate the same criterion, same knob, with the skipped layers'"
            + " KV from each of the other two modes, and print the three side by side (state propagation with and"
            + " without the input norm, and the exact run-the-rest mode)")
    boolean compareKv;

    @Option(names = "--repeats", defaultValue = "3", description = "timed passes over the prompts; speeds are medians (default: ${DEFAULT-VALUE})")
    int repeats;

    @Override
    public Integer call() {
        dev.offramp.generation.TokenCriteria.requireKnown(policy);
        GenerationSetup g = new GenerationSetup(DecoderModels.folder(model));
        KvMode mode = heldOut.mode();
        List<int[]> docs = g.heldOut(4000);
        List<int[]> evalPrompts = heldOut.evaluationPrompts(docs);
        TokenExitCriterion c = g.criterion(policy, threshold == null ? Double.NaN : threshold, policyFile,
                heldOut.calibrationPrompts(docs), heldOut.generatedTokens(g), calibration, mode);
        GenerationEval.Options o = heldOut.options(g, repeats);
        GenerationEval.Report r = GenerationEval.run(g.decoder, policy, c, evalPrompts, docs, o);
        System.out.printf(Locale.ROOT, "%s, KV of skipped layers: %s; %d prompts x %d tokens, %d generated tokens timed%n",
                c.describe(), mode.id(), r.prompts(), heldOut.promptTokens, r.tokens());
        System.out.printf(Locale.ROOT, "  tokens/s %.1f vs full depth %.1f (speed-up %.2fx); mean exit layer %.2f of %d"
                        + " (layer speed-up %.2fx)%n", r.tokensPerSecond(), r.fullTokensPerSecond(), r.speedup(),
                r.meanExitLayer(), r.layers(), r.layers() / r.meanExitLayer());
        System.out.printf(Locale.ROOT, "  token match %.4f, ROUGE-L %.4f vs full-depth greedy; held-out perplexity %.3f vs %.3f%n",
                r.tokenMatch(), r.rougeL(), r.ppl(), r.fullPpl());
        if (!Double.isNaN(r.tokensPerVerification())) {
            System.out.printf(Locale.ROOT, "  speculative: %.2f tokens per verification (the layers above the draft exit run once"
                    + " per verification, on all its rows)%n", r.tokensPerVerification());
        }
        if (compareKv) printKvComparison(g, c, evalPrompts, docs, o, r);
        System.out.println(r.summary());
        return 0;
    }

    /**
     * The criterion as calibrated under --kv, rerun under every KV mode: what the skipped layers' KV costs in quality.
     * Generation reruns both sides (the speed-up is timed in one run); perplexity only the early-exit side, since full
     * depth skips no layer and its perplexity is the same in every mode.
     */
    private static void printKvComparison(GenerationSetup g, TokenExitCriterion c, List<int[]> prompts, List<int[]> docs,
                                          GenerationEval.Options o, GenerationEval.Report calibrated) {
        System.out.printf(Locale.ROOT, "KV of skipped layers, same knob (%s):%n", c.describe());
        System.out.printf(Locale.ROOT, "  %-18s %10s %8s %11s %10s %10s%n", "kv mode", "perplexity", "ROUGE-L",
                "token match", "mean layer", "tokens/s x");
        String row = "  %-18s %10.3f %8.4f %11.4f %10.2f %9.2fx%n";
        for (KvMode m : KvMode.values()) {
            if (m == o.mode()) {
                System.out.printf(Locale.ROOT, row, m.id(), calibrated.ppl(), calibrated.rougeL(), calibrated.tokenMatch(),
                        calibrated.meanExitLayer(), calibrated.speedup());
                continue;
            }
            GenerationEval.Generation r = GenerationEval.generation(g.decoder, c, prompts, o.maxTokens(), m, o.repeats());
            double ppl = GenerationEval.perplexity(g.decoder, c, docs, o.withMode(m));
            System.out.printf(Locale.ROOT, row, m.id(), ppl, r.rougeL(), r.tokenMatch(), r.meanExitLayer(), r.speedup());
        }
    }
}
