package dev.offramp.server;

import dev.offramp.api.Offramp;
import dev.offramp.api.TinyModelFolder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.ConnectException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The server under pressure, with a scheduler the test holds: a full queue answers 429 at once, a request past
 * its deadline 504, a shutdown answers every accepted request exactly once and refuses new ones, and the API key
 * guards every route but health.
 */
class ServerUnderLoadTest {
    @TempDir
    static Path tmp;
    static Path model;
    static Offramp offramp;

    @BeforeAll
    static void load() throws Exception {
        model = ServerTestModel.write(tmp);
        offramp = Offramp.load(model);
    }

    @AfterAll
    static void close() {
        offramp.close();
    }

    static String predict(String text) {
        return Http.json(Map.of("inputs", text));
    }

    static void awaitPending(HeldScheduler s, int n) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (s.pending() < n) {
            assertTrue(System.nanoTime() < end, "the scheduler never held " + n + " inputs (holds " + s.pending() + ")");
            Thread.sleep(2);
        }
    }

    @Test
    void fullQueueAnswers429AtOnceWithRetryAfter() throws Exception {
        HeldScheduler s = new HeldScheduler(offramp.earlyExitRunner(), 3);
        s.hold();
        try (OfframpServer server = OfframpServer.start(ServerTestModel.config(model).withLimits(3, 30_000, 1 << 16, 1000),
                ServerTestModel.served(offramp, s))) {
            Http http = new Http(server.url());
            List<CompletableFuture<Http.Answer>> held = new ArrayList<>();
            for (String t : TinyModelFolder.texts(3, 1)) held.add(http.postAsync("/predict", predict(t)));
            awaitPending(s, 3);
            long t0 = System.nanoTime();
            Http.Answer full = http.post("/predict", predict("a film"));
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertEquals(429, full.status(), full.body());
            assertEquals("1", full.headers().firstValue("Retry-After").orElse(null));
            assertTrue(full.error().contains("queue is full"), full.error());
            assertTrue(ms < 2_000, "429 must come at once, took " + ms + " ms");
            // a batch that does not fit is refused as a whole, none of it queued
            assertEquals(429, http.post("/predict", "{\"inputs\": [[\"a\"], [\"b\"]]}").status());
            assertEquals(3, s.accepted.get(), "nothing of a refused request was queued");
            // one that could never fit is too large, whatever the load
            Http.Answer tooMany = http.post("/predict", "{\"inputs\": [[\"a\"], [\"b\"], [\"c\"], [\"d\"]]}");
            assertEquals(413, tooMany.status());
            assertTrue(tooMany.error().contains("queue-capacity"), tooMany.error());
            s.release();
            for (CompletableFuture<Http.Answer> f : held) assertEquals(200, f.get(30, TimeUnit.SECONDS).status());
            assertEquals(200, http.post("/predict", predict("a film")).status(), "room again once answered");
        }
    }

    @Test
    void requestPastItsDeadlineAnswers504() throws Exception {
        HeldScheduler s = new HeldScheduler(offramp.earlyExitRunner(), 16);
        s.hold();
        try (OfframpServer server = OfframpServer.start(ServerTestModel.config(model).withLimits(16, 150, 1 << 16, 1000),
                ServerTestModel.served(offramp, s))) {
            Http http = new Http(server.url());
            Http.Answer byHeader = http.post("/predict", predict("a film"), RequestBodies.DEADLINE_HEADER, "40");
            assertEquals(504, byHeader.status(), byHeader.body());
            assertTrue(byHeader.error().contains("deadline"), byHeader.error());
            Http.Answer byField = http.post("/predict", "{\"inputs\": \"a film\", \"deadline_ms\": 30}");
            assertEquals(504, byField.status());
            Http.Answer byOipField = http.post("/v2/models/" + offramp.info().name() + "/infer", Http.json(Map.of(
                    "parameters", Map.of("deadline_ms", 30),
                    "inputs", List.of(Map.of("name", "text", "datatype", "BYTES", "shape", List.of(1), "data", List.of("a film"))))));
            assertEquals(504, byOipField.status());
            Http.Answer byDefault = http.post("/predict", predict("a film"));  // server default: 150 ms
            assertEquals(504, byDefault.status());
            s.release();
            // a generous deadline is met once the scheduler runs again
            assertEquals(200, http.post("/predict", predict("a film"), RequestBodies.DEADLINE_HEADER, "20000").status());
            assertEquals(0, s.pending());
            assertTrue(server.metrics().scrape().contains("offramp_requests_total{route=\"/predict\",status=\"504\"} 3.0"),
                    server.metrics().scrape());
        }
    }

    @Test
    void shutdownAnswersEveryAcceptedRequestOnceAndRefusesNewOnes() throws Exception {
        HeldScheduler s = new HeldScheduler(offramp.earlyExitRunner(), 64);
        s.hold();
        OfframpServer server = OfframpServer.start(ServerTestModel.config(model), ServerTestModel.served(offramp, s));
        Http http = new Http(server.url());
        List<String> texts = TinyModelFolder.texts(8, 3);
        List<CompletableFuture<Http.Answer>> inFlight = new ArrayList<>();
        for (String t : texts) inFlight.add(http.postAsync("/predict", predict(t)));
        inFlight.add(http.postAsync("/predict", "{\"inputs\": [[\"a film\"], [\"the plot\", \"was dull\"]]}"));
        awaitPending(s, texts.size() + 2);
        assertEquals(texts.size() + 1, server.inFlight());

        CompletableFuture<Boolean> stopped = CompletableFuture.supplyAsync(server::stop);
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (http.get("/v2/health/ready").status() == 200) {  // the drain starts on another thread
            assertTrue(System.nanoTime() < end, "the server never reported the drain");
            Thread.sleep(2);
        }
        Http.Answer refused = http.post("/predict", predict("a film"));
        assertEquals(503, refused.status(), refused.body());
        assertTrue(refused.error().contains("shutting down"), refused.error());
        assertEquals("1", refused.headers().firstValue("Retry-After").orElse(null));
        assertFalse(stopped.isDone(), "stop waits for the accepted requests");
        int acceptedBeforeRelease = s.accepted.get();

        s.release();
        assertTrue(stopped.get(30, TimeUnit.SECONDS), "stop reports every accepted request answered");
        for (int i = 0; i < texts.size(); i++) {
            Http.Answer a = inFlight.get(i).get(5, TimeUnit.SECONDS);
            assertEquals(200, a.status(), a.body());
            assertEquals(offramp.classify(texts.get(i)).label(), a.json().get(0).get("label").asText());
        }
        assertEquals(200, inFlight.getLast().get(5, TimeUnit.SECONDS).status());
        assertEquals(acceptedBeforeRelease, s.accepted.get(), "nothing was accepted after the drain began");
        assertEquals(s.accepted.get(), s.completions.get(), "every accepted input answered exactly once");
        // and the port is closed
        var e = assertThrows(java.io.UncheckedIOException.class, () -> http.get("/v2/health/live"));
        assertInstanceOf(ConnectException.class, e.getCause());
    }

    @Test
    void apiKeyGuardsEveryRouteButHealth() throws Exception {
        Path keyFile = Files.writeString(tmp.resolve("key.txt"), "s3cret-key\n");
        String key = ApiKeys.read(keyFile);
        assertEquals("s3cret-key", key);
        HeldScheduler s = new HeldScheduler(offramp.earlyExitRunner(), 16);
        try (OfframpServer server = OfframpServer.start(ServerTestModel.config(model).withApiKey(key), ServerTestModel.served(offramp, s))) {
            Http http = new Http(server.url());
            Http.Answer none = http.post("/predict", predict("a film"));
            assertEquals(401, none.status());
            assertTrue(none.error().contains("API key"), none.error());
            assertEquals("Bearer", none.headers().firstValue("WWW-Authenticate").orElse(null));
            assertEquals(401, http.post("/predict", predict("a film"), "Authorization", "Bearer s3cret-kez").status());
            assertEquals(401, http.post("/predict", predict("a film"), "Authorization", "Bearer s3cret-key-and-more").status());
            assertEquals(401, http.get("/metrics").status());
            assertEquals(401, http.get("/v2/models/" + offramp.info().name()).status());
            assertEquals(200, http.post("/predict", predict("a film"), "Authorization", "Bearer s3cret-key").status());
            assertEquals(200, http.post("/predict", predict("a film"), "X-API-Key", "s3cret-key").status());
            assertEquals(200, http.get("/metrics", "X-API-Key", "s3cret-key").status());
            assertEquals(200, http.get("/v2/health/live").status(), "probes need no key");
            assertEquals(200, http.get("/v2/health/ready").status());
        }
        assertThrows(IllegalArgumentException.class, () -> ApiKeys.read(Files.writeString(tmp.resolve("empty.txt"), "\n")));
        assertThrows(IllegalArgumentException.class, () -> ApiKeys.read(tmp.resolve("missing.txt")));
    }

    @Test
    void aTakenPortFailsTheStartNamingIt() throws Exception {
        HeldScheduler s1 = new HeldScheduler(offramp.earlyExitRunner(), 4);
        try (OfframpServer first = OfframpServer.start(ServerTestModel.config(model), ServerTestModel.served(offramp, s1))) {
            HeldScheduler s2 = new HeldScheduler(offramp.earlyExitRunner(), 4);
            Exception e = assertThrows(Exception.class, () -> OfframpServer.start(ServerTestModel.config(model).withPort(first.port()),
                    ServerTestModel.served(offramp, s2)));
            assertTrue(String.valueOf(e.getMessage()).contains(Integer.toString(first.port())), e.toString());
            assertThrows(IllegalStateException.class, () -> s2.submit(offramp.encode("a film"), System.nanoTime() + 1_000_000_000L),
                    "the failed server's scheduler was shut down");
        }
    }
}
