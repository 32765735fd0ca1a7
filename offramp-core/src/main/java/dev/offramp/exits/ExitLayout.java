package dev.offramp.exits;

/**
 * The shape of the exits, fixed when they are created and saved with the model.
 *
 * @param pooling      how a sample's token rows become one vector ({@link Pooling})
 * @param layerNorm    a LayerNorm (its own gamma/beta per exit) on the pooled vector before the pooler dense;
 *                     (choice) one per exit, because the statistics of the hidden state change with depth
 * @param sharedPooler one pooler dense d×d + tanh for all exits (the papers' layout); false: one per exit
 */
public record ExitLayout(Pooling pooling, boolean layerNorm, boolean sharedPooler) {
    /** The papers' layout: [CLS], no LayerNorm, one shared pooler. */
    public static final ExitLayout DEFAULT = new ExitLayout(Pooling.CLS, false, true);

    public ExitLayout {
        if (pooling == null) throw new IllegalArgumentException("pooling must be set");
    }

    @Override
    public String toString() {
        return pooling.optionName + (layerNorm ? "+ln" : "") + (sharedPooler ? "" : ", pooler per exit");
    }
}
