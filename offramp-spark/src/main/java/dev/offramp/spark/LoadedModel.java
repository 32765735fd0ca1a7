package dev.offramp.spark;

import dev.offramp.api.BatchRunner;
import dev.offramp.api.Offramp;
import dev.offramp.onnxruntime.OnnxRuntimeBatchRunner;
import dev.offramp.onnxruntime.OnnxRuntimeEncoder;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One model as an executor holds it: the read-only {@link Offramp} (weights, tokenizer, criterion) that every task
 * shares, and a pool of single-threaded runners, one per task running at once (each owns its batch buffers).
 */
final class LoadedModel implements AutoCloseable {
    final Offramp offramp;
    final Engine engine;
    /** How the answers are made, for logs. */
    final String description;
    private final OnnxRuntimeEncoder ort;  // null unless engine is ONNX Runtime; shared by its runners (sessions are thread-safe)
    private final ConcurrentLinkedDeque<BatchRunner> idle = new ConcurrentLinkedDeque<>();
    private final AtomicInteger lent = new AtomicInteger();

    private LoadedModel(Offramp offramp, Engine engine, OnnxRuntimeEncoder ort, String description) {
        this.offramp = offramp;
        this.engine = engine;
        this.ort = ort;
        this.description = description;
    }

    static LoadedModel load(Path dir, ScoringConfig c) throws IOException {
        if (c.engine() == Engine.ONNXRUNTIME) {
            Offramp full = Offramp.load(dir, Offramp.Options.defaults().withPolicy(Offramp.FULL_DEPTH));
            try {
                if (full.backboneOnnxFile() == null) {
                    throw new IllegalArgumentException("engine onnxruntime needs the backbone as an ONNX file, and model " + dir
                            + " has backbone " + full.model().backbone() + " (a safetensors folder)");
                }
                // no spinning: the executor's other task threads and Spark's own need the cores between batches
                OnnxRuntimeEncoder ort = new OnnxRuntimeEncoder(full.backboneOnnxFile(), Runtime.getRuntime().availableProcessors(), false);
                return new LoadedModel(full, Engine.ONNXRUNTIME, ort, OnnxRuntimeBatchRunner.describe(full.model()));
            } catch (RuntimeException | Error e) {
                full.close();
                throw e;
            }
        }
        Offramp o = Offramp.load(dir, Offramp.Options.defaults().withPolicy(c.policy()).withMaxDrop(c.maxDrop()));
        return new LoadedModel(o, Engine.OFFRAMP, null, "Offramp, criterion " + o.info().criterion()
                + " (policy " + o.info().policy() + ")");
    }

    /** A runner for this thread; give it back with {@link #release}. */
    BatchRunner borrow() {
        lent.incrementAndGet();
        BatchRunner r = idle.poll();
        if (r != null) return r;
        // never closed one by one: the ONNX Runtime session is the model's and closes with it
        return engine == Engine.ONNXRUNTIME ? new OnnxRuntimeBatchRunner(ort, offramp.model(), offramp.info().labels())
                : offramp.earlyExitRunner();
    }

    void release(BatchRunner runner) {
        idle.push(runner);
        lent.decrementAndGet();
    }

    /** Runners in use right now: how many tasks of this executor are scoring at once. */
    int runnersInUse() {
        return lent.get();
    }

    @Override
    public void close() {
        idle.clear();
        if (ort != null) ort.close();
        offramp.close();
    }
}
