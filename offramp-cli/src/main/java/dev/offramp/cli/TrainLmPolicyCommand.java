package dev.offramp.cli;

import dev.offramp.decoder.LlamaDecoder;
import dev.offramp.generation.ExitPolicies;
import dev.offramp.generation.PolicyTrainer;
import dev.offramp.lm.TokenFile;
import dev.offramp.weights.DecoderFolderLoader;
import dev.offramp.weights.PretrainedDecoder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** ./offramp train-lm-policy: ConsistentEE's per-token exit policies for a trained decoder. */
@Command(name = "train-lm-policy", mixinStandardHelpOptions = true,
        description = {"Train ConsistentEE exit policies (one linear + sigmoid per layer on the normed hidden state) for a"
                + " train-lm decoder, frozen, on its training tokens (train/train.tokens; the held-out split is never read):"
                + " memorized layer per position, reward log p_t(y) - alpha*t*(1 - m/L), exact estimator or REINFORCE.",
                "Saves <model>/exit-policy.json, which generate and eval-gen use with --policy consistentee."},
        footer = {"", "Examples:",
                "  ./offramp train-lm-policy --model runs/lm --alpha 0.2",
                "  ./offramp train-lm-policy --model runs/lm --estimator reinforce --k 8 --out runs/lm/policy-rf.json"})
final class TrainLmPolicyCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "a train-lm folder")
    Path model;

    @Option(names = "--alpha", defaultValue = "0.2", description = "cost per layer of an easy token (default: ${DEFAULT-VALUE})")
    double alpha;

    @Option(names = "--reward", defaultValue = "hardness", description = "hardness | plain (-CE - alpha*t) (default: ${DEFAULT-VALUE})")
    String reward;

    @Option(names = "--estimator", defaultValue = "exact", description = "exact | reinforce (default: ${DEFAULT-VALUE})")
    String estimator;

    @Option(names = "--k", defaultValue = "8", description = "REINFORCE copies per token, the first never exiting (default: ${DEFAULT-VALUE})")
    int k;

    @Option(names = "--target", defaultValue = "full", description = "full (the full-depth token) | gold (the text's next token)"
            + " (default: ${DEFAULT-VALUE})")
    String target;

    @Option(names = "--positions", defaultValue = "8192", description = "training positions cached (default: ${DEFAULT-VALUE})")
    int positions;

    @Option(names = "--epochs", defaultValue = "4", description = "(default: ${DEFAULT-VALUE})")
    int epochs;

    @Option(names = "--batch", defaultValue = "64", description = "(default: ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--lr", defaultValue = "3e-3", description = "Adam learning rate (default: ${DEFAULT-VALUE})")
    double lr;

    @Option(names = "--seed", defaultValue = "42", description = "(default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--out", description = "the policy file (default: <model>/exit-policy.json)")
    Path out;

    @Override
    public Integer call() throws Exception {
        if (!reward.equals("hardness") && !reward.equals("plain")) throw new IllegalArgumentException("unknown --reward '" + reward + "' (hardness, plain)");
        if (!estimator.equals("exact") && !estimator.equals("reinforce")) {
            throw new IllegalArgumentException("unknown --estimator '" + estimator + "' (exact, reinforce)");
        }
        PolicyTrainer.Target t = switch (target) {
            case "full" -> PolicyTrainer.Target.FULL;
            case "gold" -> PolicyTrainer.Target.GOLD;
            default -> throw new IllegalArgumentException("unknown --target '" + target + "' (full, gold)");
        };
        PretrainedDecoder p = DecoderFolderLoader.load(model);
        LlamaDecoder decoder = new LlamaDecoder(p.weights());
        int[] tokens = TokenFile.read(model.resolve("train/train.tokens"));
        long t0 = System.nanoTime();
        int window = Math.min(256, p.config().maxPositions());
        PolicyTrainer.Features f = PolicyTrainer.collect(decoder, tokens, window, positions, t);
        System.out.printf(Locale.ROOT, "features: %d positions through %d layers in %.1f s; mean memorized layer %.2f%n",
                f.count(), p.config().layers(), (System.nanoTime() - t0) / 1e9, f.meanMemorizedLayer());
        ExitPolicies policies = PolicyTrainer.train(f, new PolicyTrainer.Options(alpha, reward.equals("hardness"),
                estimator.equals("exact"), k, t, epochs, batch, lr, seed), System.out::println);
        Path file = out != null ? out : model.resolve(ExitPolicies.FILE);
        policies.save(file);
        System.out.println("policies: " + file.toAbsolutePath() + " (" + policies.trainedWith() + ")");
        return 0;
    }
}
