package dev.offramp.decoder;

/**
 * How the early-exit loss weighs the LM cross-entropy of the exit after each layer (every exit reads its layer's
 * hidden state through the shared final norm and LM head): loss = Σ_l w_l·CE_l / Σ_l w_l.
 */
public enum ExitWeighting {
    /** w_l = l: deeper exits weigh more (CALM, Schuster et al. 2022; the default). */
    LINEAR,
    /** w_l = 1: the mean over exits. */
    MEAN,
    /** Only the last layer: an ordinary language model. */
    LAST;

    /** The normalised weights, index l − 1 for the exit after layer l; they sum to 1. */
    public double[] weights(int layers) {
        if (layers < 1) throw new IllegalArgumentException("need at least one layer, got " + layers);
        double[] w = new double[layers];
        double sum = 0;
        for (int l = 1; l <= layers; l++) {
            w[l - 1] = switch (this) {
                case LINEAR -> l;
                case MEAN -> 1;
                case LAST -> l == layers ? 1 : 0;
            };
            sum += w[l - 1];
        }
        for (int l = 0; l < layers; l++) w[l] /= sum;
        return w;
    }

    /** The name used on the command line and in saved options (lower case). */
    public String id() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    public static ExitWeighting fromId(String id) {
        for (ExitWeighting w : values()) if (w.id().equals(id)) return w;
        throw new IllegalArgumentException("unknown exit weighting '" + id + "' (available: linear, mean, last)");
    }
}
