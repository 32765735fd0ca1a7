package dev.offramp.training;

import dev.offramp.model.ParameterSet;

/** Global-norm gradient clipping (torch.nn.utils.clip_grad_norm_): one scale for all gradients together. */
public final class GradientClipping {
    private GradientClipping() {}

    /**
     * Scales every gradient by maxNorm / (norm + 1e-6) when the global norm exceeds maxNorm.
     *
     * @return the global norm before clipping (worth logging: spikes show instability)
     */
    public static double clipGlobalNorm(ParameterSet params, double maxNorm) {
        if (!(maxNorm > 0)) throw new IllegalArgumentException("maxNorm must be positive, got " + maxNorm);
        double norm = params.gradientNorm();
        if (!Double.isFinite(norm)) {
            throw new IllegalStateException("gradient norm is " + norm + ": a loss or gradient overflowed");
        }
        if (norm > maxNorm) {
            float s = (float) (maxNorm / (norm + 1e-6));
            for (ParameterSet.Entry e : params.entries()) {
                float[] g = e.grad();
                for (int i = 0; i < g.length; i++) g[i] *= s;
            }
        }
        return norm;
    }
}
