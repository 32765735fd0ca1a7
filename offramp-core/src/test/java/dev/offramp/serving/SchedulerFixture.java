package dev.offramp.serving;

import dev.offramp.api.Prediction;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** What the scheduler tests share: a listener that counts (and can hold the scheduler thread), and the comparison. */
final class SchedulerFixture {
    private SchedulerFixture() {}

    /** Counts events; while {@link #hold} is armed, the first step blocks the scheduler thread until released. */
    static final class CountingListener implements SchedulerListener {
        final AtomicInteger steps = new AtomicInteger(), answered = new AtomicInteger(), expired = new AtomicInteger();
        final AtomicInteger mixedSteps = new AtomicInteger();  // steps past layer 1 with more than one sample
        final AtomicInteger maxSamples = new AtomicInteger();
        final CountDownLatch entered = new CountDownLatch(1);
        private volatile CountDownLatch hold;

        /** The next step waits (on the scheduler thread) until {@link #release}. */
        void hold() {
            hold = new CountDownLatch(1);
        }

        void release() {
            CountDownLatch h = hold;
            hold = null;
            if (h != null) h.countDown();
        }

        @Override
        public void step(int layer, int samples, int tokens) {
            steps.incrementAndGet();
            maxSamples.accumulateAndGet(samples, Math::max);
            if (layer > 1 && samples > 1) mixedSteps.incrementAndGet();
            CountDownLatch h = hold;
            if (h != null) {
                entered.countDown();
                try {
                    if (!h.await(30, TimeUnit.SECONDS)) throw new IllegalStateException("test never released the scheduler");
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }

        @Override
        public void answered(int exitLayer, int layers) {
            answered.incrementAndGet();
        }

        @Override
        public void expired() {
            expired.incrementAndGet();
        }
    }

    /** Same label and exit layer, probabilities within 1e-4 (the bar for batched vs alone). */
    static void assertSameAnswer(Prediction alone, Prediction got, String what) {
        assertEquals(alone.label(), got.label(), what);
        assertEquals(alone.exitLayer(), got.exitLayer(), what);
        assertArrayEquals(alone.probabilities(), got.probabilities(), 1e-4f, what);
    }

    static long inMillis(long ms) {
        return System.nanoTime() + ms * 1_000_000L;
    }
}
