package dev.offramp.model;

import dev.offramp.kernels.Gemm;
import dev.offramp.kernels.Parallel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Multi-head self-attention over a ragged batch: sample b owns token rows [offset[b], offset[b] + length[b])
 * and attends only to its own tokens, so no padding mask is needed and no padded token is ever computed.
 * Attention is the only op that mixes information across tokens.
 */
public final class Attention {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> SI = S.withLanes(int.class);

    private Attention() {}

    /** Queries computed together: their scores and context rows are accumulated in registers side by side. */
    static final int QUERY_BLOCK = 4;

    /**
     * Floats of per-slot scratch {@link #forward} needs for samples of up to {@code tmax} tokens: Kᵀ (d, Tp) and
     * the scores of one query block (4, Tp), Tp being tmax rounded up to whole vectors; then the head's q, k and
     * v rows, (tmax, d) each.
     */
    public static int scratchFloats(int hidden, int heads, int tmax) {
        int d = hidden / heads, t = Math.max(1, tmax);
        return (d + QUERY_BLOCK) * paddedKeys(t) + 3 * t * d;
    }

    private static int paddedKeys(int t) {
        return (t + S.length() - 1) / S.length() * S.length();
    }

    /**
     * ctx (N, H) = softmax(Q·Kᵀ/√d) · V per sample and head.
     *
     * @param qkv     (N, 3H): each row is [q | k | v]; head h uses columns h·d .. h·d+d−1 of each part
     * @param att     if not null, receives the probabilities: sample b, head h at attOffset[b] + h·T_b²,
     *                row-major (T_b, T_b)
     * @param scratch per-slot scratch, each at least {@link #scratchFloats} floats
     */
    public static void forward(float[] ctx, float[] att, int[] attOffset, float[] qkv,
                               int[] offset, int[] length, int batch, int hidden, int heads, float[][] scratch) {
        int d = hidden / heads;
        int pairs = batch * heads;
        int slots = Math.min(scratch.length, Math.max(1, pairs));
        int tmax = 0;
        for (int b = 0; b < batch; b++) tmax = Math.max(tmax, length[b]);
        int need = scratchFloats(hidden, heads, tmax);
        for (int s = 0; s < slots; s++) {
            if (scratch[s].length < need) {
                throw new IllegalArgumentException("attention scratch slot " + s + " holds " + scratch[s].length
                        + " floats; samples of " + tmax + " tokens need " + need + " (Attention.scratchFloats)");
            }
        }
        float scale = (float) (1.0 / Math.sqrt(d));
        forEachHead(batch, heads, scratch, (b, h, tmp) -> {
            int a0 = att == null ? -1 : attOffset[b] + h * length[b] * length[b];
            head(ctx, att, a0, qkv, offset[b], length[b], hidden, h * d, d, scale, tmp);
        });
    }

    /** Work on one (sample b, head h) with a scratch slot no other concurrent call uses. */
    @FunctionalInterface
    interface HeadTask {
        void run(int b, int h, float[] scratch);
    }

    /**
     * Runs task for every (sample, head) pair, split over the threads by scratch slot: slot s takes pairs
     * s, s + slots, ... (interleaved, so samples of different lengths spread evenly).
     */
    static void forEachHead(int batch, int heads, float[][] scratch, HeadTask task) {
        int pairs = batch * heads;
        int slots = Math.min(scratch.length, Math.max(1, pairs));
        Parallel.forRange(slots, (s0, s1) -> {
            for (int slot = s0; slot < s1; slot++) {
                for (int pair = slot; pair < pairs; pair += slots) task.run(pair / heads, pair % heads, scratch[slot]);
            }
        });
    }

