package dev.offramp.decoder;

import dev.offramp.kernels.VectorOps;

/**
 * RMSNorm over the last dimension: y = x / sqrt(mean(x²) + eps) · w. No mean subtraction and no bias, unlike
 * LayerNorm; Llama normalises the input of each attention and MLP block (pre-norm) and the final hidden state.
 */
public final class RmsNorm {
    private RmsNorm() {}

    /**
     * out[r] = RMSNorm(in[r]) for rows [r0, r1) of width c. rstd (may be null at inference) receives each row's
     * 1/rms, indexed by row, for a backward pass. in and out may be the same array.
     */
    public static void forward(float[] out, float[] rstd, float[] in, float[] weight, int r0, int r1, int c, float eps) {
        for (int r = r0; r < r1; r++) {
            int o = r * c;
            float meanSquare = VectorOps.sumSqDiff(in, o, c, 0f) / c;
            float rs = (float) (1.0 / Math.sqrt(meanSquare + eps));
            if (rstd != null) rstd[r] = rs;
            VectorOps.scaledProduct(rs, in, o, weight, 0, out, o, c);
        }
    }

    /**
     * Backward of {@link #forward} for rows [r0, r1): dIn += ∂loss/∂in. With g = dOut ⊙ w and s = 1/rms,
     * dIn = s·g − x·s³·(g·x)/c: the second term is the pull of the shared scale on every input of the row.
     * The weight's gradient sums over rows, so it is {@link #backwardWeight}, split by columns.
     *
     * @param rstd    what forward stored
     * @param scratch at least c floats, private to the calling thread
     */
    public static void backward(float[] dIn, float[] dOut, float[] in, float[] rstd, float[] weight, int r0, int r1,
                                int c, float[] scratch) {
        for (int r = r0; r < r1; r++) {
            int o = r * c;
            float rs = rstd[r];
            VectorOps.scaledProduct(1f, dOut, o, weight, 0, scratch, 0, c);
            float gx = VectorOps.dot(scratch, 0, in, o, c);
            VectorOps.axpy(rs, scratch, 0, dIn, o, c);
            VectorOps.axpy(-rs * rs * rs * gx / c, in, o, dIn, o, c);
        }
    }

    /** dWeight[j] += Σ_r dOut[r, j]·in[r, j]·rstd[r] over rows [r0, r1), columns [c0, c1). */
    public static void backwardWeight(float[] dWeight, float[] dOut, float[] in, float[] rstd, int r0, int r1,
                                      int c0, int c1, int c) {
        for (int r = r0; r < r1; r++) {
            VectorOps.addScaledProduct(rstd[r], dOut, r * c + c0, in, r * c + c0, dWeight, c0, c1 - c0);
        }
    }
}
