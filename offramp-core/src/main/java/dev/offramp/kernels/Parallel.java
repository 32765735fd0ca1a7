package dev.offramp.kernels;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
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
 * every chunk has finished. Chunks are claimed, not assigned: if a worker is slow to wake up (the machine is
 * shared), the caller runs its chunk too.
 *
 * <p>{@link #onThisThread} runs a piece of work with every {@code forRange} inside it inline: for a caller that
 * already has one core to itself, e.g. one of as many Spark tasks as the executor has cores, where the pool's
 * worker would be one thread more than there are cores.
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
    /** Bound while the current thread runs {@link #onThisThread} work. */
    private static final ScopedValue<Boolean> ON_THIS_THREAD = ScopedValue.newInstance();

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

    /** Runs {@code work} on the calling thread alone (every {@link #forRange} inside it, at any depth, runs inline). */
    public static <T> T onThisThread(java.util.function.Supplier<T> work) {
        return ScopedValue.where(ON_THIS_THREAD, Boolean.TRUE).call(work::get);
    }

    /** Whether the current thread is inside {@link #onThisThread}. */
    public static boolean isOnThisThread() {
        return ON_THIS_THREAD.isBound();
    }

    /** Runs task over [0, n) split into one contiguous chunk per thread; returns when all are done. */
    public static void forRange(int n, RangeTask task) {
        if (n <= 0) return;
        if (THREADS == 1 || n == 1 || ON_THIS_THREAD.isBound()) {
            task.run(0, n);
            return;
        }
        PoolHolder.POOL.run(n, task);
    }

    /** Chunk {@code i} of {@code chunks} over [0, n): contiguous, sizes differ by at most one. */
    private static int chunkStart(int n, int chunks, int i) {
        return (int) ((long) n * i / chunks);
    }

    /**
     * One forRange call. Chunks are claimed from {@code next}, so whichever thread is running takes them: on a
     * loaded machine a descheduled worker's chunk is done by the caller instead of being waited for.
     */
    private static final class Job {
        private static final VarHandle NEXT, DONE, ERROR;

        static {
            try {
                MethodHandles.Lookup l = MethodHandles.lookup();
                NEXT = l.findVarHandle(Job.class, "next", int.class);
                DONE = l.findVarHandle(Job.class, "done", int.class);
                ERROR = l.findVarHandle(Job.class, "error", Throwable.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        final RangeTask task;
        final int n, chunks;
        /** The first exception any chunk threw. */
        volatile Throwable error;
        @SuppressWarnings("unused") private volatile int next;
        private volatile int done;

        Job(RangeTask task, int n, int chunks) {
            this.task = task;
            this.n = n;
            this.chunks = chunks;
        }

        /** Claims and runs chunks until none are left. */
        void work() {
            int i;
            while ((i = (int) NEXT.getAndAdd(this, 1)) < chunks) {
                try {
                    task.run(chunkStart(n, chunks, i), chunkStart(n, chunks, i + 1));
                } catch (Throwable t) {
                    ERROR.compareAndSet(this, null, t);
                }
                DONE.getAndAdd(this, 1);
            }
        }

        boolean finished() {
            return done == chunks;
        }
    }

    private static final class Pool {
        final Worker[] workers;           // workers[0] is unused: the caller is worker 0
        final ReentrantLock lock = new ReentrantLock();
        /** The current job; workers wake up when it changes. Null between jobs (so no task is kept alive). */
        volatile Job job;

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
                Job j = new Job(task, n, Math.min(n, workers.length));
                job = j;                                   // publishes the job
                for (int w = 1; w < workers.length; w++) {
                    if (workers[w].parked) LockSupport.unpark(workers[w]);
                }
                j.work();
                // chunks claimed by workers may still be running; yield now and then in case one is descheduled
                for (int spins = 1; !j.finished(); spins++) {
                    if ((spins & 1023) == 0) Thread.yield();
                    else Thread.onSpinWait();
                }
                job = null;
                Throwable t = j.error;
                if (t instanceof RuntimeException re) throw re;
                if (t instanceof Error err) throw err;
                if (t != null) throw new RuntimeException("parallel task failed", t);
            } finally {
                lock.unlock();
            }
        }
    }

    private static final class Worker extends Thread {
        final Pool pool;
        volatile boolean parked;

        Worker(Pool pool, int index) {
            super("offramp-worker-" + index);
            this.pool = pool;
            setDaemon(true);
        }

        @Override
        public void run() {
            Job seen = null;
            while (true) {
                seen = awaitJob(seen);
                if (seen != null) seen.work();
            }
        }

        /** Spins for SPIN_NANOS, then parks, until the pool's job differs from {@code seen}; returns it. */
        private Job awaitJob(Job seen) {
            long spinStart = System.nanoTime();
            int spins = 0;
            Job j;
            while ((j = pool.job) == seen) {
                if ((++spins & 63) == 0 && System.nanoTime() - spinStart > SPIN_NANOS) {
                    // Dekker-style hand-shake with run(): set parked, re-check, park; run() publishes then checks parked
                    parked = true;
                    if (pool.job == seen) LockSupport.park(this);
                    parked = false;
                } else {
                    Thread.onSpinWait();
                }
            }
            return j;
        }
    }
}
