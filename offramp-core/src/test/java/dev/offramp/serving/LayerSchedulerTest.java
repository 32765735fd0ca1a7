package dev.offramp.serving;

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
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.offramp.serving.SchedulerFixture.assertSameAnswer;
import static dev.offramp.serving.SchedulerFixture.inMillis;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Layer-level continuous batching must not change any answer: inputs from several threads at staggered times,
 * mixed in layer steps with samples that arrived earlier or later, get exactly what {@link Offramp#classify} gives
 * each alone. Then the deadline, queue-full, shutdown and bad-input paths.
 */
class LayerSchedulerTest {
    @TempDir
    static Path tmp;
    static Path dir;
    static Offramp model;

    @BeforeAll
    static void load() throws IOException {
        dir = TinyModelFolder.write(tmp);
        model = Offramp.load(dir);  // max-prob τ = 0.6: samples leave at different layers
    }

    @AfterAll
    static void close() {
        model.close();
    }

    @Test
    void staggeredInputsFromManyThreadsGetTheirSingleCallAnswers() throws Exception {
        List<String> texts = TinyModelFolder.texts(200, 21);
        List<Prediction> alone = texts.stream().map(model::classify).toList();
        int[] perLayer = new int[TinyModelFolder.LAYERS + 1];
        for (Prediction p : alone) perLayer[p.exitLayer()]++;
        assertTrue(Arrays.stream(perLayer).filter(n -> n > 0).count() >= 3, "needs exits at several layers: " + Arrays.toString(perLayer));

        SchedulerFixture.CountingListener counts = new SchedulerFixture.CountingListener();
        List<CompletableFuture<Prediction>> futures = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) futures.add(null);
        try (LayerScheduler s = new LayerScheduler(model, LayerScheduler.Config.defaults().withMaxBatchSamples(16), counts)) {
            List<Thread> clients = new ArrayList<>();
            for (int c = 0; c < 4; c++) {
                int client = c;
                clients.add(Thread.ofPlatform().start(() -> {
                    SplittableRandom r = new SplittableRandom(client);
                    for (int i = client; i < texts.size(); i += 4) {
                        futures.set(i, s.submit(model.encode(texts.get(i)), Request.NO_DEADLINE));
                        if (r.nextInt(3) == 0) sleepMicros(r.nextInt(2000));
                    }
                }));
            }
            for (Thread t : clients) t.join();
            for (int i = 0; i < texts.size(); i++) {
                assertSameAnswer(alone.get(i), futures.get(i).get(30, TimeUnit.SECONDS), "text " + i + ": " + texts.get(i));
            }
            assertEquals(0, s.pending());
        }
        assertEquals(texts.size(), counts.answered.get());
        assertTrue(counts.mixedSteps.get() > 0, "no step past layer 1 ran more than one sample: nothing was batched");
        assertTrue(counts.maxSamples.get() <= 16, "a step ran " + counts.maxSamples.get() + " samples, above the cap");
    }

    @Test
    void fullDepthAndPairsThroughTheScheduler() throws Exception {
        List<String> a = TinyModelFolder.texts(30, 22, 8), b = TinyModelFolder.texts(30, 23, 8);
        try (Offramp full = Offramp.load(dir, Offramp.Options.defaults().withPolicy(Offramp.FULL_DEPTH));
             LayerScheduler s = new LayerScheduler(full, LayerScheduler.Config.defaults(), null)) {
            List<CompletableFuture<Prediction>> f = new ArrayList<>();
            for (int i = 0; i < a.size(); i++) f.add(s.submit(full.encode(a.get(i), b.get(i)), Request.NO_DEADLINE));
            for (int i = 0; i < a.size(); i++) {
                Prediction p = f.get(i).get(30, TimeUnit.SECONDS);
                assertSameAnswer(full.classify(a.get(i), b.get(i)), p, "pair " + i);
                assertEquals(TinyModelFolder.LAYERS, p.exitLayer());
                assertTrue(Float.isNaN(p.confidence()));
            }
        }
    }

    @Test
    void consistentEeReadsThePolicyAtEveryLayer() throws Exception {
        Path withPolicies = TinyModelFolder.write(tmp.resolve("consistentee"), true);
        List<String> texts = TinyModelFolder.texts(60, 26);
        // random policies give π near 0.55: τ = 0.55 sends samples out at layers 1, 2 and 6 (found by a scan)
        try (Offramp cee = Offramp.load(withPolicies, Offramp.Options.defaults()
                .withCriterion(new dev.offramp.criteria.ConsistentEeCriterion(0.55)));
             LayerScheduler s = new LayerScheduler(cee, LayerScheduler.Config.defaults().withMaxBatchSamples(8), null)) {
            List<CompletableFuture<Prediction>> f = new ArrayList<>();
            for (String t : texts) f.add(s.submit(cee.encode(t), Request.NO_DEADLINE));
            int[] perLayer = new int[TinyModelFolder.LAYERS + 1];
            for (int i = 0; i < texts.size(); i++) {
                Prediction alone = cee.classify(texts.get(i)), got = f.get(i).get(30, TimeUnit.SECONDS);
                assertSameAnswer(alone, got, "text " + i);
                assertEquals(alone.confidence(), got.confidence(), 1e-5f, "π at the exit, text " + i);
                perLayer[got.exitLayer()]++;
            }
            assertTrue(Arrays.stream(perLayer).filter(n -> n > 0).count() >= 2, "exits " + Arrays.toString(perLayer));
        }
    }

    @Test
    void lateInputsAreDroppedAndTheRestAnswered() throws Exception {
        SchedulerFixture.CountingListener counts = new SchedulerFixture.CountingListener();
        List<String> texts = TinyModelFolder.texts(40, 24);
        try (LayerScheduler s = new LayerScheduler(model, LayerScheduler.Config.defaults(), counts)) {
            counts.hold();  // the first step waits: the late inputs are surely queued behind it
            List<CompletableFuture<Prediction>> f = new ArrayList<>();
            for (int i = 0; i < texts.size(); i++) {
                long deadline = i % 2 == 0 ? Request.NO_DEADLINE : inMillis(20);
                f.add(s.submit(model.encode(texts.get(i)), deadline));
                if (i == 0) assertTrue(counts.entered.await(10, TimeUnit.SECONDS));
            }
            Thread.sleep(40);  // every odd input is now past its deadline
            counts.release();
            for (int i = 0; i < texts.size(); i++) {
                if (i % 2 == 0) {
                    assertSameAnswer(model.classify(texts.get(i)), f.get(i).get(30, TimeUnit.SECONDS), "text " + i);
                } else {
                    int at = i;
                    ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(at).get(30, TimeUnit.SECONDS));
                    assertInstanceOf(DeadlineExceededException.class, e.getCause());
                    assertTrue(e.getCause().getMessage().contains("deadline"), e.getCause().getMessage());
                }
            }
        }
        assertEquals(20, counts.expired.get());
        assertEquals(20, counts.answered.get());
    }

    @Test
    void fullQueueRefusesAtOnceAndRecovers() throws Exception {
        SchedulerFixture.CountingListener counts = new SchedulerFixture.CountingListener();
        Encoding e = model.encode("the film was great");
        try (LayerScheduler s = new LayerScheduler(model, LayerScheduler.Config.defaults().withCapacity(5), counts)) {
            counts.hold();
            List<CompletableFuture<Prediction>> f = new ArrayList<>();
            for (int i = 0; i < 5; i++) f.add(s.submit(e, Request.NO_DEADLINE));
            assertEquals(5, s.pending());
            QueueFullException full = assertThrows(QueueFullException.class, () -> s.submit(e, Request.NO_DEADLINE));
            assertTrue(full.getMessage().contains("5"), full.getMessage());
            counts.release();
            for (CompletableFuture<Prediction> x : f) assertNotNull(x.get(30, TimeUnit.SECONDS).label());
            assertNotNull(s.submit(e, Request.NO_DEADLINE).get(30, TimeUnit.SECONDS).label(), "accepts again once drained");
        }
    }

    @Test
    void shutdownAnswersEveryAcceptedInputExactlyOnce() throws Exception {
        SchedulerFixture.CountingListener counts = new SchedulerFixture.CountingListener();
        List<String> texts = TinyModelFolder.texts(60, 25);
        AtomicInteger completions = new AtomicInteger();
        LayerScheduler s = new LayerScheduler(model, LayerScheduler.Config.defaults().withMaxBatchSamples(8), counts);
        counts.hold();
        List<CompletableFuture<Prediction>> f = new ArrayList<>();
        for (String t : texts) {
            CompletableFuture<Prediction> x = s.submit(model.encode(t), Request.NO_DEADLINE);
            x.whenComplete((p, err) -> completions.incrementAndGet());
            f.add(x);
        }
        assertTrue(counts.entered.await(10, TimeUnit.SECONDS));
        CompletableFuture<Boolean> done = CompletableFuture.supplyAsync(() -> {
            try {
                return s.shutdown(Duration.ofSeconds(30));
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        // inputs accepted before shutdown began count as accepted: they must be answered too
        List<CompletableFuture<Prediction>> racing = new ArrayList<>();
        while (true) {
            try {
                racing.add(s.submit(model.encode("late"), Request.NO_DEADLINE));
                Thread.sleep(1);
            } catch (IllegalStateException refused) {
                break;
            }
        }
        assertThrows(IllegalStateException.class, () -> s.submit(model.encode("late"), Request.NO_DEADLINE));
        counts.release();
        assertTrue(done.get(30, TimeUnit.SECONDS), "shutdown answered everything in time");
        for (int i = 0; i < texts.size(); i++) assertSameAnswer(model.classify(texts.get(i)), f.get(i).getNow(null), "text " + i);
        assertEquals(texts.size(), completions.get());
        for (CompletableFuture<Prediction> x : racing) assertSameAnswer(model.classify("late"), x.getNow(null), "late");
        assertEquals(texts.size() + racing.size(), counts.answered.get());
        assertEquals(0, s.pending());
        assertTrue(s.shutdown(Duration.ofSeconds(1)), "idempotent");
    }

    @Test
    void badInputIsRefusedOnSubmitAndNothingElseSuffers() throws Exception {
        SchedulerListener throwing = new SchedulerListener() {
            @Override public void answered(int exitLayer, int layers) { throw new IllegalStateException("metrics down"); }
        };
        try (LayerScheduler s = new LayerScheduler(model, LayerScheduler.Config.defaults(), throwing)) {
            int vocab = model.encoder().config().vocabSize();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> s.submit(new Encoding(new int[] {2, vocab + 3, 3}, new int[3]), Request.NO_DEADLINE));
            assertTrue(e.getMessage().contains("token id " + (vocab + 3)), e.getMessage());
            int[] tooLong = new int[model.encoder().config().maxPositions() + 1];
            Arrays.fill(tooLong, 5);
            assertThrows(IllegalArgumentException.class,
                    () -> s.submit(new Encoding(tooLong, new int[tooLong.length]), Request.NO_DEADLINE));
            String text = "the acting was awful";
            assertSameAnswer(model.classify(text), s.submit(model.encode(text), Request.NO_DEADLINE).get(30, TimeUnit.SECONDS), text);
            assertEquals(0, s.pending());
        }
    }

    private static void sleepMicros(int micros) {
        try {
            Thread.sleep(Duration.ofNanos(micros * 1000L));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
