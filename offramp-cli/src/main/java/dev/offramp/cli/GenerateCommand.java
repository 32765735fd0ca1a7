package dev.offramp.cli;

import dev.offramp.generation.EarlyExitDecoder;
import dev.offramp.generation.GenerationEval;
import dev.offramp.generation.KvMode;
import dev.offramp.weights.DecoderModels;
import dev.offramp.generation.TokenExitCriterion;
import dev.offramp.tokenizer.bpe.StreamDecoder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** ./offramp generate: greedy decoding with token-level early exit, streamed. */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = {"Greedy generation from a decoder folder (llama / qwen2, e.g. from train-lm) with token-level early"
                + " exit: each generated token leaves after the first layer where --policy says so; the prompt runs every layer."},
        footer = {"", "Examples:",
                "  ./offramp generate --model runs/lm --policy top-prob --show-exits \"### Instruction:\\nName three colors.\\n\\n### Response:\\n\"",
                "  ./offramp generate --model runs/lm --policy consistentee --max-tokens 100 \"The movie was\""})
final class GenerateCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "a decoder folder (e.g. from train-lm) or demo-lm, the"
            + " demonstration decoder kept in the repository")
    String model;

    @Option(names = "--policy", defaultValue = "top-prob", description = "top-prob | top-margin | saturation | static | oracle"
            + " | consistentee | speculative | full (default: ${DEFAULT-VALUE})")
    String policy;

    @Option(names = "--threshold", description = "the criterion's knob (a threshold; the layer for static, the draft layer for speculative); default: calibrated"
            + " on held-out text (consistentee: its τ, 0.5 in the paper)")
    Double threshold;

    @Mixin
    GenerationCalibrationOptions calibration;

    @Option(names = "--policy-file", description = "exit policies (default: <model>/exit-policy.json)")
    Path policyFile;

    @Option(names = "--kv", defaultValue = "propagate", description = "KV of skipped layers: propagate | propagate-no-norm | exact"
            + " (default: ${DEFAULT-VALUE})")
    String kv;

    @Option(names = "--max-tokens", defaultValue = "64", description = "(default: ${DEFAULT-VALUE})")
    int maxTokens;

    @Option(names = "--show-exits", description = "print each token's exit layer after it, as ⟨l⟩")
    boolean showExits;

    @Parameters(arity = "1", description = "the prompt (\\n is a newline)")
    String prompt;

    @Override
    public Integer call() {
        dev.offramp.generation.TokenCriteria.requireKnown(policy);
        GenerationSetup g = new GenerationSetup(DecoderModels.folder(model));
        KvMode mode = KvMode.fromId(kv);
        List<int[]> calib = threshold == null && !List.of("oracle", "full").contains(policy)
                ? GenerationEval.prompts(g.heldOut(400).reversed(), 8, 16) : List.of();
        TokenExitCriterion c = g.criterion(policy, threshold == null ? Double.NaN : threshold, policyFile, calib, 24, calibration, mode);
        int[] ids = g.tokenizer.encode(prompt.replace("\\n", "\n"), true);
        int cap = g.pretrained.config().maxPositions();
        int max = Math.min(maxTokens, cap - ids.length);
        if (max < 1) throw new IllegalArgumentException("the prompt has " + ids.length + " tokens; the model holds " + cap);
        EarlyExitDecoder.Session s = g.decoder.newSession(ids.length + max, ids.length);
        StreamDecoder out = g.tokenizer.newStreamDecoder(true);
        System.out.println("policy: " + c.describe() + ", KV of skipped layers: " + mode.id());
        EarlyExitDecoder.Generated r = g.decoder.generate(s, ids, max, c, mode, (token, exit) -> {
            System.out.print(out.push(token));
            if (showExits) System.out.print("⟨" + exit + "⟩");
            System.out.flush();
        });
        System.out.println(out.flush());
        System.out.printf(Locale.ROOT, "%d tokens, mean exit layer %.2f of %d, %.1f tokens/s after the prompt%n",
                r.tokens().length, r.meanExitLayer(), g.layers(),
                (r.tokens().length - 1) / Math.max(1e-9, r.decodeNanos() / 1e9));
        return 0;
    }
}
