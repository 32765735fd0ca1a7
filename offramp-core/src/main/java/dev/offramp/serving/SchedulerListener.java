package dev.offramp.serving;

/** What a scheduler reports as it works, for metrics. Called on the scheduler's thread: must be quick. */
public interface SchedulerListener {
    SchedulerListener NONE = new SchedulerListener() {};

    /** One step ran {@code layer} (1-based; 0 = a whole full-depth batch) on {@code samples} inputs, {@code tokens} tokens. */
    default void step(int layer, int samples, int tokens) {}

    /** An input was answered at {@code exitLayer} of {@code layers}. */
    default void answered(int exitLayer, int layers) {}

    /** An input passed its deadline and was dropped. */
    default void expired() {}
}
