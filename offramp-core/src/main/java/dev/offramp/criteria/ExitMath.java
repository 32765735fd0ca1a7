package dev.offramp.criteria;

/** The three statistics every criterion reads from an exit's probability vector p = out[off .. off+k). */
public final class ExitMath {
    private ExitMath() {}

    /** argmax p; on equal values the lowest index wins (strict {@code >} while scanning upwards). */
    public static int argmax(float[] p, int off, int k) {
        int best = 0;
        float max = p[off];
        for (int j = 1; j < k; j++) {
            if (p[off + j] > max) {
                max = p[off + j];
                best = j;
            }
        }
        return best;
    }

    /** max p, the confidence c. */
    public static float max(float[] p, int off, int k) {
        float max = p[off];
        for (int j = 1; j < k; j++) {
            max = Math.max(max, p[off + j]);
        }
        return max;
    }

    /** H = -Σ p log p in nats; 0·log 0 counts as 0 (a one-hot vector has entropy 0). */
    public static double entropy(float[] p, int off, int k) {
        double h = 0.0;
        for (int j = 0; j < k; j++) {
            double pj = p[off + j];
            if (pj > 0.0) {
                h -= pj * Math.log(pj);
            }
        }
        return h;
    }
}
