package dev.offramp.cli;

import dev.offramp.data.DataPaths;
import dev.offramp.decoder.ExitWeighting;
import dev.offramp.lm.LmTrainer;
import dev.offramp.weights.SafetensorsWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** ./offramp train-lm: a small Llama-style decoder trained from scratch with an exit after every layer. */
@Command(name = "train-lm", mixinStandardHelpOptions = true,
        description = {"Train a small Llama-style decoder from scratch on the shared corpus (Alpaca, IMDB, GLUE, news, ...)"
                + " with a byte-level BPE it learns and an early-exit loss at every layer; saves a Hugging Face folder"
                + " (config.json, model.safetensors, tokenizer.json, generation_config.json).",
                "Checkpoints every --checkpoint-every steps; rerunning the same command resumes (same data order)."},
        footer = {"", "Examples:",
                "  ./offramp train-lm --out runs/lm                      the defaults: 9.7 M parameters, 19 MB in F16",
                "  ./offramp train-lm --out runs/tiny --layers 2 --hidden 128 --heads 4 --kv-heads 2 --ffn 256 --vocab 1024 \\",
                "      --seq 128 --batch 8 --steps 500 --max-chars 3000000   a quick look"})
final class TrainLmCommand implements Callable<Integer> {
    @Option(names = "--out", required = true, description = "the model folder; its train/ subfolder holds the checkpoint and caches")
    Path out;

    @Option(names = "--layers", defaultValue = "6", description = "decoder layers (default: ${DEFAULT-VALUE})")
    int layers;

    @Option(names = "--hidden", defaultValue = "384", description = "hidden width C (default: ${DEFAULT-VALUE})")
    int hidden;

    @Option(names = "--heads", defaultValue = "6", description = "query heads (default: ${DEFAULT-VALUE})")
    int heads;

    @Option(names = "--kv-heads", defaultValue = "2", description = "key/value heads, grouped-query attention (default: ${DEFAULT-VALUE})")
    int kvHeads;

    @Option(names = "--ffn", defaultValue = "832", description = "SwiGLU width I (default: ${DEFAULT-VALUE}; 1024 makes 11.0 M"
            + " parameters, 22 MB in F16)")
    int ffn;

    @Option(names = "--vocab", defaultValue = "4096", description = "vocabulary size, special tokens included (default: ${DEFAULT-VALUE})")
    int vocab;

    @Option(names = "--seq", defaultValue = "256", description = "tokens per sequence T, also max_position_embeddings (default: ${DEFAULT-VALUE})")
    int seq;

    @Option(names = "--batch", defaultValue = "16", description = "sequences per step B (default: ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--steps", defaultValue = "12000", description = "optimizer steps (default: ${DEFAULT-VALUE})")
    int steps;

    @Option(names = "--lr", defaultValue = "1e-3", description = "peak learning rate (default: ${DEFAULT-VALUE})")
    double lr;

    @Option(names = "--min-lr-fraction", defaultValue = "0.1", description = "the cosine decay ends at this fraction of --lr (default: ${DEFAULT-VALUE})")
    double minLrFraction;

    @Option(names = "--warmup", defaultValue = "500", description = "linear warm-up steps (default: ${DEFAULT-VALUE})")
    int warmup;

    @Option(names = "--weight-decay", defaultValue = "0.1", description = "AdamW weight decay on matrices and embeddings (default: ${DEFAULT-VALUE})")
    double weightDecay;

    @Option(names = "--clip", defaultValue = "1.0", description = "global gradient-norm bound (default: ${DEFAULT-VALUE})")
    double clip;

    @Option(names = "--exit-weights", defaultValue = "linear", description = "early-exit loss: linear (w_l = l, CALM) | mean | last"
            + " (an ordinary LM) (default: ${DEFAULT-VALUE})")
    String exitWeights;

    @Option(names = "--exit-stride", defaultValue = "4", description = "intermediate exits read every k-th token (1: all; an"
            + " exit on every token costs about one layer: a step takes 1.7× a plain LM's with 1, 1.2× with 4)"
            + " (default: ${DEFAULT-VALUE})")
    int exitStride;

    @Option(names = "--layer-dropout", defaultValue = "0", description = "LayerSkip's rising layer dropout, p at the last layer"
            + " (default: ${DEFAULT-VALUE}, off)")
    float layerDropout;

    @Option(names = "--exit-distill", defaultValue = "0", description = "self-distillation: an intermediate exit's target is"
            + " (1 − β)·next token + β·the last exit's distribution, so early exits learn to agree with the full model"
            + " (default: ${DEFAULT-VALUE}, off)")
    float exitDistill;

