package dev.offramp.decoder;

import dev.offramp.kernels.VectorOps;

/**
 * The gate of Llama's feed-forward: h = silu(x·W_gate) ⊙ (x·W_up), computed from one fused projection whose rows
 * are [gate (I) | up (I)], so the MLP is down(h) with one GEMM in and one out.
 */
public final class SwiGlu {
    private SwiGlu() {}

    /** out (rows, I) = silu(gateUp[:, :I]) ⊙ gateUp[:, I:] for rows [r0, r1); gateUp is (rows, 2I). */
    public static void forward(float[] out, float[] gateUp, int r0, int r1, int i) {
        for (int r = r0; r < r1; r++) VectorOps.swiglu(gateUp, r * 2 * i, gateUp, r * 2 * i + i, out, r * i, i);
    }

    /**
     * Backward of {@link #forward} for rows [r0, r1): dGateUp (rows, 2I) = [∂loss/∂gate | ∂loss/∂up] from dOut
     * (rows, I); overwrites.
     */
    public static void backward(float[] dGateUp, float[] dOut, float[] gateUp, int r0, int r1, int i) {
        for (int r = r0; r < r1; r++) {
            int g = r * 2 * i;
            VectorOps.swigluBackward(gateUp, g, gateUp, g + i, dOut, r * i, dGateUp, g, dGateUp, g + i, i);
        }
    }
}
