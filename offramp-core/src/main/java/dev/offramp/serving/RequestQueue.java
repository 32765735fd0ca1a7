package dev.offramp.serving;

import dev.offramp.api.Prediction;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * What both schedulers share: admission (capacity, shutdown), the hand-over of new requests to the scheduler
 * thread, and answering. Answers complete the callers' futures on a separate thread, so whatever the caller chained
 * on a future (writing an HTTP response) never runs on, or stalls, the scheduler thread.
 *
 * <p>Every admitted request is answered exactly once: by {@link #answer}, {@link #fail} or {@link #expire}, each
 * called once per request by the scheduler thread; {@link #pending()} counts admitted requests not yet answered.
 */
final class RequestQueue {
    private final int capacity;
    private final SchedulerListener listener;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition arrived = lock.newCondition();
    private final List<Request> incoming = new ArrayList<>();  // guarded by lock
    private boolean accepting = true;                          // guarded by lock
    private final AtomicInteger pending = new AtomicInteger();
    private final ExecutorService answers;

    RequestQueue(int capacity, SchedulerListener listener, String name) {
        if (capacity < 1) throw new IllegalArgumentException("capacity must be at least 1, got " + capacity);
        this.capacity = capacity;
        this.listener = listener == null ? SchedulerListener.NONE : listener;
        this.answers = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, name + "-answers");
            t.setDaemon(true);
            return t;
        });
    }

    /** Accepts one request, or throws at once: QueueFullException at capacity, IllegalStateException after shutdown. */
    Request admit(Request r) {
        lock.lock();
        try {
            if (!accepting) throw new IllegalStateException("the scheduler is shutting down and takes no new inputs");
            if (pending.get() >= capacity) throw new QueueFullException(capacity);
            pending.incrementAndGet();
            incoming.add(r);
            arrived.signal();
        } finally {
            lock.unlock();
        }
        return r;
    }

    /**
     * Moves the requests admitted since the last call into {@code into}. When there are none, waits up to
     * {@code waitNanos} (0: not at all) for one. Returns false when the queue stopped accepting and holds nothing
     * more to hand over: the scheduler may stop once its own work is done.
     */
    boolean drainTo(Collection<Request> into, long waitNanos) throws InterruptedException {
        lock.lock();
        try {
            long left = waitNanos;
            while (incoming.isEmpty() && accepting && left > 0) left = arrived.awaitNanos(left);
            boolean handed = !incoming.isEmpty();
            into.addAll(incoming);
            incoming.clear();
            return accepting || handed;
        } finally {
            lock.unlock();
        }
    }

    /** Stops admitting; wakes the scheduler thread so it notices. */
    void stopAccepting() {
        lock.lock();
        try {
            accepting = false;
            arrived.signalAll();
        } finally {
            lock.unlock();
        }
    }

    int pending() {
        return pending.get();
    }

    void answer(Request r, Prediction p) {
        pending.decrementAndGet();
        safely(() -> listener.answered(p.exitLayer(), p.layers()));
        answers.execute(() -> r.future.complete(p));
    }

    void fail(Request r, Throwable t) {
        pending.decrementAndGet();
        answers.execute(() -> r.future.completeExceptionally(t));
    }

    /** Answers a request that passed its deadline with DeadlineExceededException. */
    void expire(Request r, long now) {
        pending.decrementAndGet();
        safely(listener::expired);
        long lateMs = (now - r.deadlineNanos) / 1_000_000;
        long waitedMs = (now - r.submittedNanos) / 1_000_000;
        answers.execute(() -> r.future.completeExceptionally(new DeadlineExceededException(
                "the input passed its deadline " + lateMs + " ms ago, after waiting " + waitedMs + " ms; it was dropped")));
    }

    /** Removes the late requests from {@code from} and answers them; returns how many. */
    int expireLate(Collection<Request> from, long now) {
        int n = 0;
        for (var it = from.iterator(); it.hasNext(); ) {
            Request r = it.next();
            if (r.late(now)) {
                it.remove();
                expire(r, now);
                n++;
            }
        }
        return n;
    }

    void step(int layer, int samples, int tokens) {
        safely(() -> listener.step(layer, samples, tokens));
    }

    /** After the scheduler thread ended: waits until every answer was delivered; true when all were in time. */
    boolean awaitAnswers(long nanos) throws InterruptedException {
        answers.shutdown();
        return answers.awaitTermination(Math.max(0, nanos), TimeUnit.NANOSECONDS);
    }

    /** A listener is for metrics: its failure must not fail a batch. */
    private static void safely(Runnable call) {
        try {
            call.run();
        } catch (RuntimeException ignored) {
            // metrics lost for this event; answers go on
        }
    }

    /**
     * A scheduler's shutdown: stop accepting, wait for its {@code worker} thread (which leaves its loop once the
     * queue is closed and empty) and for every accepted request's answer; true when both happened in time.
     */
    boolean shutdown(Thread worker, java.time.Duration timeout) throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        stopAccepting();
        worker.join(Math.max(1, timeout.toMillis()));
        return !worker.isAlive() & awaitAnswers(end - System.nanoTime());
    }
}
