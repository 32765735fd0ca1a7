package dev.offramp.decoder;

import dev.offramp.kernels.Gemm;
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

    // ----------------------------------------------------------------------------------------------------
    // training: B sequences of T tokens side by side, no cache. Each (sequence, head) is a few GEMMs over blocks of
    // query rows: block [r0, r1) only meets keys 0..r1−1, so the masked upper triangle costs little
    // (about 1/8 more than the triangle itself at T = 256) while the products run at GEMM speed.

    /** Query rows per block of the training GEMMs. */
    private static final int ROW_BLOCK = 64;

    /**
     * Training forward over B sequences of T tokens: the token at row b·T + i attends to rows b·T .. b·T + i of
     * its own sequence. The probabilities are kept for {@link #backward}.
     *
     * @param out   (B·T, NH·HS) softmax(q·Kᵀ/√HS)·V
     * @param probs (B, NH, T, T): row (b, h, i) holds P[i, 0..i] and zeros after
     * @param q     (B·T, NH·HS) rotated queries
     * @param kv    (B·T, 2·KVH·HS): row r is [k (rotated) | v], the cache layout
     */
    public static void forwardTraining(float[] out, float[] probs, float[] q, float[] kv, int batch, int t, int heads,
                                       int kvHeads, int headDim) {
        forwardTraining(out, probs, q, kv, batch, t, heads, kvHeads, headDim, ROW_BLOCK);
    }

    /** As above with blocks of rowBlock query rows (tests use small blocks to cross block edges at small T). */
    static void forwardTraining(float[] out, float[] probs, float[] q, float[] kv, int batch, int t, int heads,
                                int kvHeads, int headDim, int rowBlock) {
        float scale = (float) (1.0 / Math.sqrt(headDim));
        int group = heads / kvHeads, qDim = heads * headDim, kvDim = kvHeads * headDim, rowStride = 2 * kvDim;
        Parallel.forRange(batch * heads, (i0, i1) -> {
            for (int item = i0; item < i1; item++) {
                int b = item / heads, h = item % heads, kvh = h / group;
                int p = item * t * t, qOff = b * t * qDim + h * headDim, kOff = b * t * rowStride + kvh * headDim;
                int vOff = kOff + kvDim;
                for (int r0 = 0; r0 < t; r0 += rowBlock) {
                    int r1 = Math.min(t, r0 + rowBlock);
                    Gemm.gemm(false, true, r1 - r0, r1, headDim, q, qOff + r0 * qDim, qDim, kv, kOff, rowStride,
                            probs, p + r0 * t, t, false);                                          // S = Q·Kᵀ
                    for (int i = r0; i < r1; i++) {
                        int row = p + i * t;
                        VectorOps.scale(scale, probs, row, i + 1);
                        float max = VectorOps.max(probs, row, i + 1);
                        VectorOps.scale(1f / VectorOps.expSub(probs, row, i + 1, max), probs, row, i + 1);
                        java.util.Arrays.fill(probs, row + i + 1, row + t, 0f);
                    }
                    Gemm.gemm(false, false, r1 - r0, headDim, r1, probs, p + r0 * t, t, kv, vOff, rowStride,
                            out, qOff + r0 * qDim, qDim, false);                                   // P·V
                }
            }
        });
    }

    /**
     * Backward of {@link #forwardTraining}: adds ∂loss/∂q into dq (B·T, NH·HS) and ∂loss/∂[k | v] into dkv
     * (B·T, 2·KVH·HS), for the rotated keys and queries. With dP = dOut·Vᵀ, the softmax gives
     * dS = P ⊙ (dP − rowsum(P ⊙ dP)); then dq = dS·K/√HS, dk += dSᵀ·q/√HS, dv += Pᵀ·dOut. A work item is one
     * sequence and one key/value head with every query head reading it, so no two threads write the same dk or dv.
     *
     * @param scratch one array per thread slot, each at least T·T floats
     */
    public static void backward(float[] dq, float[] dkv, float[] dOut, float[] probs, float[] q, float[] kv, int batch,
                                int t, int heads, int kvHeads, int headDim, float[][] scratch) {
        backward(dq, dkv, dOut, probs, q, kv, batch, t, heads, kvHeads, headDim, scratch, ROW_BLOCK);
    }

    /** As above with blocks of rowBlock query rows. */
    static void backward(float[] dq, float[] dkv, float[] dOut, float[] probs, float[] q, float[] kv, int batch, int t,
                         int heads, int kvHeads, int headDim, float[][] scratch, int rowBlock) {
        float scale = (float) (1.0 / Math.sqrt(headDim));
        int group = heads / kvHeads, qDim = heads * headDim, kvDim = kvHeads * headDim, rowStride = 2 * kvDim;
        int items = batch * kvHeads, slots = Math.min(scratch.length, items);
        Parallel.forRange(slots, (s0, s1) -> {
            for (int slot = s0; slot < s1; slot++) {
                float[] ds = scratch[slot];
                for (int item = slot; item < items; item += slots) {
                    int b = item / kvHeads, kvh = item % kvHeads;
                    int kOff = b * t * rowStride + kvh * headDim, vOff = kOff + kvDim;
                    for (int h = kvh * group; h < (kvh + 1) * group; h++) {
                        int p = (b * heads + h) * t * t, qOff = b * t * qDim + h * headDim;
                        for (int r0 = 0; r0 < t; r0 += rowBlock) {
                            int r1 = Math.min(t, r0 + rowBlock), m = r1 - r0;
                            Gemm.gemm(false, true, m, r1, headDim, dOut, qOff + r0 * qDim, qDim, kv, vOff, rowStride,
                                    ds, r0 * t, t, false);                                         // dP = dOut·Vᵀ
                            for (int i = r0; i < r1; i++) {
                                int row = i * t, prow = p + i * t;
                                float sum = VectorOps.dot(probs, prow, ds, row, i + 1);
                                for (int j = 0; j <= i; j++) ds[row + j] = probs[prow + j] * (ds[row + j] - sum) * scale;
                                java.util.Arrays.fill(ds, row + i + 1, row + r1, 0f);
                            }
                            Gemm.gemm(false, false, m, headDim, r1, ds, r0 * t, t, kv, kOff, rowStride,
                                    dq, qOff + r0 * qDim, qDim, true);                             // dq += dS·K
                            Gemm.gemm(true, false, r1, headDim, m, ds, r0 * t, t, q, qOff + r0 * qDim, qDim,
                                    dkv, kOff, rowStride, true);                                   // dk += dSᵀ·q
                            Gemm.gemm(true, false, r1, headDim, m, probs, p + r0 * t, t, dOut, qOff + r0 * qDim, qDim,
                                    dkv, vOff, rowStride, true);                                   // dv += Pᵀ·dOut
                        }
                    }
                }
            }
        });
    }
}
