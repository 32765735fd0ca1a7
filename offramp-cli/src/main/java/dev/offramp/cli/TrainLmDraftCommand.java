package dev.offramp.cli;

import dev.offramp.decoder.LlamaDecoder;
import dev.offramp.generation.DraftAdapter;
import dev.offramp.generation.DraftAdapterTrainer;
import dev.offramp.lm.TokenFile;
import dev.offramp.weights.DecoderFolderLoader;
import dev.offramp.weights.DecoderModels;
import dev.offramp.weights.PretrainedDecoder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** ./offramp train-lm-draft: a draft adapter for self-speculative decoding (--policy speculative). */
@Command(name = "train-lm-draft", mixinStandardHelpOptions = true,
        description = {"Train a draft adapter for self-speculative decoding on a train-lm decoder, frozen: one linear map with"
                + " a skip connection on the normed state of the draft exit, so that its top-1 is more often full depth's greedy"
                + " token. Positions are the model's own greedy continuations of prompts cut from its training tokens"
                + " (train/train.tokens; the held-out split is never read).",
                "Saves <model>/" + DraftAdapter.FILE + "; generate and eval-gen use it with --policy speculative at its layer."},
        footer = {"", "Example:", "  ./offramp train-lm-draft --model runs/lm --layer 3"})
final class TrainLmDraftCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "a train-lm folder")
    Path model;

    @Option(names = "--layer", defaultValue = "3", description = "the draft exit (default: ${DEFAULT-VALUE})")
    int layer;

    @Option(names = "--prompts", defaultValue = "1000", description = "greedy continuations generated (default: ${DEFAULT-VALUE})")
    int prompts;

    @Option(names = "--prompt-tokens", defaultValue = "16", description = "(default: ${DEFAULT-VALUE})")
    int promptTokens;

    @Option(names = "--new-tokens", defaultValue = "48", description = "greedy tokens per prompt, a training position each"
            + " (default: ${DEFAULT-VALUE})")
    int newTokens;

    @Option(names = "--epochs", defaultValue = "4", description = "(default: ${DEFAULT-VALUE})")
    int epochs;

    @Option(names = "--batch", defaultValue = "512", description = "(default: ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--lr", defaultValue = "1e-3", description = "Adam learning rate (default: ${DEFAULT-VALUE})")
    double lr;

    @Option(names = "--seed", defaultValue = "42", description = "(default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--out", description = "the adapter file (default: <model>/" + DraftAdapter.FILE + ")")
    Path out;

    @Override
    public Integer call() throws Exception {
        Path dir = DecoderModels.folder(model.toString());
        Path tokenFile = dir.resolve("train/train.tokens");
        if (!Files.isRegularFile(tokenFile)) {
            throw new IllegalArgumentException(tokenFile + " is missing: train-lm-draft needs the training tokens of a train-lm folder");
        }
        PretrainedDecoder p = DecoderFolderLoader.load(dir);
        LlamaDecoder decoder = new LlamaDecoder(p.weights());
        int[] tokens = TokenFile.read(tokenFile);
        DraftAdapterTrainer.Options o = new DraftAdapterTrainer.Options(layer, prompts, promptTokens, newTokens, epochs, batch, lr, seed);
        long t0 = System.nanoTime();
        DraftAdapterTrainer.Data data;
        try (Progress bar = new Progress("greedy continuations", prompts, "prompts")) {
            data = DraftAdapterTrainer.collect(decoder, tokens, o, bar.counter());
        }
        System.out.printf(Locale.ROOT, "positions: %d (%d prompts x %d greedy tokens) in %.1f s%n", data.count(), prompts,
                newTokens, (System.nanoTime() - t0) / 1e9);
        DraftAdapterTrainer.Result r = DraftAdapterTrainer.train(p.weights().lmHeadInOut(), p.config().vocabSize(), data, o,
                System.out::println);
        Path file = out != null ? out : dir.resolve(DraftAdapter.FILE);
        r.adapter().save(file);
        System.out.printf(Locale.ROOT, "summary: layer=%d agreement_before=%.4f agreement_after=%.4f positions=%d kept_aside=%d%n",
                layer, r.agreementBefore(), r.agreementAfter(), data.count(), r.validationPositions());
        System.out.println("draft adapter: " + file.toAbsolutePath());
        return 0;
    }
}