    /**
     * One (sample, head): t tokens from row off, columns col.. of each part. Queries go in blocks of 4; a block
     * past the last query repeats the last one (same values written twice), so there is no query tail code.
     * Scratch: Kᵀ (d, tp) at 0, the block's unnormalised probabilities (4, tp), then q·scale, k, v (t, d) each.
     */
    private static void head(float[] ctx, float[] att, int a0, float[] qkv, int off, int t, int hidden,
                             int col, int d, float scale, float[] tmp) {
        int w = 3 * hidden, L = S.length();
        int tp = paddedKeys(t);
        int sc = d * tp, qs = sc + QUERY_BLOCK * tp, ks = qs + t * d, vs = ks + t * d;
        // q·scale, k and v copied in first, whole vectors in a tight loop: the rows are 3H floats apart (a page
        // each), the hardware prefetcher does not follow them, and their cache misses only overlap when the loads
        // are issued together rather than one by one from inside the FMA loops
        int dBound = S.loopBound(d);
        for (int j = 0, r = off * w + col, o = 0; j < t; j++, r += w, o += d) {
            int c = 0;
            for (; c < dBound; c += L) {
                FloatVector.fromArray(S, qkv, r + c).mul(scale).intoArray(tmp, qs + o + c);
                FloatVector.fromArray(S, qkv, r + hidden + c).intoArray(tmp, ks + o + c);
                FloatVector.fromArray(S, qkv, r + 2 * hidden + c).intoArray(tmp, vs + o + c);
            }
            for (; c < d; c++) {
                tmp[qs + o + c] = qkv[r + c] * scale;
                tmp[ks + o + c] = qkv[r + hidden + c];
                tmp[vs + o + c] = qkv[r + 2 * hidden + c];
            }
        }
        // K transposed (from the cached copy) so that a block of scores is whole-vector FMAs over contiguous
        // keys; padded keys are 0. (Gathers of 16 keys at a time measured no faster here.)
        for (int p = 0; p < d; p++) {
            for (int j = 0; j < t; j++) tmp[p * tp + j] = tmp[ks + j * d + p];
            for (int j = t; j < tp; j++) tmp[p * tp + j] = 0f;
        }
        for (int i0 = 0; i0 < t; i0 += QUERY_BLOCK) {
            int i1 = Math.min(i0 + 1, t - 1), i2 = Math.min(i0 + 2, t - 1), i3 = Math.min(i0 + 3, t - 1);
            blockScores(tmp, sc, tmp, qs + i0 * d, qs + i1 * d, qs + i2 * d, qs + i3 * d, tmp, 0, tp, d);
            // exp(s − max) in place; the 1/sum is applied when the context rows are stored
            float inv0 = 1f / expShifted(tmp, sc, t), inv1 = 1f / expShifted(tmp, sc + tp, t),
                    inv2 = 1f / expShifted(tmp, sc + 2 * tp, t), inv3 = 1f / expShifted(tmp, sc + 3 * tp, t);
            if (att != null) {
                for (int r = 0; r < QUERY_BLOCK && i0 + r < t; r++) {
                    float inv = r == 0 ? inv0 : r == 1 ? inv1 : r == 2 ? inv2 : inv3;
                    for (int j = 0; j < t; j++) att[a0 + (i0 + r) * t + j] = tmp[sc + r * tp + j] * inv;
                }
            }
            blockContext(ctx, (off + i0) * hidden + col, (off + i1) * hidden + col, (off + i2) * hidden + col,
                    (off + i3) * hidden + col, inv0, inv1, inv2, inv3, tmp, sc, tp, tmp, vs, d, t, d);
        }
    }

    /**
     * Scores of 4 queries (already scaled by 1/√d) against all tp keys: s (4, tp) at s0 = q_r · Kᵀ. Per block of 4 key vectors,
     * 16 accumulators over p: each Kᵀ vector is loaded once per p and FMA'd with the 4 broadcast query values.
     */
    private static void blockScores(float[] s, int s0, float[] q, int q0, int q1, int q2, int q3,
                                    float[] kt, int k0, int tp, int d) {
        int L = S.length();
        int s1 = s0 + tp, s2 = s1 + tp, s3 = s2 + tp;
        int j = 0;
        for (; j + 4 * L <= tp; j += 4 * L) {
            FloatVector a00 = FloatVector.zero(S), a01 = a00, a02 = a00, a03 = a00;
            FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
            FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00;
            FloatVector a30 = a00, a31 = a00, a32 = a00, a33 = a00;
            for (int p = 0, kp = k0 + j; p < d; p++, kp += tp) {
                FloatVector c0 = FloatVector.fromArray(S, kt, kp), c1 = FloatVector.fromArray(S, kt, kp + L);
                FloatVector c2 = FloatVector.fromArray(S, kt, kp + 2 * L), c3 = FloatVector.fromArray(S, kt, kp + 3 * L);
                FloatVector b = FloatVector.broadcast(S, q[q0 + p]);
                a00 = c0.fma(b, a00); a01 = c1.fma(b, a01); a02 = c2.fma(b, a02); a03 = c3.fma(b, a03);
                b = FloatVector.broadcast(S, q[q1 + p]);
                a10 = c0.fma(b, a10); a11 = c1.fma(b, a11); a12 = c2.fma(b, a12); a13 = c3.fma(b, a13);
                b = FloatVector.broadcast(S, q[q2 + p]);
                a20 = c0.fma(b, a20); a21 = c1.fma(b, a21); a22 = c2.fma(b, a22); a23 = c3.fma(b, a23);
                b = FloatVector.broadcast(S, q[q3 + p]);
                a30 = c0.fma(b, a30); a31 = c1.fma(b, a31); a32 = c2.fma(b, a32); a33 = c3.fma(b, a33);
            }
            a00.intoArray(s, s0 + j); a01.intoArray(s, s0 + j + L); a02.intoArray(s, s0 + j + 2 * L); a03.intoArray(s, s0 + j + 3 * L);
            a10.intoArray(s, s1 + j); a11.intoArray(s, s1 + j + L); a12.intoArray(s, s1 + j + 2 * L); a13.intoArray(s, s1 + j + 3 * L);
            a20.intoArray(s, s2 + j); a21.intoArray(s, s2 + j + L); a22.intoArray(s, s2 + j + 2 * L); a23.intoArray(s, s2 + j + 3 * L);
            a30.intoArray(s, s3 + j); a31.intoArray(s, s3 + j + L); a32.intoArray(s, s3 + j + 2 * L); a33.intoArray(s, s3 + j + 3 * L);
        }
        // remaining key vectors (tp is whole vectors): 4 accumulators
        for (; j < tp; j += L) {
            FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
            for (int p = 0, kp = k0 + j; p < d; p++, kp += tp) {
                FloatVector c = FloatVector.fromArray(S, kt, kp);
                a0 = c.fma(FloatVector.broadcast(S, q[q0 + p]), a0);
                a1 = c.fma(FloatVector.broadcast(S, q[q1 + p]), a1);
                a2 = c.fma(FloatVector.broadcast(S, q[q2 + p]), a2);
                a3 = c.fma(FloatVector.broadcast(S, q[q3 + p]), a3);
            }
            a0.intoArray(s, s0 + j); a1.intoArray(s, s1 + j); a2.intoArray(s, s2 + j); a3.intoArray(s, s3 + j);
        }
    }

