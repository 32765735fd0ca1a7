package dev.offramp.generation;

import dev.offramp.decoder.DecoderState;
import dev.offramp.decoder.DecoderTrainer;
import dev.offramp.decoder.LlamaDecoder;
import dev.offramp.kernels.Gemm;
import dev.offramp.kernels.VectorOps;
import dev.offramp.model.ParameterSet;
import dev.offramp.training.AdamW;

import java.util.Locale;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import java.util.function.IntConsumer;

/**
 * Trains a {@link DraftAdapter} on a frozen decoder. The positions are the ones drafts meet: the model's own
 * full-depth greedy continuations of prompts cut from its training tokens. Each position keeps the final-normed state
 * after the draft layer and the full-depth greedy token; Adam minimises the cross-entropy of head(n + A·n) against
 * that token. The last tenth of the prompts is kept aside to measure top-1 agreement before and after.
 */
public final class DraftAdapterTrainer {
    private DraftAdapterTrainer() {}

    /**
     * @param layer        the draft exit (1-based, below the last layer)
     * @param prompts      continuations generated (each from a random place in the training tokens)
     * @param promptTokens tokens of each prompt
     * @param newTokens    greedy tokens generated after each prompt, one training position each
     */
    public record Options(int layer, int prompts, int promptTokens, int newTokens, int epochs, int batch, double lr, long seed) {
        public Options {
            if (prompts < 2 || promptTokens < 1 || newTokens < 1 || epochs < 1 || batch < 1 || !(lr > 0)) {
                throw new IllegalArgumentException("need prompts >= 2 and positive prompt/new tokens, epochs, batch and lr: " + this);
            }
        }
    }

    /** The training signal: count positions of (normed state (C), full-depth token), in prompt order. */
    public record Data(int count, int hidden, float[] normed, int[] target) {}

    /** What training gave: the adapter and top-1 agreement with full depth on the positions kept aside. */
    public record Result(DraftAdapter adapter, double agreementBefore, double agreementAfter, int validationPositions) {}

    /** Generates the continuations at full depth and records, per generated position, the draft exit's normed state. */
    public static Data collect(LlamaDecoder model, int[] tokens, Options o, IntConsumer promptsDone) {
        int layers = model.config().layers(), c = model.config().hidden(), v = model.config().vocabSize();
        if (o.layer() < 1 || o.layer() >= layers) {
            throw new IllegalArgumentException("the draft layer must be in 1.." + (layers - 1) + ", got " + o.layer());
        }
        int length = o.promptTokens() + o.newTokens();
        if (length > model.config().maxPositions()) {
            throw new IllegalArgumentException("prompt " + o.promptTokens() + " + " + o.newTokens() + " new tokens exceed the model's "
                    + model.config().maxPositions() + " positions");
        }
        if (tokens.length <= o.promptTokens()) {
            throw new IllegalArgumentException("need more than " + o.promptTokens() + " training tokens, got " + tokens.length);
        }
        int n = o.prompts() * o.newTokens();
        float[] normed = new float[n * c];
        int[] target = new int[n];
        float[] logits = new float[v];
        int[] one = new int[1];
        DecoderState s = model.newState(length, o.promptTokens());
        SplittableRandom random = new SplittableRandom(o.seed());
        int count = 0;
        for (int p = 0; p < o.prompts(); p++) {
            s.reset();
            model.begin(s, tokens, random.nextInt(tokens.length - o.promptTokens()), o.promptTokens());
            for (int l = 0; l < layers; l++) model.layer(s, l);
            model.logits(s, o.promptTokens() - 1, 1, logits, 0);
            model.finish(s);
            int next = TokenMath.argmax(logits);
            for (int t = 0; t < o.newTokens(); t++) {
                one[0] = next;
                model.begin(s, one, 0, 1);
                for (int l = 0; l < layers; l++) {
                    model.layer(s, l);
                    if (l + 1 == o.layer()) model.finalNorm(s, 0, normed, count * c);
                }
                model.logits(s, 0, 1, logits, 0);
                model.finish(s);
                next = TokenMath.argmax(logits);
                target[count++] = next;
            }
            if (promptsDone != null) promptsDone.accept(p + 1);
        }
        return new Data(count, c, normed, target);
    }

