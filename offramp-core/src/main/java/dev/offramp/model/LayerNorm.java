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
}
