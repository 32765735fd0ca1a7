package dev.offramp.spark;

import java.util.Arrays;
import java.util.Locale;

/** What runs the stage's batches on the executors. */
public enum Engine {
    /** Offramp's own engine: early exit with compaction (or every layer for policy {@code full}). */
    OFFRAMP("offramp"),
    /**
     * ONNX Runtime at full depth on the backbone's published ONNX graph, then the model's last exit: the peer to
     * compare against. Its answers are the model's only when the backbone was not fine-tuned.
     */
    ONNXRUNTIME("onnxruntime");

    public final String optionName;

    Engine(String optionName) {
        this.optionName = optionName;
    }

    public static Engine fromName(String name) {
        String key = name == null ? "" : name.strip().toLowerCase(Locale.ROOT);
        for (Engine e : values()) if (e.optionName.equals(key)) return e;
        throw new IllegalArgumentException("unknown engine '" + name + "'; known: "
                + Arrays.stream(values()).map(e -> e.optionName).toList());
    }
}
