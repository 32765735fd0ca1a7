package dev.offramp.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class ParallelTest {
    @Test
    void coversEveryItemExactlyOnce() {
        for (int n : new int[] {0, 1, 2, 3, 5, 17, 1000}) {
            AtomicInteger[] hits = new AtomicInteger[n];
            for (int i = 0; i < n; i++) hits[i] = new AtomicInteger();
            Parallel.forRange(n, (s, e) -> {
                assertTrue(s < e, "empty chunk " + s + ".." + e);
                for (int i = s; i < e; i++) hits[i].incrementAndGet();
            });
            for (int i = 0; i < n; i++) assertEquals(1, hits[i].get(), "n=" + n + " item " + i);
        }
    }

    @Test
    void workerExceptionReachesTheCaller() {
        IllegalStateException boom = new IllegalStateException("boom in the last chunk");
        for (int rep = 0; rep < 20; rep++) {
            IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> Parallel.forRange(100, (s, e) -> {
                if (e == 100) throw boom;  // the last chunk: a worker's when threads > 1
            }));
            assertSame(boom, thrown);
        }
        // the pool still works afterwards
        int[] out = new int[64];
        Parallel.forRange(64, (s, e) -> { for (int i = s; i < e; i++) out[i] = i; });
        assertEquals(63, out[63]);
    }

    /** Inside onThisThread every chunk runs on the caller, at any depth; outside it the pool splits the range again. */
    @Test
    void onThisThreadKeepsEveryChunkOnTheCaller() {
        Thread caller = Thread.currentThread();
        List<Thread> seen = java.util.Collections.synchronizedList(new ArrayList<>());
        AtomicInteger chunks = new AtomicInteger();
        Parallel.onThisThread(() -> {
            assertTrue(Parallel.isOnThisThread());
            for (int rep = 0; rep < 50; rep++) {
                Parallel.forRange(1000, (s, e) -> {
                    chunks.incrementAndGet();
                    seen.add(Thread.currentThread());
                    Parallel.forRange(10, (s2, e2) -> seen.add(Thread.currentThread()));
                });
            }
            return null;
        });
        assertEquals(50, chunks.get(), "one chunk per call: the whole range inline");
        assertTrue(seen.stream().allMatch(t -> t == caller), "a chunk ran off the calling thread");
        assertTrue(!Parallel.isOnThisThread(), "the scope ends with the call");
        if (Parallel.threads() > 1) {
            AtomicInteger after = new AtomicInteger();
            Parallel.forRange(1000, (s, e) -> after.incrementAndGet());
            assertEquals(Parallel.threads(), after.get(), "outside the scope the range is split over the pool again");
        }
    }

    @Test
    void nestedCallsRunInlineWithoutDeadlock() {
        int outer = 8, inner = 50;
        int[][] out = new int[outer][inner];
        Parallel.forRange(outer, (s, e) -> {
            for (int i = s; i < e; i++) {
                int row = i;
                Parallel.forRange(inner, (s2, e2) -> { for (int j = s2; j < e2; j++) out[row][j] = row * 1000 + j; });
            }
        });
        for (int i = 0; i < outer; i++) for (int j = 0; j < inner; j++) assertEquals(i * 1000 + j, out[i][j]);
    }

    /** Four threads hammering forRange and Gemm at once must each get their own right answer. */
    @Test
    void concurrentCallersGetRightAnswers() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int id = t;
                futures.add(pool.submit(() -> {
                    int m = 40 + id, k = 96, n = 200;
                    float[] a = new float[m * k], b = new float[k * n];
                    for (int i = 0; i < a.length; i++) a[i] = ((i * 7 + id) % 13) - 6;   // small integers: exact sums
                    for (int i = 0; i < b.length; i++) b[i] = ((i * 5 + id) % 11) - 5;
                    float[] want = new float[m * n];
                    ScalarGemm.gemm(false, false, m, n, k, a, 0, k, b, 0, n, want, 0, n, false);
                    PackedMatrix pb = PackedMatrix.pack(b, 0, k, n);
                    for (int rep = 0; rep < 200; rep++) {
                        float[] got = new float[m * n];
                        Gemm.matmul(a, 0, k, pb, got, 0, n, m, false);
                        assertArrayEquals(want, got, "caller " + id + " rep " + rep);
                        long[] sums = new long[1000];
                        Parallel.forRange(1000, (s, e) -> { for (int i = s; i < e; i++) sums[i] = (long) i * id; });
                        for (int i = 0; i < 1000; i++) assertEquals((long) i * id, sums[i]);
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) f.get();
        } finally {
            pool.shutdownNow();
        }
    }
}
