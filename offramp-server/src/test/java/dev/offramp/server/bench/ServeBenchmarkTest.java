package dev.offramp.server.bench;

import dev.offramp.api.Offramp;
import dev.offramp.api.Prediction;
import dev.offramp.api.TinyModelFolder;
import dev.offramp.server.OfframpServer;
import dev.offramp.server.ServedModel;
import dev.offramp.server.ServerConfig;
import dev.offramp.serving.InferenceScheduler;
import dev.offramp.serving.QueueFullException;
import dev.offramp.tokenizer.Encoding;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The load benchmark's machinery in tiny phases against the tiny model's real server: every request ends answered
 * or lost exactly once, percentiles are ordered, the ramp stops where throughput stops rising and the summary line
 * has the shape; against a scheduler that refuses or never answers, errors and losses are counted.
 */
class ServeBenchmarkTest {
    @TempDir
    static Path tmp;
    static Path model;
    static List<LoadGenerator.Input> inputs;

    @BeforeAll
    static void write() throws Exception {
        model = TinyModelFolder.write(tmp);
        inputs = new ArrayList<>();
        for (String t : TinyModelFolder.texts(40, 3)) inputs.add(new LoadGenerator.Input(t, null));
    }

    static ServerConfig config() {
        return ServerConfig.defaults(model).withPort(0).withPolicy("beem-a", 0.5).withDrainTimeoutMs(5_000);
    }

    static void assertAccounted(PhaseResult r) {
        assertEquals(r.sent(), r.ok() + r.errors() + r.lost(), "sent = ok + errors + lost: " + r);
        assertEquals(r.sent(), r.answered() + r.lost(), r.toString());
    }

    static void assertHealthy(PhaseResult r) {
        assertAccounted(r);
        assertTrue(r.sent() > 0, "the phase sent nothing: " + r);
        assertEquals(r.sent(), r.ok(), "a healthy server answers every request 200: " + r);
        assertEquals(0, r.duplicates(), "every id is answered once: " + r);
        assertEquals(0, r.inconsistent(), "the same input gets the same label and exit layer under load: " + r);
        assertTrue(r.p50Ms() > 0 && r.p50Ms() <= r.p95Ms() && r.p95Ms() <= r.p99Ms(), "percentiles ordered: " + r);
        assertTrue(r.meanExit() >= 1 && r.meanExit() <= TinyModelFolder.LAYERS, "mean exit within the model: " + r);
        assertTrue(r.rps() > 0, r.toString());
        assertNull(r.firstError(), r.toString());
    }

