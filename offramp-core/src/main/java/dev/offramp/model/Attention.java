package dev.offramp.model;

import dev.offramp.kernels.Parallel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Multi-head self-attention over a ragged batch: sample b owns token rows [offset[b], offset[b] + length[b])
 * and attends only to its own tokens, so no padding mask is needed and no padded token is ever computed.
 * Attention is the only op that mixes information across tokens.
 */
public final class Attention {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private Attention() {}

    /**
     * ctx (N, H) = softmax(Q·Kᵀ/√d) · V per sample and head.
     *
     * @param qkv     (N, 3H): each row is [q | k | v]; head h uses columns h·d .. h·d+d−1 of each part
     * @param att     if not null, receives the probabilities (for backward): sample b, head h at
     *                attOffset[b] + h·T_b², row-major (T_b, T_b)
     * @param scratch per-slot scratch, each at least d·Tmax + Tmax floats
     */
    public static void forward(float[] ctx, float[] att, int[] attOffset, float[] qkv,
                               int[] offset, int[] length, int batch, int hidden, int heads, float[][] scratch) {
        int d = hidden / heads;
        int pairs = batch * heads;
        int slots = Math.min(scratch.length, Math.max(1, pairs));
        float scale = (float) (1.0 / Math.sqrt(d));
        Parallel.forRange(slots, (s0, s1) -> {
            for (int slot = s0; slot < s1; slot++) {
                float[] tmp = scratch[slot];
                for (int pair = slot; pair < pairs; pair += slots) {
                    int b = pair / heads, h = pair % heads;
                    int a0 = att == null ? -1 : attOffset[b] + h * length[b] * length[b];
                    head(ctx, att, a0, qkv, offset[b], length[b], hidden, h * d, d, scale, tmp);
                }
            }
        });
    }

    private static void head(float[] ctx, float[] att, int a0, float[] qkv, int off, int t, int hidden,
                             int col, int d, float scale, float[] tmp) {
        int w = 3 * hidden;
        // K transposed (d, t) so that a query's scores are d axpys over contiguous keys: no lane reductions
        int kt = 0, sc = d * t;
        for (int j = 0; j < t; j++) {
            int kr = (off + j) * w + hidden + col;
            for (int p = 0; p < d; p++) tmp[kt + p * t + j] = qkv[kr + p];
        }
        float[] scores = att != null ? att : tmp;
        int bound = S.loopBound(t);
        for (int i = 0; i < t; i++) {
            int s0 = att != null ? a0 + i * t : sc;
            int qr = (off + i) * w + col;
            java.util.Arrays.fill(scores, s0, s0 + t, 0f);
            for (int p = 0; p < d; p++) {
                float q = qkv[qr + p] * scale;
                FloatVector qv = FloatVector.broadcast(S, q);
                int kp = kt + p * t, j = 0;
                for (; j < bound; j += S.length()) {
                    FloatVector.fromArray(S, tmp, kp + j).fma(qv, FloatVector.fromArray(S, scores, s0 + j))
                            .intoArray(scores, s0 + j);
                }
                for (; j < t; j++) scores[s0 + j] += q * tmp[kp + j];
            }
            softmaxInPlace(scores, s0, t);
            int cr = (off + i) * hidden + col;
            java.util.Arrays.fill(ctx, cr, cr + d, 0f);
            int dBound = S.loopBound(d);
            for (int j = 0; j < t; j++) {
                float pj = scores[s0 + j];
                int vr = (off + j) * w + 2 * hidden + col;
                int p = 0;
                if (dBound > 0) {
                    FloatVector pv = FloatVector.broadcast(S, pj);
                    for (; p < dBound; p += S.length()) {
                        FloatVector.fromArray(S, qkv, vr + p).fma(pv, FloatVector.fromArray(S, ctx, cr + p))
                                .intoArray(ctx, cr + p);
                    }
                }
                for (; p < d; p++) ctx[cr + p] += pj * qkv[vr + p];
            }
        }
    }

    /** x[off..off+n) = softmax(x[off..off+n)), max-subtracted for stability. */
    static void softmaxInPlace(float[] x, int off, int n) {
        int bound = S.loopBound(n);
        float max = Float.NEGATIVE_INFINITY;
        int i = 0;
        if (bound > 0) {
            FloatVector mv = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
            for (; i < bound; i += S.length()) mv = mv.max(FloatVector.fromArray(S, x, off + i));
            max = mv.reduceLanes(VectorOperators.MAX);
        }
        for (; i < n; i++) max = Math.max(max, x[off + i]);
        FloatVector maxV = FloatVector.broadcast(S, max);
        FloatVector sumV = FloatVector.zero(S);
        i = 0;
        for (; i < bound; i += S.length()) {
            FloatVector e = FloatVector.fromArray(S, x, off + i).sub(maxV).lanewise(VectorOperators.EXP);
            e.intoArray(x, off + i);
            sumV = sumV.add(e);
        }
        float sum = sumV.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) { float e = (float) Math.exp(x[off + i] - max); x[off + i] = e; sum += e; }
        float inv = 1f / sum;
        FloatVector invV = FloatVector.broadcast(S, inv);
        i = 0;
        for (; i < bound; i += S.length()) FloatVector.fromArray(S, x, off + i).mul(invV).intoArray(x, off + i);
        for (; i < n; i++) x[off + i] *= inv;
    }
}
