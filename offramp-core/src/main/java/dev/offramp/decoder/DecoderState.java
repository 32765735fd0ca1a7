package dev.offramp.decoder;

import dev.offramp.kernels.Parallel;
import dev.offramp.weights.DecoderConfig;

import java.util.Arrays;

/**
 * Everything one sequence needs while a {@link LlamaDecoder} runs it, allocated once (llm.c style): the KV cache of
 * every layer for up to {@code capacity} positions and the activations of one step of up to {@code maxStep}
 * tokens. A step is: {@link LlamaDecoder#begin} → for each layer, {@link LlamaDecoder#layer} or (skipped by an
 * early exit) {@link LlamaDecoder#propagateKv} → {@link LlamaDecoder#finish}. Per request, never shared between
 * threads; the model itself is.
 */
public final class DecoderState {
    final DecoderConfig config;
    final int capacity, maxStep;

    /** (L) × (capacity, 2·KVH·HS): position j of layer l holds [k | v] at j·2·KVH·HS. */
    final float[][] kv;
    /** Positions of each layer's cache that are filled. */
    final int[] kvLength;

    int length;        // positions of the sequence done (every layer's KV filled)
    int step;          // tokens in the current step; 0 between steps
    int nextLayer;     // layer the current step runs next (0..L)

    // activations of the current step, row r = token at position length + r
    final float[] x;          // (maxStep, C) residual stream
    final float[] xn;         // (maxStep, C) normed input of the current block
    final float[] normed;     // (maxStep, C) final-normed hidden states for the LM head
    final float[] q;          // (maxStep, NH·HS) rotated queries
    final float[] att;        // (maxStep, NH·HS) attention output, before o_proj
    final float[] gateUp;     // (maxStep, 2I)
    final float[] mlp;        // (maxStep, I) silu(gate) ⊙ up
    final float[] cos, sin;   // (maxStep, HS/2) rotary tables of the step's positions
    final float[][] scores;   // per thread slot, (capacity) one query's attention scores

    DecoderState(DecoderConfig config, int capacity, int maxStep) {
        if (capacity < 1 || maxStep < 1 || maxStep > capacity) {
            throw new IllegalArgumentException("need 1 <= maxStep <= capacity, got maxStep " + maxStep
                    + ", capacity " + capacity);
        }
        if (capacity > config.maxPositions()) {
            throw new IllegalArgumentException("capacity " + capacity + " exceeds the model's max_position_embeddings "
                    + config.maxPositions());
        }
        long cacheFloats = (long) capacity * 2 * config.kvDim();
        if (cacheFloats > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("a KV cache of " + capacity + " positions does not fit one array per layer");
        }
        this.config = config;
        this.capacity = capacity;
        this.maxStep = maxStep;
        int c = config.hidden();
        kv = new float[config.layers()][(int) cacheFloats];
        kvLength = new int[config.layers()];
        x = new float[maxStep * c];
        xn = new float[maxStep * c];
        normed = new float[maxStep * c];
        q = new float[maxStep * config.qDim()];
        att = new float[maxStep * config.qDim()];
        gateUp = new float[maxStep * 2 * config.intermediate()];
        mlp = new float[maxStep * config.intermediate()];
        cos = new float[maxStep * config.headDim() / 2];
        sin = new float[maxStep * config.headDim() / 2];
        scores = new float[Parallel.threads()][capacity];
    }

    /** Positions of the sequence done: the next step's first token goes at this position. */
    public int length() {
        return length;
    }

    /** Tokens in the current step, 0 between steps. */
    public int stepSize() {
        return step;
    }

    /** The layer the current step runs next; {@code layers} when every layer has been run or propagated. */
    public int nextLayer() {
        return nextLayer;
    }

    /** Most positions the cache holds. */
    public int capacity() {
        return capacity;
    }

    /** Most tokens one step takes. */
    public int maxStep() {
        return maxStep;
    }

    /** The step's residual stream (step, C): row r at r·C, the hidden state after the last layer run. */
    public float[] hidden() {
        return x;
    }

    /** Forgets the sequence (buffers are kept). */
    public void reset() {
        length = 0;
        step = 0;
        nextLayer = 0;
        Arrays.fill(kvLength, 0);
    }

    /**
     * Cuts the sequence back to its first {@code newLength} positions (e.g. to reuse a shared prompt); only between
     * steps.
     */
    public void truncate(int newLength) {
        if (step != 0) throw new IllegalStateException("truncate between steps, not during one");
        if (newLength < 0 || newLength > length) {
            throw new IllegalArgumentException("cannot truncate a sequence of " + length + " positions to " + newLength);
        }
        length = newLength;
        Arrays.fill(kvLength, newLength);
    }

    /** Layer l's cached key of position pos, head kvHead (HS values) copied into out. For tests and tools. */
    public void key(int l, int pos, int kvHead, float[] out, int outOff) {
        checkCached(l, pos);
        System.arraycopy(kv[l], pos * 2 * config.kvDim() + kvHead * config.headDim(), out, outOff, config.headDim());
    }

    /** Layer l's cached value of position pos, head kvHead (HS values) copied into out. */
    public void value(int l, int pos, int kvHead, float[] out, int outOff) {
        checkCached(l, pos);
        System.arraycopy(kv[l], pos * 2 * config.kvDim() + config.kvDim() + kvHead * config.headDim(), out, outOff,
                config.headDim());
    }

    private void checkCached(int l, int pos) {
        if (l < 0 || l >= kv.length || pos < 0 || pos >= kvLength[l]) {
            throw new IllegalArgumentException("layer " + l + " has no cached position " + pos);
        }
    }
}
