package dev.offramp.exits;

import dev.offramp.model.BertEncoder;
import dev.offramp.model.EncoderBatch;
import dev.offramp.tokenizer.Encoding;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Runs a set of inputs through every layer, in batches of similar length (sorted by token count, so a batch
 * wastes nothing on attention over long neighbours), and hands the pooled vector of each layer to a sink.
 * The common loop behind the per-layer output cache (calibration) and the feature cache (frozen training).
 */
public final class LayerwisePass {
    private LayerwisePass() {}

    /** Receives the pooled vectors of one layer for one batch. */
    @FunctionalInterface
    public interface Sink {
        /**
         * @param exit    the layer just run (1..L), i.e. the exit these vectors feed
         * @param samples (B) index of each row in the caller's input list
         * @param pooled  (B, H) pooled hidden state after that layer; reused for the next call
         * @param b       rows in this batch
         */
        void accept(int exit, int[] samples, float[] pooled, int b);
    }

    /**
     * @param maxBatch       most samples per batch
     * @param maxBatchTokens most tokens per batch (a single longer input still runs alone)
     */
    public static void run(BertEncoder encoder, List<Encoding> inputs, Pooling pooling, int maxBatch,
                           int maxBatchTokens, Sink sink) {
        run(encoder, inputs, pooling, maxBatch, maxBatchTokens, sink, null);
    }

    /** As above; {@code progress}, when not null, receives the number of inputs done after each batch. */
    public static void run(BertEncoder encoder, List<Encoding> inputs, Pooling pooling, int maxBatch,
                           int maxBatchTokens, Sink sink, java.util.function.IntConsumer progress) {
        if (maxBatch <= 0 || maxBatchTokens <= 0) throw new IllegalArgumentException("batch limits must be positive");
        int n = inputs.size(), h = encoder.config().hidden(), layers = encoder.config().layers();
        Integer[] boxed = new Integer[n];
        for (int i = 0; i < n; i++) boxed[i] = i;
        Arrays.sort(boxed, (x, y) -> Integer.compare(inputs.get(x).length(), inputs.get(y).length()));
        int[] order = new int[n];
        for (int i = 0; i < n; i++) order[i] = boxed[i];

        EncoderBatch batch = encoder.newBatch();
        int[] samples = new int[maxBatch];
        float[] pooled = new float[maxBatch * h];
        List<Encoding> chunk = new ArrayList<>(maxBatch);
        int start = 0;
        while (start < n) {
            chunk.clear();
            int end = start, tokens = 0;
            while (end < n && chunk.size() < maxBatch) {
                Encoding e = inputs.get(order[end]);
                if (!chunk.isEmpty() && tokens + e.length() > maxBatchTokens) break;
                chunk.add(e);
                tokens += e.length();
                end++;
            }
            encoder.start(batch, chunk);
            int b = chunk.size();
            for (int s = 0; s < b; s++) samples[s] = order[start + batch.sampleId(s)];
            for (int l = 0; l < layers; l++) {
                encoder.layer(batch);
                pooling.pool(batch, h, pooled, 0);
                sink.accept(l + 1, samples, pooled, b);
            }
            start = end;
            if (progress != null) progress.accept(start);
        }
    }
}
