package dev.offramp.model;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * LayerNorm over the last dimension: y = (x − mean) / sqrt(var + eps) · gamma + beta.
 * Forward keeps mean and 1/std per row so that backward need not recompute them.
 */
public final class LayerNorm {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private LayerNorm() {}

    /**
     * out[r] = LN(in[r]) for rows [r0, r1), each of width c.
     * mean/rstd (may be null at inference) receive per-row statistics, indexed by row.
     * in and out may be the same array (in place).
     */
    public static void forward(float[] out, float[] mean, float[] rstd, float[] in, float[] gamma, float[] beta,
                               int r0, int r1, int c, float eps) {
        int bound = S.loopBound(c);
        for (int r = r0; r < r1; r++) {
            int o = r * c;
            // two passes (mean, then centred variance) for the same numerics as the reference runtimes
            FloatVector acc = FloatVector.zero(S);
            int i = 0;
            for (; i < bound; i += S.length()) acc = acc.add(FloatVector.fromArray(S, in, o + i));
            float sum = acc.reduceLanes(VectorOperators.ADD);
            for (; i < c; i++) sum += in[o + i];
            float m = sum / c;
            FloatVector mv = FloatVector.broadcast(S, m);
            acc = FloatVector.zero(S);
            i = 0;
            for (; i < bound; i += S.length()) {
                FloatVector d = FloatVector.fromArray(S, in, o + i).sub(mv);
                acc = d.fma(d, acc);
            }
            float var = acc.reduceLanes(VectorOperators.ADD);
            for (; i < c; i++) { float d = in[o + i] - m; var += d * d; }
            var /= c;
            float rs = (float) (1.0 / Math.sqrt(var + eps));
            if (mean != null) { mean[r] = m; rstd[r] = rs; }
            FloatVector rv = FloatVector.broadcast(S, rs);
            i = 0;
            for (; i < bound; i += S.length()) {
                FloatVector x = FloatVector.fromArray(S, in, o + i).sub(mv).mul(rv);
                x.fma(FloatVector.fromArray(S, gamma, i), FloatVector.fromArray(S, beta, i)).intoArray(out, o + i);
            }
            for (; i < c; i++) out[o + i] = (in[o + i] - m) * rs * gamma[i] + beta[i];
        }
    }

    /**
     * Backward of {@link #forward} for rows [r0, r1): dIn += ∂loss/∂in, and, unless null, dGamma/dBeta +=
     * their gradients. in/mean/rstd are what forward saw and stored. dGamma/dBeta sum over rows, so a caller
     * that splits rows over threads passes null here and uses {@link #backwardGammaBeta} split by columns.
     */
    public static void backward(float[] dIn, float[] dGamma, float[] dBeta, float[] dOut, float[] in,
                                float[] mean, float[] rstd, float[] gamma, int r0, int r1, int c) {
        int bound = S.loopBound(c);
        float invC = 1f / c;
        for (int r = r0; r < r1; r++) {
            int o = r * c;
            float m = mean[r], rs = rstd[r];
            FloatVector mv = FloatVector.broadcast(S, m), rv = FloatVector.broadcast(S, rs);
            // the two row means that couple every input of the row: mean(g·dy) and mean(g·dy·x̂)
            FloatVector accA = FloatVector.zero(S), accB = FloatVector.zero(S);
            int i = 0;
            for (; i < bound; i += S.length()) {
                FloatVector xhat = FloatVector.fromArray(S, in, o + i).sub(mv).mul(rv);
                FloatVector gdy = FloatVector.fromArray(S, gamma, i).mul(FloatVector.fromArray(S, dOut, o + i));
                accA = accA.add(gdy);
                accB = gdy.fma(xhat, accB);
            }
            float sumA = accA.reduceLanes(VectorOperators.ADD), sumB = accB.reduceLanes(VectorOperators.ADD);
            for (; i < c; i++) {
                float xhat = (in[o + i] - m) * rs, gdy = gamma[i] * dOut[o + i];
                sumA += gdy;
                sumB += gdy * xhat;
            }
            float meanA = sumA * invC, meanB = sumB * invC;
            FloatVector av = FloatVector.broadcast(S, meanA), bv = FloatVector.broadcast(S, meanB);
            i = 0;
            for (; i < bound; i += S.length()) {
                FloatVector xhat = FloatVector.fromArray(S, in, o + i).sub(mv).mul(rv);
                FloatVector gdy = FloatVector.fromArray(S, gamma, i).mul(FloatVector.fromArray(S, dOut, o + i));
                gdy.sub(av).sub(xhat.mul(bv)).fma(rv, FloatVector.fromArray(S, dIn, o + i)).intoArray(dIn, o + i);
            }
            for (; i < c; i++) {
                float xhat = (in[o + i] - m) * rs, gdy = gamma[i] * dOut[o + i];
                dIn[o + i] += (gdy - meanA - xhat * meanB) * rs;
            }
            if (dGamma != null) backwardGammaBeta(dGamma, dBeta, dOut, in, mean, rstd, r, r + 1, 0, c, c);
        }
    }

    /** dGamma[j] += Σ_r dOut[r, j]·x̂[r, j] and dBeta[j] += Σ_r dOut[r, j] over rows [r0, r1), columns [c0, c1). */
    public static void backwardGammaBeta(float[] dGamma, float[] dBeta, float[] dOut, float[] in, float[] mean,
                                         float[] rstd, int r0, int r1, int c0, int c1, int c) {
        int bound = c0 + S.loopBound(c1 - c0);
        for (int r = r0; r < r1; r++) {
            int o = r * c;
            float m = mean[r], rs = rstd[r];
            FloatVector mv = FloatVector.broadcast(S, m), rv = FloatVector.broadcast(S, rs);
            int i = c0;
            for (; i < bound; i += S.length()) {
                FloatVector dy = FloatVector.fromArray(S, dOut, o + i);
                FloatVector xhat = FloatVector.fromArray(S, in, o + i).sub(mv).mul(rv);
                dy.add(FloatVector.fromArray(S, dBeta, i)).intoArray(dBeta, i);
                dy.fma(xhat, FloatVector.fromArray(S, dGamma, i)).intoArray(dGamma, i);
            }
            for (; i < c1; i++) {
                float dy = dOut[o + i];
                dBeta[i] += dy;
                dGamma[i] += dy * (in[o + i] - m) * rs;
            }
        }
    }
}
