package dev.offramp.model;

import dev.offramp.tokenizer.Encoding;
import dev.offramp.weights.BertConfig;

import java.util.List;
import java.util.function.IntPredicate;

/**
 * The state of one batch moving through the encoder, layer by layer. Samples are stored ragged: sample b
 * owns token rows [offset(b), offset(b) + length(b)) of every activation, so there is no padding at all.
 * {@link #retain} drops finished samples between layers (compaction): a sample that exits costs nothing more.
 *
 * Buffers grow to the largest batch seen and are then reused: no allocation per layer in the steady state.
 * One batch belongs to one caller at a time; the shared, read-only model lives in {@link BertEncoder}.
 */
public final class EncoderBatch {
    final int hidden, heads, intermediate;

    int size;              // B: samples still running
    int tokens;            // N: their total tokens
    int[] sampleId = new int[0];  // (B) index of the sample in the caller's input list
    int[] offset = new int[0];    // (B) first token row
    int[] length = new int[0];    // (B) tokens of the sample, specials included
    int[] ids = new int[0];       // (N) token ids (read by the embeddings only)
    int[] typeIds = new int[0];   // (N)
    float[] x = new float[0];     // (N, H) hidden state after the last layer run
    float[] qkv = new float[0];   // (N, 3H)
    float[] ctx = new float[0];   // (N, H)
    float[] ffn = new float[0];   // (N, I)
    float[][] attScratch = new float[0][];
    int layersDone;        // 0 after embed, i after layer i (1-based count)

    EncoderBatch(BertConfig config) {
        this.hidden = config.hidden();
        this.heads = config.heads();
        this.intermediate = config.intermediate();
    }

    /** Loads new inputs into this batch, reusing its buffers when they are large enough. */
    public EncoderBatch reset(List<Encoding> inputs) {
        int b = inputs.size();
        for (Encoding e : inputs) if (e.length() == 0) throw new IllegalArgumentException("an encoding has no tokens");
        ensureSamples(b);
        for (int i = 0; i < b; i++) length[i] = inputs.get(i).length();
        layOut(b);
        layersDone = 0;
        if (ids.length < tokens) { ids = new int[tokens]; typeIds = new int[tokens]; }
        for (int i = 0; i < b; i++) {
            Encoding e = inputs.get(i);
            System.arraycopy(e.ids(), 0, ids, offset[i], e.length());
            System.arraycopy(e.typeIds(), 0, typeIds, offset[i], e.length());
        }
        return this;
    }

    /**
     * Loads samples that are part-way through the encoder, e.g. gathered by a scheduler from different arrival
     * times: sample i has lengths[i] tokens and its hidden state after {@code layersDone} layers in
     * states[i][0 .. lengths[i]·H) (as {@link #storeHidden} wrote it). The next {@link BertEncoder#layer} runs layer
     * layersDone + 1 on all of them. Token ids are read only by the embeddings, so they are not loaded. The copy is
     * O(tokens·H), small next to one layer's matrix products.
     */
    public EncoderBatch resume(float[][] states, int[] lengths, int count, int layersDone) {
        if (layersDone < 0) throw new IllegalArgumentException("layersDone must be >= 0, got " + layersDone);
        for (int i = 0; i < count; i++) {
            int len = lengths[i];
            if (len <= 0) throw new IllegalArgumentException("sample " + i + " has " + len + " tokens");
            if (states[i] == null || states[i].length < len * hidden) {
                throw new IllegalArgumentException("sample " + i + " needs a state of " + len + " x " + hidden + " floats, got "
                        + (states[i] == null ? "none" : states[i].length));
            }
        }
        ensureSamples(count);
        System.arraycopy(lengths, 0, length, 0, count);
        layOut(count);
        this.layersDone = layersDone;
        for (int i = 0; i < count; i++) System.arraycopy(states[i], 0, x, offset[i] * hidden, lengths[i] * hidden);
        return this;
    }

    private void ensureSamples(int count) {
        if (sampleId.length < count) { sampleId = new int[count]; offset = new int[count]; length = new int[count]; }
    }

    /** Lays the samples whose lengths are in length[0..count) end to end: ids, offsets, totals, activation buffers. */
    private void layOut(int count) {
        int n = 0, tmax = 0;
        for (int i = 0; i < count; i++) {
            sampleId[i] = i;
            offset[i] = n;
            n += length[i];
            tmax = Math.max(tmax, length[i]);
        }
        size = count;
        tokens = n;
        ensureActivations(n, tmax);
    }

    /** Copies sample b's hidden state (length(b), H) into dst[0 ..): what {@link #resume} loads back. */
    public void storeHidden(int b, float[] dst) {
        System.arraycopy(x, offset[b] * hidden, dst, 0, length[b] * hidden);
    }

    /** Floats one sample of {@code tokens} tokens needs for its state between layers. */
    public int stateFloats(int tokens) {
        return tokens * hidden;
    }

    private void ensureActivations(int n, int tmax) {
        if (x.length < n * hidden) {
            int cap = n + n / 4; // headroom so slightly larger batches do not reallocate
            x = new float[cap * hidden];
            qkv = new float[cap * 3 * hidden];
            ctx = new float[cap * hidden];
            ffn = new float[cap * intermediate];
        }
        int need = Attention.scratchFloats(hidden, heads, tmax);
        int slots = dev.offramp.kernels.Parallel.threads();
        if (attScratch.length < slots || attScratch[0].length < need) {
            attScratch = new float[slots][];
            for (int s = 0; s < slots; s++) attScratch[s] = new float[Math.max(need, 64)];
        }
    }

    /**
     * Keeps only the samples for which keep.test(b) holds (b = current position), in order, and moves their
     * token rows together. Rows only ever move to lower indices, so the copy is done in place.
     */
    public void retain(IntPredicate keep) {
        int nb = 0, n = 0;
        for (int b = 0; b < size; b++) {
            if (!keep.test(b)) continue;
            int len = length[b];
            if (offset[b] != n) System.arraycopy(x, offset[b] * hidden, x, n * hidden, len * hidden);
            sampleId[nb] = sampleId[b];
            offset[nb] = n;
            length[nb] = len;
            n += len;
            nb++;
        }
        size = nb;
        tokens = n;
    }

    /** Samples still running. */
    public int size() { return size; }

    /** Total tokens of the samples still running. */
    public int tokens() { return tokens; }

    /** Layers run so far (0 after the embeddings). */
    public int layersDone() { return layersDone; }

    /** Index in the original input list of the sample now at position b. */
    public int sampleId(int b) { return sampleId[b]; }

    public int offset(int b) { return offset[b]; }

    public int length(int b) { return length[b]; }

    /** The hidden state (N, H); row offset(b) is sample b's first ([CLS]) token. Read-only for callers. */
    public float[] hidden() { return x; }

    /** Copies sample b's hidden state (length(b), H) into a new array. */
    public float[] copyHidden(int b) {
        float[] h = new float[length[b] * hidden];
        storeHidden(b, h);
        return h;
    }
}
