package dev.offramp.spark;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The models this JVM (a Spark executor, or the driver in local mode) has loaded, each once: the first task that
 * needs a model loads it while the executor's other tasks wait for it, and every later task, stage and job of the
 * same executor shares it. A model stays until the executor ends or {@link #clear()} drops it.
 */
public final class ExecutorModels {
    private static final Logger LOG = LoggerFactory.getLogger(ExecutorModels.class);
    private static final ConcurrentHashMap<ScoringConfig.ModelKey, Slot> MODELS = new ConcurrentHashMap<>();
    private static final AtomicInteger LOADS = new AtomicInteger();
    static final String VECTOR_HINT = "this JVM was started without --add-modules jdk.incubator.vector, which Offramp's"
            + " engine needs: Spark 4.2's launcher adds it to drivers and executors; with another launcher set it in"
            + " spark.driver.extraJavaOptions and spark.executor.extraJavaOptions (docs/spark.md)";

    private ExecutorModels() {}

    /** Loads a key's model at most once; a failed load is retried by the next task (the error may be transient). */
    private static final class Slot {
        private LoadedModel model;

        synchronized LoadedModel get(Path dir, ScoringConfig c) {
            if (model == null) {
                long t0 = System.nanoTime();
                try {
                    model = LoadedModel.load(dir, c);
                } catch (IOException e) {
                    throw new UncheckedIOException("could not load model " + dir + ": " + e.getMessage(), e);
                } catch (NoClassDefFoundError e) {
                    if (String.valueOf(e.getMessage()).contains("jdk/incubator/vector")) throw new IllegalStateException(VECTOR_HINT, e);
                    throw e;
                }
                LOADS.incrementAndGet();
                LOG.info("offramp: loaded {} in {} ms: {}", dir, (System.nanoTime() - t0) / 1_000_000, model.description);
            }
            return model;
        }
    }

    /** The model for a configuration, loading it on first use. */
    static LoadedModel get(ScoringConfig c) {
        Path dir = ModelLocation.resolve(c.modelPath());
        return MODELS.computeIfAbsent(c.modelKey(dir.toString()), k -> new Slot()).get(dir, c);
    }

    /** How many models this JVM has loaded since it started (tests check a model is loaded once, not per task). */
    public static int loads() {
        return LOADS.get();
    }

    /** Closes and forgets every model (a benchmark between runs; tests). */
    public static void clear() {
        for (var it = MODELS.values().iterator(); it.hasNext(); ) {
            Slot s = it.next();
            it.remove();
            synchronized (s) {
                if (s.model != null) s.model.close();
                s.model = null;
            }
        }
    }
}