    /**
     * Context rows of 4 queries: ctx_r = inv_r · Σ_j e_rj · v_j, e (4, tp) at e0 unnormalised. Per chunk of 2
     * vectors of columns, 8 accumulators over the keys: each V row chunk is loaded once and FMA'd with the 4
     * broadcast weights; then a 1-vector chunk and scalar columns for head dims that are not whole vectors.
     */
    private static void blockContext(float[] ctx, int c0, int c1, int c2, int c3, float inv0, float inv1,
                                     float inv2, float inv3, float[] e, int e0, int tp, float[] v, int v0, int w,
                                     int t, int d) {
        int L = S.length();
        int e1 = e0 + tp, e2 = e1 + tp, e3 = e2 + tp;
        int c = 0;
        for (; c + 2 * L <= d; c += 2 * L) {
            FloatVector a00 = FloatVector.zero(S), a01 = a00, a10 = a00, a11 = a00;
            FloatVector a20 = a00, a21 = a00, a30 = a00, a31 = a00;
            for (int j = 0, vr = v0 + c; j < t; j++, vr += w) {
                FloatVector x0 = FloatVector.fromArray(S, v, vr), x1 = FloatVector.fromArray(S, v, vr + L);
                FloatVector b = FloatVector.broadcast(S, e[e0 + j]);
                a00 = x0.fma(b, a00); a01 = x1.fma(b, a01);
                b = FloatVector.broadcast(S, e[e1 + j]);
                a10 = x0.fma(b, a10); a11 = x1.fma(b, a11);
                b = FloatVector.broadcast(S, e[e2 + j]);
                a20 = x0.fma(b, a20); a21 = x1.fma(b, a21);
                b = FloatVector.broadcast(S, e[e3 + j]);
                a30 = x0.fma(b, a30); a31 = x1.fma(b, a31);
            }
            a00.mul(inv0).intoArray(ctx, c0 + c); a01.mul(inv0).intoArray(ctx, c0 + c + L);
            a10.mul(inv1).intoArray(ctx, c1 + c); a11.mul(inv1).intoArray(ctx, c1 + c + L);
            a20.mul(inv2).intoArray(ctx, c2 + c); a21.mul(inv2).intoArray(ctx, c2 + c + L);
            a30.mul(inv3).intoArray(ctx, c3 + c); a31.mul(inv3).intoArray(ctx, c3 + c + L);
        }
        if (c + L <= d) {
            FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
            for (int j = 0, vr = v0 + c; j < t; j++, vr += w) {
                FloatVector x = FloatVector.fromArray(S, v, vr);
                a0 = x.fma(FloatVector.broadcast(S, e[e0 + j]), a0);
                a1 = x.fma(FloatVector.broadcast(S, e[e1 + j]), a1);
                a2 = x.fma(FloatVector.broadcast(S, e[e2 + j]), a2);
                a3 = x.fma(FloatVector.broadcast(S, e[e3 + j]), a3);
            }
            a0.mul(inv0).intoArray(ctx, c0 + c); a1.mul(inv1).intoArray(ctx, c1 + c);
            a2.mul(inv2).intoArray(ctx, c2 + c); a3.mul(inv3).intoArray(ctx, c3 + c);
            c += L;
        }
        for (; c < d; c++) {
            float a0 = 0f, a1 = 0f, a2 = 0f, a3 = 0f;
            for (int j = 0, vr = v0 + c; j < t; j++, vr += w) {
                float x = v[vr];
                a0 += e[e0 + j] * x; a1 += e[e1 + j] * x; a2 += e[e2 + j] * x; a3 += e[e3 + j] * x;
            }
            ctx[c0 + c] = a0 * inv0; ctx[c1 + c] = a1 * inv1; ctx[c2 + c] = a2 * inv2; ctx[c3 + c] = a3 * inv3;
        }
    }