    @Option(names = "--distill-target", defaultValue = "soft", description = "with --exit-distill: soft (the last exit's"
            + " distribution) | top1 (its top-1 token, one-hot: what greedy decoding needs to agree on) (default: ${DEFAULT-VALUE})")
    String distillTarget;

    @Option(names = "--init", description = "start from this model folder's weights and tokenizer (same shape; e.g. a finished"
            + " train-lm run, to fine-tune it with --exit-distill or --layer-dropout) instead of random weights")
    Path init;

    @Option(names = "--untied", description = "a separate LM head instead of the embedding matrix")
    boolean untied;

    @Option(names = "--seed", defaultValue = "42", description = "(default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--eval-every", defaultValue = "500", description = "held-out loss and perplexity every this many steps (default: ${DEFAULT-VALUE})")
    int evalEvery;

    @Option(names = "--eval-windows", defaultValue = "64", description = "held-out windows of seq + 1 tokens evaluated (default: ${DEFAULT-VALUE})")
    int evalWindows;

    @Option(names = "--checkpoint-every", defaultValue = "250", description = "checkpoint and model folder every this many steps (default: ${DEFAULT-VALUE})")
    int checkpointEvery;

    @Option(names = "--dtype", defaultValue = "f16", description = "f16 | bf16 | f32 for model.safetensors (default: ${DEFAULT-VALUE})")
    String dtype;

    @Option(names = "--sources", split = ",", defaultValue = "alpaca,imdb,fine-foods,glue,sick,ag-news,reuters,sms-spam,mr,subj,cr,mpqa,trec",
            description = "corpus sources (default: all: ${DEFAULT-VALUE})")
    List<String> sources;

    @Option(names = "--max-chars", defaultValue = "0", description = "cap on the training text, 0 = all (default: ${DEFAULT-VALUE})")
    long maxChars;

    @Option(names = "--held-out", defaultValue = "0.01", description = "fraction of documents held out, by a seeded hash of each (default: ${DEFAULT-VALUE})")
    double heldOut;

    @Option(names = "--bpe-sample-chars", defaultValue = "8000000", description = "characters of training text the BPE merges are learned on (default: ${DEFAULT-VALUE})")
    long bpeSampleChars;

    LmTrainer.Options options() {
        SafetensorsWriter.Dtype d = switch (dtype.toLowerCase(Locale.ROOT)) {
            case "f16" -> SafetensorsWriter.Dtype.F16;
            case "bf16" -> SafetensorsWriter.Dtype.BF16;
            case "f32" -> SafetensorsWriter.Dtype.F32;
            default -> throw new IllegalArgumentException("unknown --dtype '" + dtype + "' (available: f16, bf16, f32)");
        };
        return new LmTrainer.Options(layers, hidden, heads, kvHeads, ffn, vocab, seq, batch, steps, lr, minLrFraction, warmup,
                weightDecay, clip, ExitWeighting.fromId(exitWeights), exitStride, layerDropout, !untied, seed, evalEvery,
                evalWindows, checkpointEvery, d, sources, maxChars, heldOut, bpeSampleChars, exitDistill,
                switch (distillTarget) {
                    case "soft" -> false;
                    case "top1" -> true;
                    default -> throw new IllegalArgumentException("unknown --distill-target '" + distillTarget + "' (available: soft, top1)");
                }, init);
    }

    @Override
    public Integer call() throws Exception {
        LmTrainer.Options o = options();
        LmTrainer.Result r = LmTrainer.train(out, DataPaths.data(), o, new BarProgress());
        double[] loss = r.heldOutLoss();
        String exits = commaSeparated(java.util.Arrays.stream(loss).map(Math::exp).toArray(), "%.1f");
        String agree = commaSeparated(r.heldOutAgreement(), "%.3f");
        System.out.println("model folder: " + out.toAbsolutePath());
        System.out.printf(Locale.ROOT, "summary: steps=%d params=%d vocab=%d heldout_loss=%.4f heldout_ppl=%.2f"
                        + " unigram_ppl=%.2f ppl_per_exit=%s agreement_per_exit=%s tokens_per_s=%.0f%n", r.steps(), r.parameters(),
                r.vocab(), loss[loss.length - 1], r.heldOutPerplexity(), Math.exp(r.unigramLoss()), exits, agree,
                r.tokensPerSecond());
        return 0;
    }

    private static String commaSeparated(double[] values, String format) {
        StringBuilder b = new StringBuilder();
        for (double v : values) b.append(b.isEmpty() ? "" : ",").append(String.format(Locale.ROOT, format, v));
        return b.toString();
    }
}
