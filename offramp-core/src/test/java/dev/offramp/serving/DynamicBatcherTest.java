package dev.offramp.serving;

import dev.offramp.api.BatchRunner;
import dev.offramp.api.Offramp;
import dev.offramp.api.Prediction;
import dev.offramp.api.TinyModelFolder;
import dev.offramp.tokenizer.Encoding;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.offramp.serving.SchedulerFixture.assertSameAnswer;
import static dev.offramp.serving.SchedulerFixture.inMillis;
import static org.junit.jupiter.api.Assertions.*;

/** The plain dynamic batcher: the same answers as classify, and the same capacity, deadline and shutdown rules. */
class DynamicBatcherTest {
    @TempDir
    static Path tmp;
    static Offramp model;

    @BeforeAll
    static void load() throws IOException {
        model = Offramp.load(TinyModelFolder.write(tmp));
    }

    @AfterAll
    static void close() {
        model.close();
    }

    private static DynamicBatcher batcher(BatchRunner runner, DynamicBatcher.Config config, SchedulerListener listener) {
        return new DynamicBatcher(runner, model.encoder()::checkInput, config, listener);
    }

    @Test
    void concurrentInputsGetTheirSingleCallAnswers() throws Exception {
        List<String> texts = TinyModelFolder.texts(120, 31);
        SchedulerFixture.CountingListener counts = new SchedulerFixture.CountingListener();
        List<CompletableFuture<Prediction>> f = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) f.add(null);
        try (DynamicBatcher b = batcher(model.earlyExitRunner(), DynamicBatcher.Config.defaults().withMaxBatchSamples(16), counts)) {
            List<Thread> clients = new ArrayList<>();
            for (int c = 0; c < 3; c++) {
                int client = c;
                clients.add(Thread.ofPlatform().start(() -> {
                    for (int i = client; i < texts.size(); i += 3) f.set(i, b.submit(model.encode(texts.get(i)), Request.NO_DEADLINE));
                }));
            }
            for (Thread t : clients) t.join();
            for (int i = 0; i < texts.size(); i++) {
                assertSameAnswer(model.classify(texts.get(i)), f.get(i).get(30, TimeUnit.SECONDS), "text " + i);
            }
        }
        assertEquals(texts.size(), counts.answered.get());
        assertTrue(counts.maxSamples.get() > 1 && counts.maxSamples.get() <= 16, "batch sizes up to " + counts.maxSamples.get());
    }

    @Test
    void fullDepthRunnerRunsEveryLayer() throws Exception {
        try (DynamicBatcher b = batcher(model.fullDepthRunner(), DynamicBatcher.Config.defaults(), null)) {
            Prediction p = b.submit(model.encode("a very funny film"), Request.NO_DEADLINE).get(30, TimeUnit.SECONDS);
            assertEquals(TinyModelFolder.LAYERS, p.exitLayer());
        }
    }

    @Test
    void lateInputsAreDroppedBeforeTheirBatch() throws Exception {
        SchedulerFixture.CountingListener counts = new SchedulerFixture.CountingListener();
        CountDownLatch entered = new CountDownLatch(1), release = new CountDownLatch(1);
        BatchRunner inner = model.earlyExitRunner();
        BatchRunner holding = inputs -> {
            entered.countDown();
            await(release);
            return inner.run(inputs);
        };
        try (DynamicBatcher b = batcher(holding, DynamicBatcher.Config.defaults().withMaxBatchSamples(1), counts)) {
            CompletableFuture<Prediction> first = b.submit(model.encode("good"), Request.NO_DEADLINE);
            assertTrue(entered.await(10, TimeUnit.SECONDS));
            CompletableFuture<Prediction> late = b.submit(model.encode("bad"), inMillis(10));
            CompletableFuture<Prediction> patient = b.submit(model.encode("dull"), inMillis(60_000));
            Thread.sleep(30);
            release.countDown();
            assertNotNull(first.get(30, TimeUnit.SECONDS));
            ExecutionException e = assertThrows(ExecutionException.class, () -> late.get(30, TimeUnit.SECONDS));
            assertInstanceOf(DeadlineExceededException.class, e.getCause());
            assertSameAnswer(model.classify("dull"), patient.get(30, TimeUnit.SECONDS), "dull");
        }
        assertEquals(1, counts.expired.get());
    }

    @Test
    void fullQueueRefusesAndAFailingBatchFailsOnlyItself() throws Exception {
        CountDownLatch entered = new CountDownLatch(1), release = new CountDownLatch(1);
        AtomicInteger calls = new AtomicInteger();
        BatchRunner inner = model.earlyExitRunner();
        BatchRunner firstFails = inputs -> {
            if (calls.incrementAndGet() == 1) {
                entered.countDown();
                await(release);
                throw new IllegalStateException("engine hiccup");
            }
            return inner.run(inputs);
        };
        Encoding e = model.encode("the cast was great");
        try (DynamicBatcher b = batcher(firstFails, new DynamicBatcher.Config(3, 1, Duration.ZERO), null)) {
            CompletableFuture<Prediction> doomed = b.submit(e, Request.NO_DEADLINE);
            assertTrue(entered.await(10, TimeUnit.SECONDS));
            CompletableFuture<Prediction> x = b.submit(e, Request.NO_DEADLINE), y = b.submit(e, Request.NO_DEADLINE);
            assertEquals(3, b.pending());
            assertThrows(QueueFullException.class, () -> b.submit(e, Request.NO_DEADLINE));
            release.countDown();
            ExecutionException failed = assertThrows(ExecutionException.class, () -> doomed.get(30, TimeUnit.SECONDS));
            assertEquals("engine hiccup", failed.getCause().getMessage());
            assertNotNull(x.get(30, TimeUnit.SECONDS).label());
            assertNotNull(y.get(30, TimeUnit.SECONDS).label());
            assertNotNull(b.submit(e, Request.NO_DEADLINE).get(30, TimeUnit.SECONDS), "the batcher goes on after a failure");
        }
    }

    @Test
    void shutdownAnswersEveryAcceptedInputExactlyOnce() throws Exception {
        CountDownLatch entered = new CountDownLatch(1), release = new CountDownLatch(1);
        BatchRunner inner = model.earlyExitRunner();
        BatchRunner holding = inputs -> {
            entered.countDown();
            await(release);
            return inner.run(inputs);
        };
        List<String> texts = TinyModelFolder.texts(50, 32);
        AtomicInteger completions = new AtomicInteger();
        DynamicBatcher b = batcher(holding, DynamicBatcher.Config.defaults().withMaxBatchSamples(8), null);
        List<CompletableFuture<Prediction>> f = new ArrayList<>();
        for (String t : texts) {
            CompletableFuture<Prediction> x = b.submit(model.encode(t), Request.NO_DEADLINE);
            x.whenComplete((p, err) -> completions.incrementAndGet());
            f.add(x);
        }
        assertTrue(entered.await(10, TimeUnit.SECONDS));
        CompletableFuture<Boolean> done = CompletableFuture.supplyAsync(() -> {
            try {
                return b.shutdown(Duration.ofSeconds(30));
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        // inputs accepted before shutdown began count as accepted: they must be answered too
        List<CompletableFuture<Prediction>> racing = new ArrayList<>();
        while (true) {
            try {
                racing.add(b.submit(model.encode("late"), Request.NO_DEADLINE));
                Thread.sleep(1);
            } catch (IllegalStateException refused) {
                break;
            }
        }
        release.countDown();
        assertTrue(done.get(30, TimeUnit.SECONDS));
        for (int i = 0; i < texts.size(); i++) assertSameAnswer(model.classify(texts.get(i)), f.get(i).getNow(null), "text " + i);
        assertEquals(texts.size(), completions.get());
        for (CompletableFuture<Prediction> x : racing) assertSameAnswer(model.classify("late"), x.getNow(null), "late");
        assertEquals(0, b.pending());
    }

    private static void await(CountDownLatch latch) {
        try {
            if (!latch.await(30, TimeUnit.SECONDS)) throw new IllegalStateException("test never released the runner");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
