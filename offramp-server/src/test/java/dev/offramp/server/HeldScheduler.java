package dev.offramp.server;

import dev.offramp.api.BatchRunner;
import dev.offramp.api.Prediction;
import dev.offramp.serving.DeadlineExceededException;
import dev.offramp.serving.InferenceScheduler;
import dev.offramp.serving.QueueFullException;
import dev.offramp.tokenizer.Encoding;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A scheduler a test can hold: while held it accepts inputs (up to its capacity) but runs none, and still drops
 * inputs past their deadline, so tests reach 429, 504 and shutdown-with-requests-in-flight deterministically.
 * When not held it runs whatever is waiting as one batch through a real {@link BatchRunner}. Counts every
 * completion, so a test can check that no input was answered twice.
 */
final class HeldScheduler implements InferenceScheduler {
    private record Item(Encoding input, long deadline, CompletableFuture<Prediction> future) {}

    private final BatchRunner runner;
    private final int capacity;
    private final List<Item> waiting = new ArrayList<>();
    private final Thread worker;
    private boolean held, closed;
    private int running;
    final AtomicInteger completions = new AtomicInteger();
    final AtomicInteger accepted = new AtomicInteger();

    HeldScheduler(BatchRunner runner, int capacity) {
        this.runner = runner;
        this.capacity = capacity;
        this.worker = Thread.ofPlatform().daemon().name("held-scheduler").start(this::loop);
    }

    synchronized void hold() {
        held = true;
    }

    synchronized void release() {
        held = false;
        notifyAll();
    }

    @Override
    public synchronized CompletableFuture<Prediction> submit(Encoding input, long deadlineNanos) {
        if (closed) throw new IllegalStateException("the scheduler is shut down");
        if (waiting.size() + running >= capacity) throw new QueueFullException(capacity);
        Item it = new Item(input, deadlineNanos, new CompletableFuture<>());
        waiting.add(it);
        accepted.incrementAndGet();
        notifyAll();
        return it.future;
    }

    @Override
    public synchronized int pending() {
        return waiting.size() + running;
    }

    @Override
    public boolean shutdown(Duration timeout) throws InterruptedException {
        synchronized (this) {
            closed = true;
            notifyAll();
        }
        worker.join(timeout.toMillis() + 1);
        return !worker.isAlive();
    }

    private void loop() {
        while (true) {
            List<Item> batch;
            synchronized (this) {
                expire();
                while ((held || waiting.isEmpty()) && !(closed && waiting.isEmpty())) {
                    try {
                        wait(2);
                    } catch (InterruptedException e) {
                        return;
                    }
                    expire();
                }
                if (closed && waiting.isEmpty()) return;
                batch = new ArrayList<>(waiting);
                waiting.clear();
                running = batch.size();
            }
            try {
                Prediction[] p = runner.run(batch.stream().map(Item::input).toList());
                for (int i = 0; i < p.length; i++) complete(batch.get(i), p[i], null);
            } catch (RuntimeException e) {
                for (Item it : batch) complete(it, null, e);
            }
            synchronized (this) {
                running = 0;
            }
        }
    }

    private void expire() {
        long now = System.nanoTime();
        waiting.removeIf(it -> {
            if (now - it.deadline < 0) return false;
            complete(it, null, new DeadlineExceededException("dropped while waiting"));
            return true;
        });
    }

    private void complete(Item it, Prediction p, Throwable err) {
        boolean first = err == null ? it.future.complete(p) : it.future.completeExceptionally(err);
        if (first) completions.incrementAndGet();
    }
}
