package dev.offramp.criteria;

/**
 * Shared bookkeeping of every Decider: checks the layer order, remembers the gold label, and makes the last
 * layer exit whatever the rule says. Subclasses implement only the rule ({@link #decide}).
 */
abstract class LayerDecider implements ExitCriterion.Decider {
    final String criterion;
    final int numLayers;   // L
    final int numClasses;  // K (1 = regression)
    float gold = ExitCriterion.NO_GOLD;
    /** The previously observed layer in this sample; 0 before the first observe. */
    int previousLayer;
    private boolean exited;

    LayerDecider(String criterion, int numLayers, int numClasses) {
        if (numLayers < 1) {
            throw new IllegalArgumentException(criterion + ": numLayers must be >= 1, got " + numLayers);
        }
        if (numClasses < 1) {
            throw new IllegalArgumentException(criterion + ": numClasses must be >= 1 (1 = regression), got "
                    + numClasses);
        }
        this.criterion = criterion;
        this.numLayers = numLayers;
        this.numClasses = numClasses;
    }

    @Override
    public final void reset(float gold) {
        this.gold = gold;
        this.previousLayer = 0;
        this.exited = false;
        resetState();
    }

    @Override
    public final boolean observe(int layer, float[] out, int offset, float policyExitProb) {
        if (layer <= previousLayer || layer > numLayers) {
            throw new IllegalArgumentException(criterion + ": layer " + layer + " out of order (previous "
                    + previousLayer + ", layers 1.." + numLayers + ")");
        }
        if (exited) {
            throw new IllegalStateException(criterion + ": observe(" + layer + ") after the sample already exited;"
                    + " call reset() first");
        }
        boolean exit = decide(layer, out, offset, policyExitProb) || layer == numLayers;
        previousLayer = layer;
        exited = exit;
        return exit;
    }

    /** Clears the per-sample state of the rule. */
    abstract void resetState();

    /** The rule at exit {@code layer}; {@link #previousLayer} still names the previous exit (0 if none). */
    abstract boolean decide(int layer, float[] out, int offset, float policyExitProb);

    static void requireClassification(String criterion, int numClasses) {
        if (numClasses < 2) {
            throw new IllegalArgumentException(criterion + " needs a probability vector (K >= 2 classes) and is"
                    + " not defined for a regression exit (K = 1); use patience, beem, static or consistentee");
        }
    }
}
