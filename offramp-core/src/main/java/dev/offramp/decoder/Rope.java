package dev.offramp.decoder;

import dev.offramp.kernels.VectorOps;
import dev.offramp.weights.DecoderConfig;

/**
 * Rotary position embeddings in the layout of Hugging Face Llama checkpoints ("rotate half"): within each head of
 * HS values, dimension i and i + HS/2 form a pair that turns by angle p·θ_i at position p, with
 * θ_i = rope_theta^(−2i/HS), optionally rescaled (rope_scaling). Queries and keys are rotated, values are not, so
 * a query-key product depends only on the distance between the two positions.
 */
public final class Rope {
    private Rope() {}

    /** θ_i for i < HS/2, after rope_scaling, in double (so long positions keep their angles exact enough). */
    public static double[] inverseFrequencies(DecoderConfig c) {
        int half = c.headDim() / 2;
        double[] inv = new double[half];
        for (int i = 0; i < half; i++) inv[i] = 1.0 / Math.pow(c.ropeTheta(), 2.0 * i / c.headDim());
        DecoderConfig.RopeScaling s = c.ropeScaling();
        if (s == null) return inv;
        if (s.type().equals(DecoderConfig.RopeScaling.LINEAR)) {
            for (int i = 0; i < half; i++) inv[i] /= s.factor();
            return inv;
        }
        // llama3: wavelengths longer than the original context / low_freq_factor are slowed by factor, shorter than
        // original / high_freq_factor kept, and in between blended linearly in (original / wavelength)
        double lowWavelen = s.originalMaxPositions() / s.lowFreqFactor();
        double highWavelen = s.originalMaxPositions() / s.highFreqFactor();
        for (int i = 0; i < half; i++) {
            double wavelen = 2 * Math.PI / inv[i];
            if (wavelen > lowWavelen) {
                inv[i] /= s.factor();
            } else if (wavelen >= highWavelen) {
                double smooth = (s.originalMaxPositions() / wavelen - s.lowFreqFactor())
                        / (s.highFreqFactor() - s.lowFreqFactor());
                inv[i] = (1 - smooth) * inv[i] / s.factor() + smooth * inv[i];
            }
        }
        return inv;
    }

    /** cos/sin (n, HS/2) of positions start .. start+n−1. */
    public static void tables(double[] invFreq, int start, int n, float[] cos, float[] sin) {
        int half = invFreq.length;
        for (int r = 0; r < n; r++) {
            for (int i = 0; i < half; i++) {
                double angle = (double) (start + r) * invFreq[i];
                cos[r * half + i] = (float) Math.cos(angle);
                sin[r * half + i] = (float) Math.sin(angle);
            }
        }
    }

    /**
     * Rotates {@code heads} heads of HS values in each of rows [r0, r1): row r's heads start at
     * {@code off + r·stride}, one after the other, and use row r of the tables.
     */
    public static void forward(float[] x, int off, int stride, int heads, int headDim, float[] cos, float[] sin,
                               int r0, int r1) {
        int half = headDim / 2;
        for (int r = r0; r < r1; r++) {
            for (int h = 0; h < heads; h++) {
                VectorOps.rotateHalf(x, off + r * stride + h * headDim, cos, sin, r * half, half);
            }
        }
    }

    /**
     * Backward of {@link #forward}: a rotation's transpose turns the other way, so the gradient of the rotated
     * values is rotated back by −angle, in place. Pass the sin table negated ({@code negSin}, same layout).
     */
    public static void backward(float[] dx, int off, int stride, int heads, int headDim, float[] cos, float[] negSin,
                                int r0, int r1) {
        forward(dx, off, stride, heads, headDim, cos, negSin, r0, r1);
    }
}
