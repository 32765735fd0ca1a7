package dev.offramp.serving;

import dev.offramp.api.BatchRunner;
import dev.offramp.api.Prediction;
import dev.offramp.tokenizer.Encoding;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * The plain dynamic batcher, for comparison with {@link LayerScheduler}: collect requests until
 * {@link Config#maxBatchSamples} are waiting or the oldest has waited {@link Config#maxWait}, then run them as one
 * batch to the end with a {@link BatchRunner} (Offramp early exit with compaction, Offramp at full depth, or ONNX
 * Runtime), on one thread. While a batch runs, the next one collects.
 *
 * <p>Capacity, deadlines and shutdown as in {@link LayerScheduler}: requests past their deadline are dropped
 * before their batch runs (a runner cannot drop them mid-batch); a runner's failure fails that batch only.
 */
public final class DynamicBatcher implements InferenceScheduler {

    /**
     * @param capacity        inputs accepted and not yet answered, beyond which submit throws QueueFullException
     * @param maxBatchSamples the most inputs one batch runs
     * @param maxWait         how long the oldest waiting input may wait for the batch to fill
     */
    public record Config(int capacity, int maxBatchSamples, Duration maxWait) {
        public Config {
            if (capacity < 1) throw new IllegalArgumentException("capacity must be at least 1, got " + capacity);
            if (maxBatchSamples < 1) throw new IllegalArgumentException("maxBatchSamples must be at least 1, got " + maxBatchSamples);
            if (maxWait == null || maxWait.isNegative()) throw new IllegalArgumentException("maxWait must be >= 0, got " + maxWait);
        }

        /** 1024 inputs, batches of up to 32, 5 ms of waiting. */
        public static Config defaults() {
            return new Config(1024, 32, Duration.ofMillis(5));
        }

        public Config withCapacity(int capacity) { return new Config(capacity, maxBatchSamples, maxWait); }

        public Config withMaxBatchSamples(int n) { return new Config(capacity, n, maxWait); }

        public Config withMaxWait(Duration maxWait) { return new Config(capacity, maxBatchSamples, maxWait); }
    }

    private final Config config;
    private final BatchRunner runner;
    private final Consumer<Encoding> inputCheck;
    private final RequestQueue queue;
    private final Thread thread;
    private final List<Request> waiting = new ArrayList<>();  // scheduler thread only

    /**
     * Starts the batcher's thread.
     *
     * @param runner     runs one batch; called from the batcher's thread only
     * @param inputCheck refuses an input the runner cannot run (IllegalArgumentException) before it is queued,
     *                   e.g. {@code offramp.encoder()::checkInput}; null to check nothing
     */
    public DynamicBatcher(BatchRunner runner, Consumer<Encoding> inputCheck, Config config, SchedulerListener listener) {
        this.runner = Objects.requireNonNull(runner, "runner");
        this.inputCheck = inputCheck;
        this.config = Objects.requireNonNull(config, "config");
        this.queue = new RequestQueue(config.capacity(), listener, "offramp-dynamic-batcher");
        this.thread = new Thread(this::loop, "offramp-dynamic-batcher");
        thread.setDaemon(true);
        thread.start();
    }

    @Override
    public CompletableFuture<Prediction> submit(Encoding input, long deadlineNanos) {
        Objects.requireNonNull(input, "input");
        if (inputCheck != null) inputCheck.accept(input);
        return queue.admit(new Request(input, System.nanoTime(), deadlineNanos)).future;
    }

    @Override
    public int pending() {
        return queue.pending();
    }

    @Override
    public boolean shutdown(Duration timeout) throws InterruptedException {
        return queue.shutdown(thread, timeout);
    }

    private void loop() {
        long maxWait = config.maxWait().toNanos();
        while (true) {
            try {
                boolean open;
                if (waiting.isEmpty()) {
                    open = queue.drainTo(waiting, Long.MAX_VALUE);
                } else {
                    long left = waiting.getFirst().submittedNanos + maxWait - System.nanoTime();
                    open = queue.drainTo(waiting, waiting.size() >= config.maxBatchSamples() ? 0 : Math.max(0, left));
                }
                if (!open && waiting.isEmpty()) return;
                // run when the batch is full, the oldest has waited long enough, or shutdown left nothing to wait for
                boolean due = waiting.size() >= config.maxBatchSamples()
                        || System.nanoTime() - waiting.getFirst().submittedNanos >= maxWait || !open;
                if (due) runBatch();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (Throwable t) {
                // runBatch fails its own batch; nothing else is expected to throw: keep serving
            }
        }
    }

    private void runBatch() {
        queue.expireLate(waiting, System.nanoTime());
        int n = Math.min(waiting.size(), config.maxBatchSamples());
        if (n == 0) return;
        List<Request> batch = new ArrayList<>(waiting.subList(0, n));
        waiting.subList(0, n).clear();
        List<Encoding> inputs = new ArrayList<>(n);
        int tokens = 0;
        for (Request r : batch) {
            inputs.add(r.input);
            tokens += r.input.length();
        }
        Prediction[] out;
        try {
            out = runner.run(inputs);
            if (out == null || out.length != n) {
                throw new IllegalStateException("the batch runner returned " + (out == null ? "null" : out.length + " predictions")
                        + " for " + n + " inputs");
            }
        } catch (Throwable t) {
            for (Request r : batch) queue.fail(r, t);
            return;
        }
        queue.step(0, n, tokens);
        for (int i = 0; i < n; i++) queue.answer(batch.get(i), out[i]);
    }
}
