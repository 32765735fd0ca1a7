package dev.offramp.model;

/**
 * Inverted dropout (BERT's): in training each element is kept with probability 1 − p and scaled by 1/(1 − p),
 * so inference needs no rescaling.
 *
 * <p>The mask is a pure function of (key, index): a counter-based hash instead of a sequential generator. So
 * threads splitting an array in any way draw the same mask, a seed reproduces a run exactly, and backward
 * regenerates the mask instead of storing it. {@link #key} derives the key of one dropout site in one step.
 */
public final class Dropout {
    private Dropout() {}

    /** The key of one dropout site (say, layer 3's attention probabilities) in one training step. */
    public static long key(long seed, long step, int site) {
        return mix(mix(seed ^ 0x6A09E667F3BCC909L) + step * GOLDEN + site);
    }

    /** The multiplier of element {@code index}: 0 (dropped) or 1/(1 − p). p must be in [0, 1). */
    public static float scale(long key, long index, float p) {
        return uniform16(mix(key + (index >>> 2) * GOLDEN), index) < threshold(p) ? 0f : 1f / (1f - p);
    }

    /** out[i] = in[i]·scale(key, i, p) for i in [from, to); out may be in. Indices are the mask's indices. */
    public static void forward(float[] out, float[] in, int from, int to, float p, long key) {
        apply(out, from, in, from, to - from, from, p, key);
    }

    /** Backward of {@link #forward}: dIn[i] += dOut[i]·scale(key, i, p) for i in [from, to). */
    public static void backward(float[] dIn, float[] dOut, int from, int to, float p, long key) {
        long threshold = threshold(p);
        float keep = 1f / (1f - p);
        long h = 0;
        for (int i = from; i < to; i++) {
            if (i == from || (i & 3) == 0) h = mix(key + (long) (i >>> 2) * GOLDEN);
            if (uniform16(h, i) >= threshold) dIn[i] += dOut[i] * keep;
        }
    }

    /**
     * out[outOff + i] = in[inOff + i]·scale(key, mask0 + i, p) for i < n: the general form, for arrays whose
     * index is not the mask's (a head's probabilities copied to scratch). out may be in.
     */
    public static void apply(float[] out, int outOff, float[] in, int inOff, int n, long mask0, float p, long key) {
        long threshold = threshold(p);
        float keep = 1f / (1f - p);
        long h = 0;
        for (int i = 0; i < n; i++) {
            long index = mask0 + i;
            // one 64-bit hash gives the 16-bit uniforms of four consecutive indices
            if (i == 0 || (index & 3) == 0) h = mix(key + (index >>> 2) * GOLDEN);
            out[outOff + i] = uniform16(h, index) < threshold ? 0f : in[inOff + i] * keep;
        }
    }

    private static final long GOLDEN = 0x9E3779B97F4A7C15L;

    /** Drop when the 16-bit uniform is below p·2^16 (p resolved to 1/65536). */
    private static long threshold(float p) {
        return (long) (p * 65536f);
    }

    private static long uniform16(long hash, long index) {
        return (hash >>> ((index & 3) << 4)) & 0xFFFF;
    }

    /** Checks a dropout probability. */
    public static float checkProbability(String what, float p) {
        if (!(p >= 0f && p < 1f)) throw new IllegalArgumentException(what + " must be in [0, 1), got " + p);
        return p;
    }

    /** SplitMix64's finaliser: a bijective 64-bit mix with full avalanche. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