    /** Trains the adapter on data with the model's LM head (C, V), frozen. */
    public static Result train(float[] head, int vocab, Data d, Options o, Consumer<String> log) {
        int c = d.hidden();
        int validation = Math.max(1, d.count() / 10 / o.newTokens()) * o.newTokens();
        if (validation >= d.count()) throw new IllegalArgumentException("too few positions to keep a tenth aside: " + d.count());
        int trainCount = d.count() - validation;
        float[] a = new float[c * c];                      // A = 0: the plain exit
        Work w = new Work(o.batch(), c, vocab);
        double before = agreement(a, head, vocab, d, trainCount, d.count(), w), after = before;
        log.accept(String.format(Locale.ROOT, "draft exit %d: top-1 agreement with full depth %.4f on %d positions kept aside",
                o.layer(), before, validation));
        float[] grad = new float[c * c];
        AdamW adam = new AdamW(new ParameterSet().add("adapter.weight", a, grad, false), new AdamW.Options(0.9, 0.999, 1e-8, 0));
        float[] xb = new float[o.batch() * c];
        int[] yb = new int[o.batch()], order = new int[trainCount];
        for (int i = 0; i < trainCount; i++) order[i] = i;
        SplittableRandom random = new SplittableRandom(o.seed() + 1);
        for (int epoch = 1; epoch <= o.epochs(); epoch++) {
            for (int i = trainCount - 1; i > 0; i--) {
                int j = random.nextInt(i + 1), t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
            double lossSum = 0;
            int batches = 0;
            for (int b0 = 0; b0 < trainCount; b0 += o.batch()) {
                int b = Math.min(o.batch(), trainCount - b0);
                for (int r = 0; r < b; r++) {
                    System.arraycopy(d.normed(), order[b0 + r] * c, xb, r * c, c);
                    yb[r] = d.target()[order[b0 + r]];
                }
                lossSum += lossAndGradient(xb, yb, b, a, head, c, vocab, grad, w);
                batches++;
                adam.step(o.lr());
            }
            after = agreement(a, head, vocab, d, trainCount, d.count(), w);
            log.accept(String.format(Locale.ROOT, "epoch %d: train loss %.4f; top-1 agreement kept aside %.4f", epoch,
                    lossSum / batches, after));
        }
        return new Result(new DraftAdapter(o.layer(), c, a), before, after, validation);
    }

    /** Buffers of one batch. */
    static final class Work {
        final float[] z, logits, dz;

        Work(int batch, int c, int v) {
            z = new float[batch * c];
            logits = new float[batch * v];
            dz = new float[batch * c];
        }
    }

    /**
     * Mean cross-entropy of softmax(head·(x + A·x)) against y over b rows of x (b, C); grad (C, C) receives dL/dA.
     * head is (C, V), [in, out].
     */
    static double lossAndGradient(float[] x, int[] y, int b, float[] a, float[] head, int c, int v, float[] grad, Work w) {
        forward(x, b, a, head, c, v, w);
        double loss = 0;
        // each row becomes (softmax − onehot) / b, the gradient of the batch mean
        for (int r = 0; r < b; r++) loss += DecoderTrainer.crossEntropyRow(w.logits, r * v, v, y[r], 1f / b);
        Gemm.gemm(false, true, b, c, v, w.logits, 0, v, head, 0, v, w.dz, 0, c, false);   // dz = dlogits · headᵀ
        Gemm.gemm(true, false, c, c, b, w.dz, 0, c, x, 0, c, grad, 0, c, false);          // dA = dzᵀ · x
        return loss / b;
    }

    /** w.logits (b, V) = head applied to z = x + x·Aᵀ. */
    private static void forward(float[] x, int b, float[] a, float[] head, int c, int v, Work w) {
        Gemm.gemm(false, true, b, c, c, x, 0, c, a, 0, c, w.z, 0, c, false);
        VectorOps.add(x, 0, w.z, 0, b * c);
        Gemm.gemm(false, false, b, v, c, w.z, 0, c, head, 0, v, w.logits, 0, v, false);
    }

    /** Share of positions [from, to) whose top-1 through the adapter A is the full-depth token. */
    static double agreement(float[] a, float[] head, int v, Data d, int from, int to, Work w) {
        int c = d.hidden(), batch = w.z.length / c, hits = 0;
        float[] x = new float[batch * c];
        for (int r0 = from; r0 < to; r0 += batch) {
            int b = Math.min(batch, to - r0);
            System.arraycopy(d.normed(), r0 * c, x, 0, b * c);
            forward(x, b, a, head, c, v, w);
            for (int r = 0; r < b; r++) if (TokenMath.argmax(w.logits, r * v, v) == d.target()[r0 + r]) hits++;
        }
        return (double) hits / (to - from);
    }
}
