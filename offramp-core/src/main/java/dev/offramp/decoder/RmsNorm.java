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
}
