package dev.offramp.kernels;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Splits a range of independent work items over the engine's threads.
 *
 * <p>Persistent daemon workers, because a 64×384×384 GEMM takes ~100 µs and handing tasks to an executor costs
 * more than that. The calling thread takes part as worker 0. After a job a worker spins (~200 µs,
 * {@code -Dofframp.spinMicros}) waiting for the next one, then parks, so back-to-back layer ops hand off in
 * about a microsecond while an idle engine burns no CPU.
 *
 * <p>One job at a time: a caller that finds the workers busy (another thread's job, e.g. concurrent server
 * requests) runs its whole range inline instead of waiting, and a {@code forRange} from inside a task runs
 * inline too, so nesting never deadlocks. An exception thrown by any chunk is rethrown in the caller after
 * every chunk has finished.
 */
public final class Parallel {
    private Parallel() {}

    /** Work on items [start, end). Must only touch state owned by those items. */
    @FunctionalInterface
    public interface RangeTask {
        void run(int start, int end);
    }

    private static final int THREADS = threadCount();
    private static final long SPIN_NANOS = Long.getLong("offramp.spinMicros", 200L) * 1000L;

    /** Created on first use; null when there is one thread. */
    private static final class PoolHolder {
        static final Pool POOL = THREADS > 1 ? new Pool(THREADS) : null;
    }

    private static int threadCount() {
        String prop = System.getProperty("offramp.threads");
        if (prop == null || prop.isBlank()) return Math.max(1, Runtime.getRuntime().availableProcessors());
        try {
            int t = Integer.parseInt(prop.trim());
            if (t < 1) throw new IllegalArgumentException("-Dofframp.threads must be >= 1, got " + t);
            return t;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("-Dofframp.threads must be an integer, got '" + prop + "'", e);
        }
    }

    /** Number of threads work is split over (the machine's cores by default; -Dofframp.threads=N). */
    public static int threads() {
        return THREADS;
    }

    /** Runs task over [0, n) split into one contiguous chunk per thread; returns when all are done. */
    public static void forRange(int n, RangeTask task) {
        if (n <= 0) return;
        if (THREADS == 1 || n == 1) {
            task.run(0, n);
            return;
        }
        PoolHolder.POOL.run(n, task);
    }

    /** Chunk {@code i} of {@code chunks} over [0, n): contiguous, sizes differ by at most one. */
    private static int chunkStart(int n, int chunks, int i) {
        return (int) ((long) n * i / chunks);
    }

    private static final class Pool {
        final Worker[] workers;           // workers[0] is unused: the caller is worker 0
        final ReentrantLock lock = new ReentrantLock();
        final AtomicInteger pending = new AtomicInteger();
        final AtomicReference<Throwable> error = new AtomicReference<>();
        // job fields: written by the caller before the volatile generation bump, read by workers after it
        RangeTask task;
        int n, chunks;
        volatile int generation;

        Pool(int threads) {
            workers = new Worker[threads];
            for (int w = 1; w < threads; w++) {
                workers[w] = new Worker(this, w);
                workers[w].start();
            }
        }

        void run(int n, RangeTask task) {
            Thread self = Thread.currentThread();
            // nested call from a task, or another caller's job in flight: run inline rather than wait
            if (self instanceof Worker || lock.isHeldByCurrentThread() || !lock.tryLock()) {
                task.run(0, n);
                return;
            }
            try {
                int chunks = Math.min(n, workers.length);
                this.task = task;
                this.n = n;
                this.chunks = chunks;
                error.set(null);
                pending.set(workers.length - 1);
                generation = generation + 1;     // publishes the job (only the lock holder writes it)
                for (int w = 1; w < workers.length; w++) {
                    if (workers[w].parked) LockSupport.unpark(workers[w]);
                }
                Throwable mine = null;
                try {
                    task.run(0, chunkStart(n, chunks, 1));
                } catch (Throwable t) {
                    mine = t;
                }
                while (pending.get() != 0) Thread.onSpinWait();
                this.task = null;                // do not keep the caller's lambda (and its arrays) alive
                Throwable theirs = error.getAndSet(null);
                if (mine == null) mine = theirs;
                else if (theirs != null && theirs != mine) mine.addSuppressed(theirs);
                if (mine instanceof RuntimeException re) throw re;
                if (mine instanceof Error err) throw err;
                if (mine != null) throw new RuntimeException("parallel task failed", mine);
            } finally {
                lock.unlock();
            }
        }
    }

    private static final class Worker extends Thread {
        final Pool pool;
        final int index;
        volatile boolean parked;

        Worker(Pool pool, int index) {
            super("offramp-worker-" + index);
            this.pool = pool;
            this.index = index;
            setDaemon(true);
        }

        @Override
        public void run() {
            int seen = 0;   // not pool.generation: the first job may already be published when this thread starts
            while (true) {
                seen = awaitJob(seen);
                Pool p = pool;
                int chunks = p.chunks;
                if (index < chunks) {
                    try {
                        p.task.run(chunkStart(p.n, chunks, index), chunkStart(p.n, chunks, index + 1));
                    } catch (Throwable t) {
                        p.error.compareAndSet(null, t);
                    }
                }
                p.pending.decrementAndGet();
            }
        }

        /** Spins for SPIN_NANOS, then parks, until the generation moves past {@code seen}; returns the new one. */
        private int awaitJob(int seen) {
            long spinStart = System.nanoTime();
            int spins = 0;
            int g;
            while ((g = pool.generation) == seen) {
                if ((++spins & 63) == 0 && System.nanoTime() - spinStart > SPIN_NANOS) {
                    // Dekker-style hand-shake with run(): set parked, re-check, park; run() bumps then checks parked
                    parked = true;
                    if (pool.generation == seen) LockSupport.park(this);
                    parked = false;
                } else {
                    Thread.onSpinWait();
                }
            }
            return g;
        }
    }
}
