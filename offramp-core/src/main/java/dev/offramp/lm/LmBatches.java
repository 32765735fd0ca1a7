package dev.offramp.lm;

import java.util.SplittableRandom;

/**
 * The data order of language-model training: the token stream is cut into non-overlapping windows of T + 1 tokens
 * (inputs are the first T, targets the last T), window k starting at token k·T; each epoch visits every window
 * once in an order shuffled by (seed, epoch); step s takes the next B windows of that endless sequence. Batches
 * are therefore a function of the step alone, so a resumed run sees exactly what an uninterrupted one would.
 */
public final class LmBatches {
    private final int[] tokens;
    private final int batch, seq, windows;
    private final long seed;
    private int[] order;
    private long orderEpoch = -1;

    public LmBatches(int[] tokens, int batch, int seq, long seed) {
        if (batch < 1 || seq < 1) throw new IllegalArgumentException("need batch >= 1 and seq >= 1");
        this.windows = tokens.length < seq + 1 ? 0 : (tokens.length - 1) / seq;
        if (windows < 1) {
            throw new IllegalArgumentException("the corpus has " + tokens.length + " tokens, fewer than one window of seq + 1 = "
                    + (seq + 1));
        }
        this.tokens = tokens;
        this.batch = batch;
        this.seq = seq;
        this.seed = seed;
    }

    /** Windows of T + 1 tokens in the stream. */
    public int windows() {
        return windows;
    }

    /** Optimizer steps per pass over the data. */
    public double stepsPerEpoch() {
        return (double) windows / batch;
    }

    /** Fills inputs and targets (B·T each, sequence b at b·T) with step s's batch. */
    public void fill(long step, int[] inputs, int[] targets) {
        for (int b = 0; b < batch; b++) {
            long g = step * batch + b;
            int w = window(g / windows, (int) (g % windows));
            System.arraycopy(tokens, w * seq, inputs, b * seq, seq);
            System.arraycopy(tokens, w * seq + 1, targets, b * seq, seq);
        }
    }

    /** Fills inputs and targets with windows first .. first + B − 1 in stream order (held-out evaluation). */
    public void fillInOrder(int first, int[] inputs, int[] targets) {
        for (int b = 0; b < batch; b++) {
            int w = (first + b) % windows;
            System.arraycopy(tokens, w * seq, inputs, b * seq, seq);
            System.arraycopy(tokens, w * seq + 1, targets, b * seq, seq);
        }
    }

    private int window(long epoch, int index) {
        if (epoch != orderEpoch) {
            order = new int[windows];
            for (int i = 0; i < windows; i++) order[i] = i;
            SplittableRandom r = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + epoch);
            for (int i = windows - 1; i > 0; i--) {
                int j = r.nextInt(i + 1), t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
            orderEpoch = epoch;
        }
        return order[index];
    }
}
