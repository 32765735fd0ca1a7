package dev.offramp.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.offramp.api.Offramp;
import dev.offramp.api.Prediction;
import dev.offramp.api.TinyModelFolder;
import dev.offramp.exits.ExitHeads;
import dev.offramp.exits.ExitLayout;
import dev.offramp.exits.ExitTask;
import dev.offramp.exits.MultiExitModel;
import dev.offramp.exits.Pooling;
import dev.offramp.exits.TrainingRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The server as {@code ./offramp serve} starts it: from a model folder, with the real batchers (layer-level
 * continuous and dynamic) and the ONNX Runtime peer. Concurrent clients get the facade's single-call answers;
 * a tiny deadline is dropped by the real scheduler (504); the metrics show per-layer batch sizes.
 */
class ModelFolderServerTest {
    @TempDir
    static Path tmp;
    static Path model;
    static Offramp offramp;

    @BeforeAll
    static void load() throws Exception {
        model = TinyModelFolder.write(tmp.resolve("tiny"));
        offramp = Offramp.load(model);
    }

    @AfterAll
    static void close() {
        offramp.close();
    }

    @ParameterizedTest
    @EnumSource(ServerConfig.Batcher.class)
    void concurrentClientsGetTheFacadeAnswers(ServerConfig.Batcher batcher) throws Exception {
        ServerConfig c = ServerTestModel.config(model).withBatcher(batcher, 16, 2);
        List<String> texts = TinyModelFolder.texts(60, 21);
        try (OfframpServer server = OfframpServer.start(c)) {
            Http http = new Http(server.url());
            List<CompletableFuture<Http.Answer>> answers = new ArrayList<>();
            for (String t : texts) answers.add(http.postAsync("/predict", Http.json(Map.of("inputs", t))));
            for (int i = 0; i < texts.size(); i++) {
                Http.Answer a = answers.get(i).get(60, TimeUnit.SECONDS);
                assertEquals(200, a.status(), a.body());
                Prediction want = offramp.classify(texts.get(i));
                JsonNode top = a.json().get(0);
                assertEquals(want.label(), top.get("label").asText(), texts.get(i));
                assertEquals(want.score(), top.get("score").floatValue(), 1e-4f, texts.get(i));
                assertEquals(want.exitLayer(), top.get("exit_layer").asInt(), texts.get(i));
            }
            String metrics = http.get("/metrics").body();
            double answered = value(metrics, "offramp_inputs_answered_total");
            assertEquals(texts.size(), answered, 0.0);
            double exitSum = value(metrics, "offramp_exit_layer_sum");
            double saved = value(metrics, "offramp_layers_saved_total");
            assertEquals(texts.size() * TinyModelFolder.LAYERS - exitSum, saved, 1e-6, "layers saved = L·n − Σ exit layers");
            if (batcher == ServerConfig.Batcher.CONTINUOUS) {
                assertTrue(value(metrics, "offramp_batch_size_count{layer=\"1\"}") > 0, "layer steps are tagged by layer");
            } else {
                assertTrue(value(metrics, "offramp_batch_size_count{layer=\"0\"}") > 0, "whole batches are layer 0");
            }
            assertEquals(0, value(metrics, "offramp_queue_depth"), 0.0);
        }
    }

    @Test
    void theRealSchedulerDropsARequestPastItsDeadline() throws Exception {
        try (OfframpServer server = OfframpServer.start(ServerTestModel.config(model))) {
            Http http = new Http(server.url());
            // a deadline of 1 ms has passed before the scheduler's first step (reading and encoding 1000 inputs
            // alone takes longer): they are dropped, not run
            StringBuilder batch = new StringBuilder("{\"inputs\": [");
            for (int i = 0; i < 1000; i++) batch.append(i == 0 ? "" : ",").append("[\"the movie was good and the plot was great\"]");
            Http.Answer a = http.post("/predict", batch.append("]}").toString(), RequestBodies.DEADLINE_HEADER, "1");
            assertEquals(504, a.status(), a.body());
            assertTrue(value(http.get("/metrics").body(), "offramp_deadline_expired_total") >= 1);
            assertEquals(200, http.post("/predict", "{\"inputs\": \"a film\"}").status(), "the scheduler goes on");
        }
    }

