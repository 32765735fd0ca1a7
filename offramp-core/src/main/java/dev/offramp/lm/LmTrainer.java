package dev.offramp.lm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.offramp.decoder.DecoderTrainer;
import dev.offramp.decoder.ExitWeighting;
import dev.offramp.kernels.Parallel;
import dev.offramp.model.ParameterSet;
import dev.offramp.tokenizer.bpe.BpeTokenizer;
import dev.offramp.tokenizer.bpe.BpeTokenizerWriter;
import dev.offramp.tokenizer.bpe.BpeTrainer;
import dev.offramp.training.AdamW;
import dev.offramp.training.CosineSchedule;
import dev.offramp.training.GradientClipping;
import dev.offramp.training.JointCheckpoint;
import dev.offramp.training.TrainingProgress;
import dev.offramp.weights.DecoderConfig;
import dev.offramp.weights.DecoderFolderLoader;
import dev.offramp.weights.DecoderFolderWriter;
import dev.offramp.weights.DecoderWeights;
import dev.offramp.weights.PretrainedDecoder;
import dev.offramp.weights.SafetensorsWriter;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Trains a Llama-style decoder from scratch on the shared corpus ({@link LmCorpus}) with the early-exit loss of
 * {@link DecoderTrainer}, end to end: corpus → held-out split → byte-level BPE learned on a sample
 * ({@link BpeTrainer}) → the corpus tokenized once and cached ({@link TokenFile}) → AdamW with warm-up and cosine
 * decay, global-norm clipping → held-out loss and perplexity of every exit every so often → a Hugging Face folder
 * ({@code config.json} model_type llama, {@code model.safetensors}, {@code tokenizer.json},
 * {@code generation_config.json}) that {@link dev.offramp.weights.DecoderFolderLoader} and transformers read.
 *
 * <p>Everything the run needs besides the model folder lives in {@code out/train/}: the options it started with,
 * the tokenizer, the token caches, the held-out documents ({@code heldout.jsonl}, prompts for later evaluation) and
 * the checkpoint (weights, AdamW moments, step), written every {@code checkpointEvery} steps together with the
 * model folder. Rerunning the same command resumes from the checkpoint; batches are a function of the step
 * ({@link LmBatches}), so the resumed run trains on exactly what the uninterrupted one would have. Changing an
 * option that defines the run is refused (delete {@code out/train} to start over).
 */
public final class LmTrainer {
    private LmTrainer() {}

    public static final List<String> SPECIAL_TOKENS = List.of("<|begin_of_text|>", "<|end_of_text|>");
    static final String CHECKPOINT = "lm-checkpoint.bin", OPTIONS = "options.json";

