package dev.offramp.training;

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
        return mix(mix(seed ^ 0x6A09E667F3BCC909L) + step * 0x9E3779B97F4A7C15L + site);
    }

    /** The multiplier of element {@code index}: 0 (dropped) or 1/(1 − p). p must be in [0, 1). */
    public static float scale(long key, long index, float p) {
        // top 24 bits of the hash: a uniform integer in [0, 2^24), compared with p·2^24
        long u = mix(key + index * 0x9E3779B97F4A7C15L) >>> 40;
        return u < (long) (p * (1 << 24)) ? 0f : 1f / (1f - p);
    }

    /** out[i] = in[i]·scale(key, i, p) for i in [from, to); out may be in. Indices are the mask's indices. */
    public static void forward(float[] out, float[] in, int from, int to, float p, long key) {
        long threshold = (long) (p * (1 << 24));
        float keep = 1f / (1f - p);
        for (int i = from; i < to; i++) {
            long u = mix(key + i * 0x9E3779B97F4A7C15L) >>> 40;
            out[i] = u < threshold ? 0f : in[i] * keep;
        }
    }

    /** Backward of {@link #forward}: dIn[i] += dOut[i]·scale(key, i, p) for i in [from, to). */
    public static void backward(float[] dIn, float[] dOut, int from, int to, float p, long key) {
        long threshold = (long) (p * (1 << 24));
        float keep = 1f / (1f - p);
        for (int i = from; i < to; i++) {
            long u = mix(key + i * 0x9E3779B97F4A7C15L) >>> 40;
            if (u >= threshold) dIn[i] += dOut[i] * keep;
        }
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
