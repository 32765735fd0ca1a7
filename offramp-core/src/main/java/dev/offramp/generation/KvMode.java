package dev.offramp.generation;

import java.util.Locale;

/** How the layers a token skipped get its keys and values, which the later tokens attend to. */
public enum KvMode {
    /** State propagation: each skipped layer projects the exit hidden state through its own input norm (default). */
    PROPAGATE("propagate"),
    /** State propagation without the skipped layer's input norm, as the CALM / ConsistentEE reference code does. */
    PROPAGATE_WITHOUT_NORM("propagate-no-norm"),
    /** The remaining layers run after all: exact KV, the token is still the exit layer's (no saving in compute). */
    EXACT("exact");

    private final String id;

    KvMode(String id) {
        this.id = id;
    }

    public String id() {
        return id;
    }

    public static KvMode fromId(String id) {
        for (KvMode m : values()) if (m.id.equals(id.toLowerCase(Locale.ROOT))) return m;
        throw new IllegalArgumentException("unknown KV mode '" + id + "' (available: propagate, propagate-no-norm, exact)");
    }
}