    /**
     * @param vocab           vocabulary size including the two special tokens (BPE may stop short on a tiny corpus)
     * @param seq             T: tokens per training sequence, also the model's max_position_embeddings
     * @param lr              peak learning rate; the schedule decays to minLrFraction·lr
     * @param exitRowStride   intermediate exits read every k-th token (1: all)
     * @param layerDropout    LayerSkip's p_max (0: off)
     * @param evalEvery       held-out evaluation every this many steps (and at the end)
     * @param evalWindows     held-out windows of T + 1 tokens evaluated (rounded down to a multiple of batch)
     * @param checkpointEvery checkpoint and model folder every this many steps (and at the end)
     * @param maxChars        cap on the training text (0: the whole corpus); the held-out part is capped in proportion
     * @param bpeSampleChars  characters of training text the BPE merges are learned on
     * @param exitDistill     β of the intermediate exits' self-distillation towards the last exit (0: off)
     * @param distillTop1     distil towards the last exit's top-1 token rather than its distribution
     * @param init            a model folder of the same shape to start from (its tokenizer, and its run's weights and
     *                        AdamW moments when its train/ holds the checkpoint), or null for random weights
     */
    public record Options(int layers, int hidden, int heads, int kvHeads, int ffn, int vocab, int seq, int batch,
                          int steps, double lr, double minLrFraction, int warmupSteps, double weightDecay,
                          double clipNorm, ExitWeighting exitWeighting, int exitRowStride, float layerDropout,
                          boolean tiedEmbeddings, long seed, int evalEvery, int evalWindows, int checkpointEvery,
                          SafetensorsWriter.Dtype dtype, List<String> sources, long maxChars, double heldOutFraction,
                          long bpeSampleChars, float exitDistill, boolean distillTop1, Path init) {
        public Options {
            sources = List.copyOf(sources);
            if (!(exitDistill >= 0 && exitDistill <= 1)) {
                throw new IllegalArgumentException("exit-distill must be in [0, 1], got " + exitDistill);
            }
            if (layers < 1 || hidden < 1 || heads < 1 || kvHeads < 1 || ffn < 1 || seq < 2 || batch < 1 || steps < 1) {
                throw new IllegalArgumentException("layers, hidden, heads, kv-heads, ffn, batch and steps must be positive and seq >= 2");
            }
            if (hidden % heads != 0 || (hidden / heads) % 2 != 0) {
                throw new IllegalArgumentException("hidden " + hidden + " must be a multiple of heads " + heads
                        + " with an even head size (rotary pairs)");
            }
            if (heads % kvHeads != 0) throw new IllegalArgumentException("heads " + heads + " is not a multiple of kv-heads " + kvHeads);
            if (vocab < 256 + SPECIAL_TOKENS.size() + 1) {
                throw new IllegalArgumentException("vocab must exceed 256 bytes + " + SPECIAL_TOKENS.size() + " special tokens, got " + vocab);
            }
            if (!(lr > 0) || warmupSteps < 0 || warmupSteps > steps || !(clipNorm > 0)) {
                throw new IllegalArgumentException("need lr > 0, 0 <= warmup <= steps and clip > 0");
            }
            if (evalEvery < 1 || evalWindows < 1 || checkpointEvery < 1) {
                throw new IllegalArgumentException("eval-every, eval-windows and checkpoint-every must be positive");
            }
            if (sources.isEmpty()) throw new IllegalArgumentException("no corpus sources");
        }

        /** Without self-distillation, from random weights. */
        public Options(int layers, int hidden, int heads, int kvHeads, int ffn, int vocab, int seq, int batch,
                       int steps, double lr, double minLrFraction, int warmupSteps, double weightDecay,
                       double clipNorm, ExitWeighting exitWeighting, int exitRowStride, float layerDropout,
                       boolean tiedEmbeddings, long seed, int evalEvery, int evalWindows, int checkpointEvery,
                       SafetensorsWriter.Dtype dtype, List<String> sources, long maxChars, double heldOutFraction,
                       long bpeSampleChars) {
            this(layers, hidden, heads, kvHeads, ffn, vocab, seq, batch, steps, lr, minLrFraction, warmupSteps, weightDecay,
                    clipNorm, exitWeighting, exitRowStride, layerDropout, tiedEmbeddings, seed, evalEvery, evalWindows,
                    checkpointEvery, dtype, sources, maxChars, heldOutFraction, bpeSampleChars, 0f, false, null);
        }

        /**
         * The defaults: 6 layers, C 384, 6 heads over 2 KV heads (HS 64), I 832, V 4096, tied embeddings: 9.7 M
         * parameters, 19.4 MB in F16 (I 1024 would make 11.0 M, 22 MB). T 256, B 16, peak lr 1e-3. CALM's exit
         * weights with the intermediate exits on every 4th token: measured here, a head on every token at every
         * layer makes a step 1.7× as long as a plain LM's, every 4th token 1.2×.
         */
        public static Options defaults() {
            return new Options(6, 384, 6, 2, 832, 4096, 256, 16, 12000, 1e-3, 0.1, 500, 0.1, 1.0,
                    ExitWeighting.LINEAR, 4, 0f, true, 42, 500, 64, 250, SafetensorsWriter.Dtype.F16, LmCorpus.SOURCES,
                    0, 0.01, 8_000_000);
        }

        /** The options that define a run: a resumed run must agree on all of these. */
        ObjectNode runDefining() {
            ObjectNode o = new ObjectMapper().createObjectNode();
            o.put("layers", layers).put("hidden", hidden).put("heads", heads).put("kv_heads", kvHeads).put("ffn", ffn)
                    .put("vocab", vocab).put("seq", seq).put("batch", batch).put("steps", steps).put("lr", lr)
                    .put("min_lr_fraction", minLrFraction).put("warmup", warmupSteps).put("weight_decay", weightDecay)
                    .put("clip", clipNorm).put("exit_weighting", exitWeighting.id()).put("exit_row_stride", exitRowStride)
                    .put("layer_dropout", (double) layerDropout).put("tied", tiedEmbeddings).put("seed", seed)
                    .put("sources", String.join(",", sources)).put("max_chars", maxChars)
                    .put("held_out_fraction", heldOutFraction).put("bpe_sample_chars", bpeSampleChars);
            // recorded only when used, so runs from before these options still resume
            if (exitDistill > 0) o.put("exit_distill", (double) exitDistill).put("distill_target", distillTop1 ? "top1" : "soft");
            if (init != null) o.put("init", init.toAbsolutePath().normalize().toString());
            return o;
        }
    }