    /** x[off..off+n) = exp(x − max) in place; returns the sum (softmax = x / sum). */
    static float expShifted(float[] x, int off, int n) {
        int bound = S.loopBound(n);
        float max = Float.NEGATIVE_INFINITY;
        int i = 0;
        if (bound > 0) {
            // max on order-preserving int keys of the floats (negative floats' magnitude bits flipped; the map is
            // its own inverse): one vpmaxsd per vector and a cheap int reduction, where a float max must honour
            // Java's NaN and −0 rules at several instructions a step
            IntVector mv = IntVector.broadcast(SI, Integer.MIN_VALUE);
            for (i = 0; i < bound; i += S.length()) {
                IntVector bits = FloatVector.fromArray(S, x, off + i).reinterpretAsInts();
                mv = mv.max(bits.lanewise(VectorOperators.XOR, bits.lanewise(VectorOperators.ASHR, 31).and(0x7FFFFFFF)));
            }
            int k = mv.reduceLanes(VectorOperators.MAX);
            max = Float.intBitsToFloat(k ^ ((k >> 31) & 0x7FFFFFFF));
        }
        for (; i < n; i++) max = Math.max(max, x[off + i]);
        FloatVector maxV = FloatVector.broadcast(S, max);
        FloatVector sumV = FloatVector.zero(S);
        for (i = 0; i < bound; i += S.length()) {
            FloatVector e = FloatVector.fromArray(S, x, off + i).sub(maxV).lanewise(VectorOperators.EXP);
            e.intoArray(x, off + i);
            sumV = sumV.add(e);
        }
        float sum = sumV.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) { float e = (float) Math.exp(x[off + i] - max); x[off + i] = e; sum += e; }
        return sum;
    }

    /**
     * Scalar twin of {@link #forward} (no threads, no scratch): the plain loops the vector path must match.
     * Allocates; for tests and benchmarks.
     */
    public static void forwardScalar(float[] ctx, float[] qkv, int[] offset, int[] length, int batch, int hidden,
                                     int heads) {
        int d = hidden / heads, w = 3 * hidden;
        float scale = (float) (1.0 / Math.sqrt(d));
        for (int b = 0; b < batch; b++) {
            int off = offset[b], t = length[b];
            float[] p = new float[t];
            for (int h = 0; h < heads; h++) {
                int col = h * d;
                for (int i = 0; i < t; i++) {
                    int qr = (off + i) * w + col;
                    float max = Float.NEGATIVE_INFINITY;
                    for (int j = 0; j < t; j++) {
                        int kr = (off + j) * w + hidden + col;
                        float s = 0f;
                        for (int k = 0; k < d; k++) s += qkv[qr + k] * qkv[kr + k];
                        p[j] = s * scale;
                        max = Math.max(max, p[j]);
                    }
                    float sum = 0f;
                    for (int j = 0; j < t; j++) { p[j] = (float) Math.exp(p[j] - max); sum += p[j]; }
                    int cr = (off + i) * hidden + col;
                    for (int k = 0; k < d; k++) {
                        float acc = 0f;
                        for (int j = 0; j < t; j++) acc += p[j] * qkv[(off + j) * w + 2 * hidden + col + k];
                        ctx[cr + k] = acc / sum;
                    }
                }
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
        float scale = (float) (1.0 / Math.sqrt(d));
        forEachHead(batch, heads, scratch, (b, h, tmp) -> {
            int t = length[b];
            headForwardTraining(ctx, att, attOffset[b] + h * t * t, qkv, offset[b], t, hidden, h * d, d, scale,
                    dropout, dropoutKey, tmp);
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
        float scale = (float) (1.0 / Math.sqrt(d));
        forEachHead(batch, heads, scratch, (b, h, tmp) -> {
            int t = length[b];
            headBackward(dQkv, dCtx, qkv, att, attOffset[b] + h * t * t, offset[b], t, hidden, h * d, d, scale,
                    dropout, dropoutKey, tmp);
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
        float inv = 1f / expShifted(x, off, n);
        int bound = S.loopBound(n), i = 0;
        FloatVector invV = FloatVector.broadcast(S, inv);
        for (; i < bound; i += S.length()) FloatVector.fromArray(S, x, off + i).mul(invV).intoArray(x, off + i);
        for (; i < n; i++) x[off + i] *= inv;
    }
}
