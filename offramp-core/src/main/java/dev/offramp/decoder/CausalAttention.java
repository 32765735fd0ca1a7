package dev.offramp.decoder;

import dev.offramp.kernels.Parallel;
import dev.offramp.kernels.VectorOps;

/**
 * Causal grouped-query attention of the tokens of one step against a layer's KV cache. The step's n tokens sit
 * at positions start .. start+n−1 and their keys and values are already in the cache; the token at position p
 * attends to positions 0..p. Query head h reads key/value head h / (NH/KVH). Attention is the only op that mixes
 * information across positions.
 */
public final class CausalAttention {
    private CausalAttention() {}

    /** Below this many multiply-adds (scores plus weighted values) the heads run on the calling thread. */
    private static final long PARALLEL_MIN_MACS = 1L << 15;

    /**
     * out (n, NH·HS) = softmax(q·Kᵀ/√HS)·V, per token and query head.
     *
     * @param q       (n, NH·HS) rotated queries, row stride qStride
     * @param cache   one layer's cache: position j holds [k (KVH·HS) | v (KVH·HS)] at j·2·KVH·HS
     * @param scratch one array per thread slot, each at least start + n floats (the scores of one query)
     */
    public static void forward(float[] out, float[] q, int qStride, float[] cache, int start, int n, int heads,
                               int kvHeads, int headDim, float[][] scratch) {
        int items = n * heads;
        long macs = (long) items * (start + n) * headDim;
        int slots = macs < PARALLEL_MIN_MACS || Parallel.threads() == 1 ? 1 : Math.min(scratch.length, items);
        float scale = (float) (1.0 / Math.sqrt(headDim));
        int group = heads / kvHeads, kvDim = kvHeads * headDim, rowStride = 2 * kvDim;
        Parallel.RangeTask task = (s0, s1) -> {
            for (int slot = s0; slot < s1; slot++) {
                float[] scores = scratch[slot];
                // interleaved items so early (short) and late (long) rows of a prompt spread evenly
                for (int item = slot; item < items; item += slots) {
                    int i = item / heads, h = item % heads, kvh = h / group;
                    int p = start + i, qOff = i * qStride + h * headDim, kOff = kvh * headDim, vOff = kvDim + kvh * headDim;
                    for (int j = 0; j <= p; j++) scores[j] = VectorOps.dot(q, qOff, cache, j * rowStride + kOff, headDim) * scale;
                    float max = VectorOps.max(scores, 0, p + 1);
                    float inv = 1f / VectorOps.expSub(scores, 0, p + 1, max);
                    int o = i * heads * headDim + h * headDim;
                    java.util.Arrays.fill(out, o, o + headDim, 0f);
                    for (int j = 0; j <= p; j++) VectorOps.axpy(scores[j] * inv, cache, j * rowStride + vOff, out, o, headDim);
                }
            }
        };
        if (slots == 1) task.run(0, 1);
        else Parallel.forRange(slots, task);
    }
}