    /**
     * A stop while clients keep sending: every request the server took in got its answer to its client, 200
     * (accepted, with the facade's answer) or 503 (refused); the rest never reached it (503 from Jetty's own
     * graceful stop, connection refused, or closed before a request was read).
     */
    @Test
    void stopUnderLoadAnswersEveryAcceptedRequest() throws Exception {
        OfframpServer server = OfframpServer.start(ServerTestModel.config(model).withBatcher(ServerConfig.Batcher.CONTINUOUS, 8, 2));
        Http http = new Http(server.url(), java.time.Duration.ofSeconds(5));  // a connection the stopping socket dropped fails
        List<CompletableFuture<Http.Answer>> answers = new ArrayList<>();
        List<String> texts = TinyModelFolder.texts(200, 77);
        CompletableFuture<Boolean> stopped = null;
        for (int i = 0; i < texts.size(); i++) {
            if (i == 50) {  // stop once the server is busy: some requests answered, some in flight
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                while (answers.stream().filter(CompletableFuture::isDone).count() < 10 && System.nanoTime() < end) Thread.sleep(1);
                stopped = CompletableFuture.supplyAsync(server::stop);
            }
            answers.add(http.postAsync("/predict", Http.json(Map.of("inputs", texts.get(i)))));
        }
        assertTrue(stopped.get(60, TimeUnit.SECONDS), "the drain answered everything it accepted");
        int ok = 0, refused = 0, refusedByJetty = 0, neverReached = 0;
        for (int i = 0; i < answers.size(); i++) {
            try {
                Http.Answer a = answers.get(i).get(30, TimeUnit.SECONDS);
                if (a.status() == 200) {
                    ok++;
                    assertEquals(offramp.classify(texts.get(i)).label(), a.json().get(0).get("label").asText());
                } else {
                    assertEquals(503, a.status(), a.body());
                    if (a.body().contains("shutting down")) refused++;
                    else refusedByJetty++;  // arrived while Jetty itself stopped, after the drain
                }
            } catch (java.util.concurrent.ExecutionException e) {
                neverReached++;  // refused or closed by the stopping socket before any request was read
            }
        }
        assertEquals(texts.size(), ok + refused + refusedByJetty + neverReached);
        assertTrue(ok >= 10, "the requests answered before the stop, got " + ok);
        String metrics = server.metrics().scrape();
        assertEquals(ok, value(metrics, "offramp_inputs_answered_total"), 0.0, "each accepted input answered once");
        double handled = 0;
        Matcher m = Pattern.compile("^offramp_requests_total\\{.*\\} (\\S+)$", Pattern.MULTILINE).matcher(metrics);
        while (m.find()) handled += Double.parseDouble(m.group(1));
        assertEquals(ok + refused, handled, 0.0, "every request the server handled reached its client");
    }

    @Test
    void fullPolicyRunsEveryLayer() throws Exception {
        try (OfframpServer server = OfframpServer.start(ServerTestModel.config(model).withPolicy("full", 0.5))) {
            JsonNode r = new Http(server.url()).post("/predict", "{\"inputs\": [[\"a film\"], [\"the plot was dull\"]]}").json();
            for (JsonNode x : r) assertEquals(TinyModelFolder.LAYERS, x.get(0).get("exit_layer").asInt());
        }
    }

    @Test
    void missingCalibrationFailsAtStartNamingTheFile() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> OfframpServer.start(ServerTestModel.config(model).withPolicy("entropy", 0.5)));
        assertTrue(e.getMessage().contains("entropy"), e.getMessage());
    }

    /**
     * The ONNX Runtime peer on a model whose exits sit on the frozen, published all-MiniLM-L6-v2: its answers
     * must be the model's full-depth answers (the same last exit on the same backbone, run by another engine).
     */
    @Test
    void onnxRuntimeEngineAnswersLikeOfframpAtFullDepth() throws Exception {
        Path dir = tmp.resolve("minilm");
        ExitHeads heads = ExitHeads.create(384, 6, 2, new ExitLayout(Pooling.MEAN, false, true), null, 3);
        ObjectNode opts = RequestBodies.JSON.createObjectNode().put("max_length", 64);
        new MultiExitModel("all-minilm-l6-v2", ExitTask.classification("sst2", List.of("negative", "positive")), heads, null,
                new TrainingRecord("frozen", 0, 0, 0, 0, "accuracy", new double[6], opts), null).save(dir);
        List<String> texts = List.of("a gorgeous, witty, seductive movie.", "the plot is nothing but boilerplate clichés",
                "it's a charming and often affecting journey.", "unflinchingly bleak and desperate");
        try (Offramp full = Offramp.load(dir, Offramp.Options.defaults().withPolicy("full"));
             OfframpServer server = OfframpServer.start(ServerConfig.defaults(dir).withPort(0)
                     .withEngine(ServerConfig.Engine.ONNXRUNTIME).withBatcher(ServerConfig.Batcher.CONTINUOUS, 8, 2))) {
            Http http = new Http(server.url());
            JsonNode meta = http.get("/v2/models/minilm").json();
            assertEquals("onnxruntime", meta.get("platform").asText());
            assertTrue(meta.get("parameters").get("note").asText().contains("frozen"), meta.toString());
            assertTrue(meta.get("parameters").get("note").asText().contains("dynamic"), "ONNX Runtime is served by the dynamic batcher");
            JsonNode r = http.post("/v2/models/minilm/infer", Http.json(Map.of("inputs", List.of(Map.of("name", "text",
                    "datatype", "BYTES", "shape", List.of(texts.size()), "data", texts))))).json();
            JsonNode prob = OfframpServerTest.output(r, "probabilities").get("data");
            JsonNode exit = OfframpServerTest.output(r, "exit_layer").get("data");
            for (int i = 0; i < texts.size(); i++) {
                Prediction want = full.classify(texts.get(i));
                assertEquals(6, exit.get(i).asInt());
                for (int k = 0; k < 2; k++) assertEquals(want.probabilities()[k], prob.get(i * 2 + k).floatValue(), 1e-3f, texts.get(i));
            }
        }
    }

    /** The value of one series line (name with its labels, exactly as printed). */
    static double value(String metrics, String series) {
        Matcher m = Pattern.compile("^" + Pattern.quote(series) + " (\\S+)$", Pattern.MULTILINE).matcher(metrics);
        assertTrue(m.find(), "no series " + series);
        return Double.parseDouble(m.group(1));
    }
}
