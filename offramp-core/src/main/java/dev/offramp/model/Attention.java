package dev.offramp.model;

import dev.offramp.kernels.Gemm;
import dev.offramp.kernels.Parallel;
import dev.offramp.training.Dropout;
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

    /**
     * The training forward: as {@link #forward}, but every product goes through {@link Gemm}, the probabilities
     * P are always stored (before dropout; backward needs them), and with {@code dropout} > 0 the context is
     * dropout(P)·V, the mask being {@link Dropout#scale}(dropoutKey, index into att).
     *
     * @param att     (Σ_b NH·T_b²) receives P: sample b, head h at attOffset[b] + h·T_b², row-major (T_b, T_b)
     * @param scratch per-slot scratch, each at least Tmax² floats when dropout > 0
     */
    public static void forwardTraining(float[] ctx, float[] att, int[] attOffset, float[] qkv, int[] offset,
                                       int[] length, int batch, int hidden, int heads, float dropout,
                                       long dropoutKey, float[][] scratch) {
        int d = hidden / heads;
        int pairs = batch * heads;
        int slots = Math.min(scratch.length, Math.max(1, pairs));
        float scale = (float) (1.0 / Math.sqrt(d));
        Parallel.forRange(slots, (s0, s1) -> {
            for (int slot = s0; slot < s1; slot++) {
                for (int pair = slot; pair < pairs; pair += slots) {
                    int b = pair / heads, h = pair % heads;
                    int t = length[b], a0 = attOffset[b] + h * t * t;
                    headForwardTraining(ctx, att, a0, qkv, offset[b], t, hidden, h * d, d, scale, dropout,
                            dropoutKey, scratch[slot]);
                }
            }
        });
    }

    private static void headForwardTraining(float[] ctx, float[] att, int a0, float[] qkv, int off, int t,
                                            int hidden, int col, int d, float scale, float dropout, long key,
                                            float[] tmp) {
        int w = 3 * hidden, q0 = off * w + col;
        // S = Q·Kᵀ (t, t), scaled, then softmax row by row
        Gemm.gemm(false, true, t, t, d, qkv, q0, w, qkv, q0 + hidden, w, att, a0, t, false);
        for (int i = 0; i < t; i++) {
            int r = a0 + i * t;
            for (int j = 0; j < t; j++) att[r + j] *= scale;
            softmaxInPlace(att, r, t);
        }
        float[] p = att;
        int p0 = a0;
        if (dropout > 0f) {
            Dropout.apply(tmp, 0, att, a0, t * t, a0, dropout, key);
            p = tmp;
            p0 = 0;
        }
        // ctx_h = P·V (t, d)
        Gemm.gemm(false, false, t, d, t, p, p0, t, qkv, q0 + 2 * hidden, w, ctx, off * hidden + col, hidden, false);
    }

    /**
     * Backward of {@link #forwardTraining}: dQkv (N, 3H) += ∂loss/∂qkv given dCtx (N, H). Each (sample, head)
     * owns its rows and columns of dQkv, so the pairs run in parallel without sharing anything.
     *
     * @param scratch per-slot scratch, each at least 2·Tmax² floats
     */
    public static void backward(float[] dQkv, float[] dCtx, float[] qkv, float[] att, int[] attOffset, int[] offset,
                                int[] length, int batch, int hidden, int heads, float dropout, long dropoutKey,
                                float[][] scratch) {
        int d = hidden / heads;
        int pairs = batch * heads;
        int slots = Math.min(scratch.length, Math.max(1, pairs));
        float scale = (float) (1.0 / Math.sqrt(d));
        Parallel.forRange(slots, (s0, s1) -> {
            for (int slot = s0; slot < s1; slot++) {
                for (int pair = slot; pair < pairs; pair += slots) {
                    int b = pair / heads, h = pair % heads;
                    int t = length[b], a0 = attOffset[b] + h * t * t;
                    headBackward(dQkv, dCtx, qkv, att, a0, offset[b], t, hidden, h * d, d, scale, dropout,
                            dropoutKey, scratch[slot]);
                }
            }
        });
    }

    private static void headBackward(float[] dQkv, float[] dCtx, float[] qkv, float[] att, int a0, int off, int t,
                                     int hidden, int col, int d, float scale, float dropout, long key, float[] tmp) {
        int w = 3 * hidden, q0 = off * w + col, c0 = off * hidden + col, tt = t * t;
        // the probabilities the forward multiplied V by: P, or dropout(P) regenerated from the key
        float[] p = att;
        int p0 = a0;
        if (dropout > 0f) {
            Dropout.apply(tmp, 0, att, a0, tt, a0, dropout, key);
            p = tmp;
            p0 = 0;
        }
        int dp = tt; // dP (t, t) lives after the dropped probabilities in tmp
        // ctx = P·V:  dP = dCtx·Vᵀ,  dV += Pᵀ·dCtx
        Gemm.gemm(false, true, t, t, d, dCtx, c0, hidden, qkv, q0 + 2 * hidden, w, tmp, dp, t, false);
        Gemm.gemm(true, false, t, d, t, p, p0, t, dCtx, c0, hidden, dQkv, q0 + 2 * hidden, w, true);
        // through dropout, then softmax: dS_ij = P_ij·(dP_ij − Σ_k dP_ik·P_ik); the 1/√d scale folded in
        for (int i = 0; i < t; i++) {
            int r = a0 + i * t, g = dp + i * t;
            if (dropout > 0f) Dropout.apply(tmp, g, tmp, g, t, r, dropout, key);
            float dot = 0f;
            for (int j = 0; j < t; j++) dot += tmp[g + j] * att[r + j];
            for (int j = 0; j < t; j++) tmp[g + j] = att[r + j] * (tmp[g + j] - dot) * scale;
        }
        // S = Q·Kᵀ:  dQ += dS·K,  dK += dSᵀ·Q
        Gemm.gemm(false, false, t, d, t, tmp, dp, t, qkv, q0 + hidden, w, dQkv, q0, w, true);
        Gemm.gemm(true, false, t, d, t, tmp, dp, t, qkv, q0, w, dQkv, q0 + hidden, w, true);
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