    @Test
    void closedAndOpenLoopAccountForEveryRequest() throws Exception {
        try (OfframpServer server = OfframpServer.start(config());
             LoadGenerator load = new LoadGenerator(server.url(), inputs, Duration.ofSeconds(10))) {
            // the server echoes the request id on answers and on errors
            HttpClient http = HttpClient.newHttpClient();
            for (String body : List.of("{\"inputs\": \"a good film\"}", "{\"inputs\": 7}")) {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(server.url() + "/predict"))
                        .header(LoadGenerator.ID_HEADER, "id-42").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals("id-42", r.headers().firstValue(LoadGenerator.ID_HEADER).orElse(null), r.statusCode() + " " + r.body());
            }
            PhaseResult closed = load.closedLoop("closed c=3", 3, Duration.ofMillis(800));
            assertHealthy(closed);
            assertEquals(3, closed.concurrency());
            assertTrue(Double.isNaN(closed.offeredRps()));
            PhaseResult open = load.openLoop("open", 60, Duration.ofSeconds(1));
            assertHealthy(open);
            assertEquals(60, open.offeredRps());
            // Poisson with mean 60 in 1 s: 30..90 holds with probability > 0.9999
            assertTrue(open.sent() >= 30 && open.sent() <= 90, "arrivals follow the rate: " + open.sent());
            assertEquals(load.totalSent(), closed.sent() + open.sent(), "the generator's totals add the phases up");
            assertEquals(load.totalOk(), closed.ok() + open.ok());
        }
    }

    /** A scheduler that refuses every other input (429) and never answers the rest. */
    static final class RefusingScheduler implements InferenceScheduler {
        final AtomicInteger submitted = new AtomicInteger();
        final List<CompletableFuture<Prediction>> held = new ArrayList<>();

        @Override
        public synchronized CompletableFuture<Prediction> submit(Encoding input, long deadlineNanos) {
            if (submitted.getAndIncrement() % 2 == 1) throw new QueueFullException(1);
            CompletableFuture<Prediction> f = new CompletableFuture<>();
            held.add(f);
            return f;
        }

        @Override
        public synchronized int pending() {
            return held.size();
        }

        @Override
        public synchronized boolean shutdown(Duration timeout) {
            held.forEach(f -> f.completeExceptionally(new IllegalStateException("shut down")));
            return true;
        }
    }

    @Test
    void refusedAndUnansweredRequestsAreErrorsAndLost() throws Exception {
        try (Offramp offramp = Offramp.load(model)) {
            var info = offramp.info();
            RefusingScheduler scheduler = new RefusingScheduler();
            ServedModel served = new ServedModel(info.name(), "1", "offramp", info.labels(), info.layers(), info.maxTokens(),
                    "refusing", (text, pair, truncate) -> offramp.encode(text, pair), scheduler);
            try (OfframpServer server = OfframpServer.start(config().withLimits(64, 60_000, 1 << 16, 1000).withDrainTimeoutMs(200), served);
                 LoadGenerator load = new LoadGenerator(server.url(), inputs, Duration.ofMillis(300))) {
                PhaseResult r = load.openLoop("open", 40, Duration.ofMillis(500));
                assertAccounted(r);
                assertEquals(0, r.ok(), r.toString());
                assertEquals(scheduler.submitted.get(), r.sent(), "every request reached the scheduler");
                assertEquals(r.sent() / 2, r.errors(), "every other one was refused 429: " + r);
                assertEquals(r.sent() - r.sent() / 2, r.lost(), "the others were never answered: " + r);
                assertNotNull(r.firstError());
                assertTrue(Double.isNaN(r.p50Ms()), "no latency without answers");
                assertEquals(r.lost(), load.totalLost());
                assertEquals(r.errors(), load.totalErrors());
            }
        }
    }

    @Test
    void benchmarkRampsToSaturationThenOpenLoopAndSumsUp() throws Exception {
        ServeBenchmark.Settings settings = ServeBenchmark.Settings.defaults().withPhase(Duration.ofMillis(600))
                .withWarmup(Duration.ofMillis(400), Duration.ofMillis(400)).withMaxConcurrency(4).withGrace(Duration.ofSeconds(10));
        ByteArrayOutputStream table = new ByteArrayOutputStream();
        List<String> progress = new ArrayList<>();
        ServeBenchmark bench = new ServeBenchmark(settings, inputs, OfframpServer::start,
                new PrintStream(table, true, StandardCharsets.UTF_8), progress::add);
        ServeBenchmark.ServerRun run = bench.run(new ServeBenchmark.Variant(ServeBenchmark.EARLY_EXIT, "tiny", config()));

        List<PhaseResult> ramp = run.ramp();
        assertEquals(1, ramp.getFirst().concurrency());
        double best = 0;
        int flat = 0;
        for (int i = 0; i < ramp.size(); i++) {
            if (i > 0) assertEquals(2 * ramp.get(i - 1).concurrency(), ramp.get(i).concurrency(), "the ramp doubles the clients");
            flat = i > 0 && ramp.get(i).rps() <= 1.05 * best ? flat + 1 : 0;
            best = Math.max(best, ramp.get(i).rps());
            boolean stop = flat >= settings.patience() || 2 * ramp.get(i).concurrency() > settings.maxConcurrency();
            assertEquals(i == ramp.size() - 1, stop, "the ramp goes on until " + settings.patience()
                    + " levels in a row rose by 5 % or less, or the cap: level " + i + " of " + ramp);
        }
        assertEquals(ramp.stream().mapToDouble(PhaseResult::rps).max().orElseThrow(), run.saturationRps(), "saturation is the best level");
        assertEquals(ramp.getFirst().p50Ms(), run.unloadedP50Ms());
        assertEquals(3, run.open().size());
        double[] shares = {0.25, 0.5, 0.8};
        for (int i = 0; i < 3; i++) {
            assertEquals(shares[i] * run.saturationRps(), run.open().get(i).offeredRps(), 1e-9);
            assertSame(run.open().get(i), run.openAt(shares[i]));
        }
        // the warm-up's first answers may all come after its short window (a cold JIT): only its accounting is checked
        assertEquals(List.of("warm-up c=1", "warm-up c=4"), run.warmup().stream().map(PhaseResult::phase).toList());
        for (PhaseResult w : run.warmup()) {
            assertAccounted(w);
            assertEquals(0, w.errors() + w.lost());
        }
        for (PhaseResult r : run.phases().subList(2, run.phases().size())) assertHealthy(r);
        assertEquals(0, run.errors());
        assertEquals(0, run.lost());

        String printed = table.toString(StandardCharsets.UTF_8);
        assertTrue(printed.contains("== early-exit: tiny"), printed);
        assertTrue(printed.contains("open 50%"), printed);
        assertTrue(progress.stream().anyMatch(l -> l.contains("closed loop: 2 clients")), progress.toString());

        List<String> lines = ServeBenchmark.closingLines(Map.of(ServeBenchmark.EARLY_EXIT, run));
        Matcher m = Pattern.compile("summary: rps=([0-9.]+) p50_ms=([0-9.]+) p99_ms=([0-9.]+) full_depth_rps=NaN"
                + " onnxruntime_rps=NaN speedup_vs_onnxruntime=NaN lost=0 errors=0").matcher(lines.getLast());
        assertTrue(m.matches(), lines.getLast());
        assertEquals(run.saturationRps(), Double.parseDouble(m.group(1)), 0.051);
        assertEquals(run.openAt(0.5).p99Ms(), Double.parseDouble(m.group(3)), 0.051);
    }

    @Test
    void soakAnswersEveryIdOnceAndSamplesTheHeap() throws Exception {
        ServeBenchmark.Settings settings = ServeBenchmark.Settings.defaults().withPhase(Duration.ofMillis(400))
                .withWarmup(Duration.ofMillis(300), Duration.ofMillis(300)).withMaxConcurrency(1).withGrace(Duration.ofSeconds(10));
        ByteArrayOutputStream table = new ByteArrayOutputStream();
        List<String> progress = new ArrayList<>();
        ServeBenchmark bench = new ServeBenchmark(settings, inputs, OfframpServer::start,
                new PrintStream(table, true, StandardCharsets.UTF_8), progress::add);
        ServeBenchmark.SoakRun soak = bench.soak(new ServeBenchmark.Variant(ServeBenchmark.EARLY_EXIT, "tiny", config()),
                Duration.ofMillis(1300), 0.8, Duration.ofMillis(400));
        assertEquals(1, soak.ramp().ramp().size(), "the ramp stops at its cap");
        assertEquals(0.8 * soak.ramp().saturationRps(), soak.soak().offeredRps(), 1e-9);
        assertHealthy(soak.soak());
        List<HeapSamples.Sample> samples = soak.heap().samples();
        assertFalse(samples.getFirst().underLoad(), "the first sample is taken before the load");
        assertFalse(samples.getLast().underLoad(), "the last sample after every answer");
        assertTrue(soak.heap().underLoad().size() >= 2, "samples every 400 ms under a 1.3 s load: " + samples);
        for (int i = 1; i < samples.size(); i++) assertTrue(samples.get(i).minutes() > samples.get(i - 1).minutes());
        Matcher m = Pattern.compile("summary: soak_minutes=0\\.0 requests=(\\d+) lost=0 errors=0 heap_start_mb=([0-9.]+)"
                + " heap_end_mb=([0-9.]+)").matcher(ServeBenchmark.soakSummary(soak));
        assertTrue(m.matches(), ServeBenchmark.soakSummary(soak));
        assertEquals(soak.soak().sent(), Long.parseLong(m.group(1)));
        String printed = table.toString(StandardCharsets.UTF_8);
        assertTrue(printed.contains("ids: sent=" + soak.soak().sent() + " answered=" + soak.soak().sent() + " answered_twice=0 lost=0"), printed);
        assertTrue(progress.stream().anyMatch(l -> l.contains("MB after GC")), progress.toString());
    }

    static PhaseResult phase(String name, int clients, double offered, double rps, double p50, double p99, long errors, long lost) {
        return new PhaseResult(name, clients, offered, 1, 100, 100 - errors - lost, errors, lost, 0, 0, rps, p50, p50, p99, 3, null);
    }

    static ServeBenchmark.ServerRun run(String name, double saturation, double p99At50, long errors, long lost) {
        List<PhaseResult> warm = List.of(phase("warm-up c=1", 1, Double.NaN, 10, 5, 9, 0, 0));
        List<PhaseResult> ramp = List.of(phase("closed c=1", 1, Double.NaN, saturation / 4, 10, 12, errors, 0),
                phase("closed c=2", 2, Double.NaN, saturation, 11, 15, 0, 0));
        List<PhaseResult> open = List.of(phase("open 25%", 0, 0.25 * saturation, 0.25 * saturation, 10, 20, 0, 0),
                phase("open 50%", 0, 0.5 * saturation, 0.5 * saturation, 12, p99At50, 0, lost),
                phase("open 80%", 0, 0.8 * saturation, 0.8 * saturation, 14, 40, 0, 0));
        return new ServeBenchmark.ServerRun(new ServeBenchmark.Variant(name, name, config()), "note", warm, ramp, ramp.get(1), open);
    }

    @Test
    void closingLinesCompareTheServersAndSumLossesAndErrors() {
        Map<String, ServeBenchmark.ServerRun> runs = new LinkedHashMap<>();
        runs.put(ServeBenchmark.EARLY_EXIT, run(ServeBenchmark.EARLY_EXIT, 200, 30, 1, 0));
        runs.put(ServeBenchmark.EARLY_EXIT_DYNAMIC, run(ServeBenchmark.EARLY_EXIT_DYNAMIC, 160, 45, 0, 2));
        runs.put(ServeBenchmark.FULL_DEPTH, run(ServeBenchmark.FULL_DEPTH, 90, 50, 0, 0));
        runs.put(ServeBenchmark.FULL_DEPTH_DYNAMIC, run(ServeBenchmark.FULL_DEPTH_DYNAMIC, 100, 50, 0, 0));  // the better one
        runs.put(ServeBenchmark.ONNXRUNTIME, run(ServeBenchmark.ONNXRUNTIME, 80, 60, 3, 0));
        List<String> lines = ServeBenchmark.closingLines(runs);
        assertEquals("summary: rps=200.0 p50_ms=12.0 p99_ms=30.0 full_depth_rps=100.0 onnxruntime_rps=80.0"
                + " speedup_vs_onnxruntime=2.50 lost=2 errors=4", lines.getLast());
        String batchers = lines.stream().filter(l -> l.startsWith("batchers:")).findFirst().orElseThrow();
        assertTrue(batchers.startsWith("batchers: continuous_rps=200.0 dynamic_rps=160.0 ratio=1.25 continuous_p99_ms_at_50=30.0"
                + " dynamic_p99_ms_at_50=45.0"), batchers);
        String targets = lines.stream().filter(l -> l.startsWith("targets:")).findFirst().orElseThrow();
        assertEquals("targets: rps/full_depth_rps=2.00 (>= 1.5; full depth: full-depth-dynamic) rps/onnxruntime_rps=2.50 (>= 1.8)", targets);
        String latency = lines.stream().filter(l -> l.startsWith("latency:")).findFirst().orElseThrow();
        assertTrue(latency.startsWith("latency: unloaded_p50_ms=10.0 p99_ms_at_50=30.0 ratio=3.00"), latency);
    }

    @Test
    void quantilesAreNearestRankAndTheHeapSlopeIsLeastSquares() {
        long[] sorted = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
        assertEquals(5, PhaseResult.quantile(sorted, 10, 0.5));
        assertEquals(10, PhaseResult.quantile(sorted, 10, 0.95));
        assertEquals(10, PhaseResult.quantile(sorted, 10, 0.99));
        assertEquals(1, PhaseResult.quantile(sorted, 1, 0.99), "only the first n values count");
        assertTrue(Double.isNaN(PhaseResult.quantile(sorted, 0, 0.5)));

        HeapSamples flat = new HeapSamples();
        for (int i = 0; i < 5; i++) flat.add(new HeapSamples.Sample(i * 0.5, 100 + (i % 2 == 0 ? 1 : -1), true));
        assertEquals(0, flat.slopeMbPerMinute(), 0.5, "a sawtooth around 100 MB is flat");
        HeapSamples leak = new HeapSamples();
        leak.add(new HeapSamples.Sample(0, 50, false));  // idle before: not in the slope
        for (int i = 1; i <= 5; i++) leak.add(new HeapSamples.Sample(i, 100 + 3.0 * i, true));
        leak.add(new HeapSamples.Sample(6, 60, false));
        assertEquals(3.0, leak.slopeMbPerMinute(), 1e-9, "the slope is fitted to the samples under load");
        assertEquals(5, leak.underLoad().size());
        assertEquals(50, leak.firstMb());
        assertEquals(60, leak.lastMb());
        HeapSamples real = new HeapSamples();
        real.sample(true);
        assertTrue(real.firstMb() > 0, "the JVM's heap after GC is measured");
        assertTrue(Double.isNaN(real.slopeMbPerMinute()), "one sample has no slope");
        assertEquals(0, real.samples().getFirst().minutes(), "time counts from the first sample");
    }
}