    /**
     * What a run ended with.
     *
     * @param heldOutLoss        mean cross-entropy per exit on the evaluated held-out windows (nats per token)
     * @param heldOutAgreement   per exit, the fraction of those tokens whose top-1 prediction is the last exit's
     * @param unigramLoss        the held-out cross-entropy of a unigram model of the training tokens (add-one)
     * @param tokensPerSecond    training throughput of the steps this invocation ran (NaN if it ran none)
     * @param weights            the trained weights (what the model folder holds, before any F16 rounding)
     */
    public record Result(int steps, int stepsThisRun, long parameters, int vocab, long trainTokens, long heldOutTokens,
                         double[] heldOutLoss, double[] heldOutAgreement, double unigramLoss, double tokensPerSecond,
                         DecoderWeights weights) {
        public double heldOutPerplexity() {
            return Math.exp(heldOutLoss[heldOutLoss.length - 1]);
        }
    }

    // ====================================================================================================

    /** Trains (or resumes) into out; data from dataDir (the shared data folder's data/). */
    public static Result train(Path out, Path dataDir, Options o, TrainingProgress progress) throws IOException {
        Path work = out.resolve("train");
        Files.createDirectories(work);
        checkOptions(work.resolve(OPTIONS), o);

        // ---- corpus, tokenizer, tokens
        long t0 = System.nanoTime();
        LmCorpus.Split split = LmCorpus.cap(LmCorpus.split(LmCorpus.load(dataDir, o.sources()), o.heldOutFraction(), o.seed()),
                o.maxChars(), o.heldOutFraction());
        progress.log(String.format(Locale.ROOT, "corpus: %,d training documents (%.1f M chars), %,d held out (%.2f M chars), read in %.1f s",
                split.train().size(), split.trainChars() / 1e6, split.heldOut().size(), split.heldOutChars() / 1e6,
                (System.nanoTime() - t0) / 1e9));
        LmCorpus.writeJsonLines(split.heldOut(), work.resolve("heldout.jsonl"));
        Path tokFile = work.resolve("tokenizer.json");
        PretrainedDecoder init = o.init() == null ? null : DecoderFolderLoader.load(o.init());
        if (init != null) {   // continue from a trained model: its tokenizer, so its embeddings keep their meaning
            if (init.tokenizerJson() == null) throw new IllegalArgumentException("--init " + o.init() + " has no tokenizer.json");
            if (!Files.isRegularFile(tokFile)) Files.copy(init.tokenizerJson(), tokFile);
            else if (!Arrays.equals(Files.readAllBytes(tokFile), Files.readAllBytes(init.tokenizerJson()))) {
                throw new IllegalArgumentException(tokFile + " differs from --init's tokenizer " + init.tokenizerJson());
            }
        }
        if (!Files.isRegularFile(tokFile)) learnTokenizer(split.train(), o, tokFile, progress);
        BpeTokenizer tok = BpeTokenizer.fromTokenizerJson(tokFile);
        int bos = tok.id(SPECIAL_TOKENS.get(0)), eos = tok.id(SPECIAL_TOKENS.get(1));
        long fingerprint = fingerprint(Files.readAllBytes(tokFile), o);
        int[] train = tokens(work.resolve("train.tokens"), fingerprint, split.train(), tok, bos, eos, "training", progress);
        int[] held = tokens(work.resolve("heldout.tokens"), fingerprint, split.heldOut(), tok, bos, eos, "held-out", progress);
        double unigram = unigramCrossEntropy(train, held, tok.vocabSize());
        progress.log(String.format(Locale.ROOT, "tokens: %,d training, %,d held out (%.2f chars per token); unigram model of"
                        + " the training tokens on held-out: %.3f nats per token (perplexity %.1f)", train.length, held.length,
                (double) split.trainChars() / Math.max(1, train.length - 2L * split.train().size()), unigram, Math.exp(unigram)));

        // ---- model, optimizer, resume point
        DecoderConfig config = new DecoderConfig(DecoderConfig.LLAMA, tok.vocabSize(), o.hidden(), o.ffn(), o.layers(),
                o.heads(), o.kvHeads(), o.hidden() / o.heads(), o.seq(), 1e-5f, 10000.0, null, o.tiedEmbeddings(), false,
                bos, List.of(eos));
        DecoderWeights weights = init == null ? initialWeights(config, o.seed()) : initWeights(init, config);
        DecoderTrainer trainer = new DecoderTrainer(weights, o.batch(), o.seq(),
                new DecoderTrainer.Options(o.exitWeighting(), o.exitRowStride(), o.layerDropout(), o.seed(), o.exitDistill(),
                        o.distillTop1()));
        ParameterSet params = new ParameterSet();
        trainer.addParameters(params);
        AdamW adam = new AdamW(params, new AdamW.Options(0.9, 0.95, 1e-8, o.weightDecay()));
        List<JointCheckpoint.Group> groups = List.of(new JointCheckpoint.Group(params, adam));
        JointCheckpoint ck = JointCheckpoint.loadIfPresent(work, CHECKPOINT, groups);
        int start = ck == null ? 0 : ck.step();
        String from = ck == null ? "starting at step 0" : "resuming after step " + start + " from " + work.resolve(CHECKPOINT);
        if (ck == null && init != null) {
            // a finished run's checkpoint holds its F32 weights and AdamW moments: continuing from those is a true
            // continuation, where fresh moments would make the first steps sign-like jolts to every weight
            Path initCheckpoint = o.init().resolve("train").resolve(CHECKPOINT);
            if (Files.isRegularFile(initCheckpoint)) {
                JointCheckpoint.read(initCheckpoint, groups);
                from += " from --init's weights and AdamW moments (" + initCheckpoint + ")";
            } else {
                from += " from --init's weights (" + o.init() + "; no checkpoint there, so fresh AdamW moments)";
            }
        }
        progress.log(String.format(Locale.ROOT, "model: %d layers, C %d, %d heads over %d KV heads, I %d, V %d, %s embeddings:"
                        + " %.2f M parameters (%.1f MB in F16); %s", config.layers(), config.hidden(), config.heads(),
                config.kvHeads(), config.intermediate(), config.vocabSize(), o.tiedEmbeddings() ? "tied" : "untied",
                params.count() / 1e6, params.count() * 2 / 1e6, from));

        LmBatches batches = new LmBatches(train, o.batch(), o.seq(), o.seed());
        LmBatches heldBatches = new LmBatches(held, o.batch(), o.seq(), o.seed());
        int evalWindows = Math.min(o.evalWindows(), heldBatches.windows()) / o.batch() * o.batch();
        if (evalWindows < o.batch()) {
            throw new IllegalArgumentException("the held-out split has " + held.length + " tokens, fewer than one batch of "
                    + o.batch() + " windows of " + (o.seq() + 1) + "; raise --max-chars or --held-out");
        }
        progress.log(String.format(Locale.ROOT, "data: %,d windows of %d tokens, %.1f steps per epoch; %d steps = %.2f epochs",
                batches.windows(), o.seq() + 1, batches.stepsPerEpoch(), o.steps(), o.steps() / batches.stepsPerEpoch()));

        // ---- the loop
        CosineSchedule schedule = new CosineSchedule(o.lr(), o.warmupSteps(), o.steps(), o.minLrFraction());
        int n = o.batch() * o.seq();
        int[] inputs = new int[n], targets = new int[n];
        double[] heldLoss = null, heldAgreement = new double[o.layers()];   // written by each evaluation
        long loopStart = System.nanoTime(), windowStart = loopStart;
        int windowSteps = 0;
        double lossAvg = Double.NaN, rate = Double.NaN;
        progress.stage("train-lm", o.steps(), "steps");
        progress.advance(start);
        for (int step = start; step < o.steps(); step++) {
            batches.fill(step, inputs, targets);
            trainer.trainStep(inputs, targets, step);
            double norm = GradientClipping.clipGlobalNorm(params, o.clipNorm());
            double lr = schedule.at(step);
            adam.step(lr);
            params.zeroGradients();
            double[] exits = trainer.lastExitLosses();
            double last = exits[exits.length - 1];
            lossAvg = Double.isNaN(lossAvg) ? last : 0.95 * lossAvg + 0.05 * last;
            windowSteps++;
            long now = System.nanoTime();
            if (now - windowStart > 5_000_000_000L || step + 1 == o.steps()) {
                rate = (double) windowSteps * n / ((now - windowStart) / 1e9);
                windowStart = now;
                windowSteps = 0;
            }
            boolean eval = (step + 1) % o.evalEvery() == 0 || step + 1 == o.steps();
            boolean save = (step + 1) % o.checkpointEvery() == 0 || step + 1 == o.steps();
            if (save) {
                JointCheckpoint.save(work, CHECKPOINT, 0, step + 1, step + 1, groups);
                saveModel(out, weights, tokFile, o.dtype());
            }
            progress.advance(step + 1);
            progress.status(String.format(Locale.ROOT, "loss %.3f, %s tok/s, lr %.1e, |g| %.2f", lossAvg,
                    Double.isNaN(rate) ? "…" : String.format(Locale.ROOT, "%,.0f", rate), lr, norm));
            if (eval) {
                heldLoss = evaluate(trainer, heldBatches, evalWindows, inputs, targets, heldAgreement);
                progress.endStage();
                progress.log(String.format(Locale.ROOT, "step %d: train loss %.3f; held-out loss %.3f (perplexity %.1f; unigram %.1f);"
                        + " per exit %s; top-1 agreement with the last exit %s", step + 1, lossAvg, heldLoss[heldLoss.length - 1],
                        Math.exp(heldLoss[heldLoss.length - 1]), Math.exp(unigram), fmt(heldLoss), fmt(heldAgreement)));
                if (step + 1 < o.steps()) {
                    progress.stage("train-lm", o.steps(), "steps");
                    progress.advance(step + 1);
                }
            }
        }
        progress.endStage();
        int ran = o.steps() - start;
        double tokensPerSecond = ran == 0 ? Double.NaN : (double) ran * n / ((System.nanoTime() - loopStart) / 1e9);
        if (heldLoss == null) {   // nothing left to train: evaluate what the checkpoint holds
            heldLoss = evaluate(trainer, heldBatches, evalWindows, inputs, targets, heldAgreement);
            saveModel(out, weights, tokFile, o.dtype());
        }
        return new Result(o.steps(), ran, params.count(), config.vocabSize(), train.length, held.length, heldLoss,
                heldAgreement, unigram, tokensPerSecond, weights);
    }

