package dev.offramp.cli;

import dev.offramp.generation.GenerationEval;
import dev.offramp.generation.KvMode;
import picocli.CommandLine.Option;

import java.util.List;

/**
 * What eval-gen and report-gen generate from: prompts from the front of a decoder's held-out split, calibration
 * prompts from its back (no prompt is in both), held-out documents for perplexity, and the KV mode of skipped layers.
 */
final class HeldOutGenerationOptions {
    @Option(names = "--kv", defaultValue = "propagate", description = "propagate | propagate-no-norm | exact (default: ${DEFAULT-VALUE})")
    String kv;

    @Option(names = "--prompts", defaultValue = "24", description = "held-out prompts generated from (default: ${DEFAULT-VALUE})")
    int prompts;

    @Option(names = "--prompt-tokens", defaultValue = "16", description = "tokens of each prompt (default: ${DEFAULT-VALUE})")
    int promptTokens;

    @Option(names = "--max-tokens", defaultValue = "48", description = "tokens generated per prompt (default: ${DEFAULT-VALUE})")
    int maxTokens;

    @Option(names = "--calibration-prompts", defaultValue = "16", description = "(default: ${DEFAULT-VALUE})")
    int calibrationPrompts;

    @Option(names = "--ppl-docs", defaultValue = "24", description = "held-out documents for perplexity (default: ${DEFAULT-VALUE})")
    int pplDocs;

    @Option(names = "--ppl-tokens", defaultValue = "128", description = "tokens per perplexity document, at most (default: ${DEFAULT-VALUE})")
    int pplTokens;

    KvMode mode() {
        return KvMode.fromId(kv);
    }

    /** Evaluation prompts, from the front of the held-out documents. */
    List<int[]> evaluationPrompts(List<int[]> heldOut) {
        return GenerationEval.prompts(heldOut, prompts, promptTokens);
    }

    /** Calibration prompts, from the back of the held-out documents. */
    List<int[]> calibrationPrompts(List<int[]> heldOut) {
        return GenerationEval.prompts(heldOut.reversed(), calibrationPrompts, promptTokens);
    }

    /** Tokens generated per prompt: --max-tokens, or fewer when prompt and continuation would outgrow the model. */
    int generatedTokens(GenerationSetup g) {
        return Math.min(maxTokens, g.pretrained.config().maxPositions() - promptTokens);
    }

    GenerationEval.Options options(GenerationSetup g, int repeats) {
        return new GenerationEval.Options(prompts, promptTokens, generatedTokens(g), pplDocs,
                Math.min(pplTokens, g.pretrained.config().maxPositions()), mode(), repeats);
    }
}