    private static String fmt(double[] v) {
        StringBuilder b = new StringBuilder();
        for (double x : v) b.append(b.isEmpty() ? "" : " ").append(String.format(Locale.ROOT, "%.3f", x));
        return b.toString();
    }

    /** Mean loss per exit over the first `windows` held-out windows; agreement receives each exit's top-1 agreement with the last. */
    static double[] evaluate(DecoderTrainer trainer, LmBatches held, int windows, int[] inputs, int[] targets, double[] agreement) {
        int layers = trainer.config().layers();
        double[] sum = new double[layers], per = new double[layers], agree = new double[layers];
        Arrays.fill(agreement, 0);
        int batches = windows / trainer.batch();
        for (int i = 0; i < batches; i++) {
            held.fillInOrder(i * trainer.batch(), inputs, targets);
            trainer.evaluate(inputs, targets, per, agree);
            for (int l = 0; l < layers; l++) {
                sum[l] += per[l];
                agreement[l] += agree[l];
            }
        }
        for (int l = 0; l < layers; l++) {
            sum[l] /= batches;
            agreement[l] /= batches;
        }
        return sum;
    }

    // ====================================================================================================

    /** Records the run-defining options on the first start; afterwards refuses a run that differs. */
    static void checkOptions(Path file, Options o) throws IOException {
        ObjectMapper json = new ObjectMapper();
        ObjectNode now = o.runDefining();
        if (!Files.isRegularFile(file)) {
            json.writerWithDefaultPrettyPrinter().writeValue(file.toFile(), now);
            return;
        }
        JsonNode before = json.readTree(file.toFile());
        List<String> differ = new ArrayList<>();
        for (Iterator<String> it = now.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!now.get(f).equals(before.get(f)) && !(now.get(f).isNumber() && before.path(f).isNumber()
                    && now.get(f).asDouble() == before.get(f).asDouble())) {
                differ.add(f + " " + before.path(f) + " -> " + now.get(f));
            }
        }
        if (!differ.isEmpty()) {
            throw new IllegalArgumentException(file.getParent() + " holds a run with other options (" + String.join(", ", differ)
                    + "); rerun with the same options to resume, or delete " + file.getParent() + " to start over");
        }
    }

    private static void learnTokenizer(List<LmCorpus.Document> train, Options o, Path file, TrainingProgress progress) {
        long t0 = System.nanoTime();
        BpeTrainer.WordCounts words = new BpeTrainer.WordCounts(BpeTokenizerWriter.Style.LLAMA3);
        for (LmCorpus.Document d : train) {
            if (words.characters() >= o.bpeSampleChars()) break;
            words.add(d.text());
        }
        BpeTrainer.Vocabulary v = BpeTrainer.train(words, o.vocab() - SPECIAL_TOKENS.size(), 2);
        BpeTokenizerWriter.write(file, v.tokens(), v.merges(), SPECIAL_TOKENS, BpeTokenizerWriter.Style.LLAMA3);
        progress.log(String.format(Locale.ROOT, "tokenizer: %d merges learned on %.1f M chars (%,d distinct words) in %.1f s%s",
                v.merges().size(), words.characters() / 1e6, words.distinct(), (System.nanoTime() - t0) / 1e9,
                v.tokens().size() + SPECIAL_TOKENS.size() < o.vocab()
                        ? "; the sample ran out of pairs seen twice, so the vocabulary has " + (v.tokens().size() + SPECIAL_TOKENS.size())
                        + " entries, not " + o.vocab() : ""));
    }

    /** A hash of the tokenizer file and the options that choose the documents. */
    static long fingerprint(byte[] tokenizerJson, Options o) {
        long h = 0xcbf29ce484222325L;
        for (byte b : tokenizerJson) h = (h ^ (b & 0xFF)) * 0x100000001b3L;
        String corpus = String.join(",", o.sources()) + "|" + o.maxChars() + "|" + o.heldOutFraction() + "|" + o.seed();
        return LmCorpus.hash(corpus, h);
    }

    /** The documents as one stream, each [BOS] text [EOS]; read from the cache when it is current. */
    static int[] tokens(Path cache, long fingerprint, List<LmCorpus.Document> docs, BpeTokenizer tok, int bos, int eos,
                        String what, TrainingProgress progress) throws IOException {
        int[] cached = TokenFile.readIfCurrent(cache, fingerprint);
        if (cached != null) return cached;
        long t0 = System.nanoTime();
        int[][] ids = new int[docs.size()][];
        int chunk = 1024;
        progress.stage("tokenizing " + what, docs.size(), "documents");
        for (int c0 = 0; c0 < docs.size(); c0 += chunk) {
            int from = c0, to = Math.min(docs.size(), c0 + chunk);
            Parallel.forRange(to - from, (i0, i1) -> {
                for (int i = from + i0; i < from + i1; i++) ids[i] = tok.encode(docs.get(i).text());
            });
            progress.advance(to);
        }
        progress.endStage();
        long total = 0;
        for (int[] a : ids) total += a.length + 2;
        if (total > Integer.MAX_VALUE - 16) throw new IllegalArgumentException("the corpus has " + total + " tokens, too many for one array");
        int[] stream = new int[(int) total];
        int k = 0;
        for (int[] a : ids) {
            stream[k++] = bos;
            System.arraycopy(a, 0, stream, k, a.length);
            k += a.length;
            stream[k++] = eos;
        }
        TokenFile.write(cache, fingerprint, stream);
        progress.log(String.format(Locale.ROOT, "tokenized %s text: %,d tokens in %.1f s, cached in %s", what, total,
                (System.nanoTime() - t0) / 1e9, cache));
        return stream;
    }

    /** Held-out cross-entropy (nats per token) of the training tokens' unigram distribution, add-one smoothed. */
    public static double unigramCrossEntropy(int[] train, int[] heldOut, int vocab) {
        long[] counts = new long[vocab];
        for (int t : train) counts[t]++;
        double total = train.length + (double) vocab, ce = 0;
        for (int t : heldOut) ce -= Math.log((counts[t] + 1) / total);
        return ce / heldOut.length;
    }

    /**
     * Fresh weights, GPT-2 style: embeddings and linears N(0, 0.02²), the two projections that write into the
     * residual stream (o_proj, down_proj) N(0, (0.02/√(2L))²) so the stream does not grow with depth, norm gains 1.
     */
    public static DecoderWeights initialWeights(DecoderConfig c, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double std = 0.02, residual = std / Math.sqrt(2.0 * c.layers());
        int h = c.hidden(), q = c.qDim(), kv = c.kvDim(), in = c.intermediate(), v = c.vocabSize();
        float[] emb = normal(r, v * h, std);
        DecoderWeights.Layer[] layers = new DecoderWeights.Layer[c.layers()];
        for (int l = 0; l < layers.length; l++) {
            layers[l] = new DecoderWeights.Layer(ones(h), normal(r, h * q, std), null, normal(r, h * kv, std), null,
                    normal(r, h * kv, std), null, normal(r, q * h, residual), ones(h), normal(r, h * in, std),
                    normal(r, h * in, std), normal(r, in * h, residual));
        }
        return new DecoderWeights(c, emb, layers, ones(h), c.tiedEmbeddings() ? null : normal(r, h * v, std));
    }

    private static float[] ones(int n) {
        float[] a = new float[n];
        java.util.Arrays.fill(a, 1f);
        return a;
    }

    /** N(0, std²) by Box-Muller from SplitMix64: the same numbers on every JDK. */
    private static float[] normal(SplittableRandom r, int n, double std) {
        float[] a = new float[n];
        for (int i = 0; i < n; i += 2) {
            double u = 1.0 - r.nextDouble(), w = r.nextDouble(), rad = Math.sqrt(-2 * Math.log(u));
            a[i] = (float) (std * rad * Math.cos(2 * Math.PI * w));
            if (i + 1 < n) a[i + 1] = (float) (std * rad * Math.sin(2 * Math.PI * w));
        }
        return a;
    }

    /** --init's weights, which must have the shape the options ask for. */
    static DecoderWeights initWeights(PretrainedDecoder init, DecoderConfig want) {
        DecoderConfig have = init.config();
        if (have.layers() != want.layers() || have.hidden() != want.hidden() || have.heads() != want.heads()
                || have.kvHeads() != want.kvHeads() || have.intermediate() != want.intermediate()
                || have.vocabSize() != want.vocabSize() || have.tiedEmbeddings() != want.tiedEmbeddings()
                || have.maxPositions() < want.maxPositions() || have.qkvBias()) {
            throw new IllegalArgumentException(String.format(Locale.ROOT, "--init %s is %d layers, C %d, %d heads over %d,"
                            + " I %d, V %d, %s, %d positions; the options ask for %d layers, C %d, %d heads over %d, I %d, V %d,"
                            + " %s, %d positions", init.name(), have.layers(), have.hidden(), have.heads(), have.kvHeads(),
                    have.intermediate(), have.vocabSize(), have.tiedEmbeddings() ? "tied" : "untied", have.maxPositions(),
                    want.layers(), want.hidden(), want.heads(), want.kvHeads(), want.intermediate(), want.vocabSize(),
                    want.tiedEmbeddings() ? "tied" : "untied", want.maxPositions()));
        }
        return init.weights();
    }

    /** The Hugging Face folder: config, weights, tokenizer and generation_config.json. */
    public static void saveModel(Path out, DecoderWeights w, Path tokenizerJson, SafetensorsWriter.Dtype dtype) throws IOException {
        DecoderFolderWriter.write(w, tokenizerJson, out, dtype, 1);
        ObjectMapper json = new ObjectMapper();
        ObjectNode g = json.createObjectNode();
        DecoderConfig c = w.config;
        if (c.bosTokenId() >= 0) g.put("bos_token_id", c.bosTokenId());
        if (!c.eosTokenIds().isEmpty()) g.put("eos_token_id", c.eosTokenIds().get(0));
        g.put("max_length", c.maxPositions());
        g.put("do_sample", false);
        g.put("_from_model_config", true);
        json.writerWithDefaultPrettyPrinter().writeValue(out.resolve("generation_config.json").toFile(), g);
    }
}
