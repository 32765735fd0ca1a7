package dev.offramp.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.offramp.api.Offramp;
import dev.offramp.api.Prediction;
import dev.offramp.api.TinyModelFolder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Real HTTP against a server on an ephemeral port, in front of the tiny model (through the facade) and a batching
 * scheduler: both protocols' shapes and answers (equal to the facade's single calls), and every error case.
 */
class OfframpServerTest {
    @TempDir
    static Path tmp;
    static Offramp offramp;
    static HeldScheduler scheduler;
    static OfframpServer server;
    static Http http;
    static String name;

    @BeforeAll
    static void start() throws Exception {
        Path model = ServerTestModel.write(tmp);
        offramp = Offramp.load(model);
        scheduler = new HeldScheduler(offramp.earlyExitRunner(), 256);
        server = OfframpServer.start(ServerTestModel.config(model).withLimits(256, 10_000, 4096, 200),
                ServerTestModel.served(offramp, scheduler));
        http = new Http(server.url());
        name = offramp.info().name();
    }

    @AfterAll
    static void stop() {
        if (server != null) assertTrue(server.stop(), "every accepted request was answered");
        if (offramp != null) offramp.close();
    }

    static String oip(List<String> texts) {
        return Http.json(Map.of("id", "r1", "inputs", List.of(Map.of("name", "text", "datatype", "BYTES",
                "shape", List.of(texts.size()), "data", texts))));
    }

    static JsonNode output(JsonNode resp, String name) {
        for (JsonNode o : resp.get("outputs")) if (o.get("name").asText().equals(name)) return o;
        throw new AssertionError("no output " + name + " in " + resp);
    }

    @Test
    void oipInferAnswersWhatTheFacadeAnswersAlone() {
        List<String> texts = TinyModelFolder.texts(7, 11);
        Http.Answer a = http.post("/v2/models/" + name + "/infer", oip(texts));
        assertEquals(200, a.status(), a.body());
        JsonNode r = a.json();
        assertEquals(name, r.get("model_name").asText());
        assertEquals("r1", r.get("id").asText());
        JsonNode label = output(r, "label"), prob = output(r, "probabilities"), exit = output(r, "exit_layer");
        assertEquals("BYTES", label.get("datatype").asText());
        assertEquals("FP32", prob.get("datatype").asText());
        assertEquals("INT32", exit.get("datatype").asText());
        assertEquals(List.of(7, 3), List.of(prob.get("shape").get(0).asInt(), prob.get("shape").get(1).asInt()));
        for (int i = 0; i < texts.size(); i++) {
            Prediction want = offramp.classify(texts.get(i));
            assertEquals(want.label(), label.get("data").get(i).asText(), texts.get(i));
            assertEquals(want.exitLayer(), exit.get("data").get(i).asInt(), texts.get(i));
            for (int c = 0; c < 3; c++) assertEquals(want.probabilities()[c], prob.get("data").get(i * 3 + c).floatValue(), 1e-4f);
        }
    }

    @Test
    void oipPairsAndNestedDataAndChosenOutputs() {
        String body = Http.json(Map.of("inputs", List.of(
                        Map.of("name", "text", "datatype", "BYTES", "shape", List.of(2, 1), "data", List.of(List.of("the movie"), List.of("a film"))),
                        Map.of("name", "text_pair", "datatype", "BYTES", "shape", List.of(2), "data", List.of("was good", "is bad"))),
                "outputs", List.of(Map.of("name", "exit_layer"), Map.of("name", "label"))));
        Http.Answer a = http.post("/v2/models/" + name + "/infer", body);
        assertEquals(200, a.status(), a.body());
        JsonNode outs = a.json().get("outputs");
        assertEquals(2, outs.size(), "only the outputs asked for");
        assertEquals("exit_layer", outs.get(0).get("name").asText());
        assertEquals(offramp.classify("the movie", "was good").label(), output(a.json(), "label").get("data").get(0).asText());
        assertEquals(offramp.classify("a film", "is bad").exitLayer(), output(a.json(), "exit_layer").get("data").get(1).asInt());
    }

    @Test
    void oipHealthAndMetadata() {
        assertEquals(200, http.get("/v2/health/live").status());
        assertEquals(200, http.get("/v2/health/ready").status());
        assertEquals(200, http.get("/v2/models/" + name + "/ready").status());
        assertEquals(200, http.get("/v2/models/" + name + "/versions/1/ready").status());
        JsonNode m = http.get("/v2/models/" + name).json();
        assertEquals(name, m.get("name").asText());
        assertEquals("offramp", m.get("platform").asText());
        assertEquals("text", m.get("inputs").get(0).get("name").asText());
        assertEquals("BYTES", m.get("inputs").get(0).get("datatype").asText());
        List<String> outs = new ArrayList<>();
        m.get("outputs").forEach(o -> outs.add(o.get("name").asText()));
        assertEquals(List.of("label", "probabilities", "score", "exit_layer"), outs);
        assertEquals(TinyModelFolder.LAYERS, m.get("parameters").get("layers").asInt());
        assertEquals("offramp", http.get("/v2").json().get("name").asText());
    }

    @Test
    void teiSingleTextPairAndBatch() {
        // one text: every class, highest score first, each with the exit layer
        Http.Answer one = http.post("/predict", "{\"inputs\": \"the movie was good\"}");
        assertEquals(200, one.status(), one.body());
        JsonNode list = one.json();
        Prediction want = offramp.classify("the movie was good");
        assertEquals(3, list.size());
        assertEquals(want.label(), list.get(0).get("label").asText());
        assertEquals(want.score(), list.get(0).get("score").floatValue(), 1e-4f);
        assertTrue(list.get(0).get("score").floatValue() >= list.get(1).get("score").floatValue());
        assertTrue(list.get(1).get("score").floatValue() >= list.get(2).get("score").floatValue());
        for (JsonNode e : list) assertEquals(want.exitLayer(), e.get("exit_layer").asInt());
        // a flat array of two strings is ONE pair, as in TEI
        JsonNode pair = http.post("/predict", "{\"inputs\": [\"the plot\", \"was dull\"]}").json();
        assertEquals(offramp.classify("the plot", "was dull").label(), pair.get(0).get("label").asText());
        // a batch of singles and pairs: a list of lists
        Http.Answer batch = http.post("/predict", "{\"inputs\": [[\"a film\"], [\"the plot\", \"was dull\"], [\"i liked it\"]]}");
        assertEquals(200, batch.status(), batch.body());
        JsonNode b = batch.json();
        assertEquals(3, b.size());
        assertEquals(offramp.classify("a film").label(), b.get(0).get(0).get("label").asText());
        assertEquals(offramp.classify("the plot", "was dull").label(), b.get(1).get(0).get("label").asText());
        assertEquals(offramp.classify("i liked it").exitLayer(), b.get(2).get(0).get("exit_layer").asInt());
    }

    @Test
    void truncateCutsALongTextInsteadOfRefusingIt() {
        String longText = String.join(" ", java.util.Collections.nCopies(40, "movie"));  // 42 tokens > 24
        Http.Answer refused = http.post("/predict", Http.json(Map.of("inputs", longText)));
        assertEquals(400, refused.status());
        assertTrue(refused.error().contains("truncate"), refused.error());
        Http.Answer cut = http.post("/predict", Http.json(Map.of("inputs", longText, "truncate", true)));
        assertEquals(200, cut.status(), cut.body());
        String cutText = String.join(" ", java.util.Collections.nCopies(22, "movie"));  // what the cut keeps
        assertEquals(offramp.classify(cutText).label(), cut.json().get(0).get("label").asText());
        Http.Answer oip = http.post("/v2/models/" + name + "/infer", Http.json(Map.of("parameters", Map.of("truncate", true),
                "inputs", List.of(Map.of("name", "text", "datatype", "BYTES", "shape", List.of(1), "data", List.of(longText))))));
        assertEquals(200, oip.status(), oip.body());
    }

    /** Every bad input gets a 4xx with a JSON error naming the problem. */
    @Test
    void badRequestsAreNamed() {
        String infer = "/v2/models/" + name + "/infer";
        record Case(String what, String method, String path, String body, int status, String mentions) {}
        String tooLong = "movie ".repeat(201);
        List<Case> cases = List.of(
                new Case("malformed JSON", "POST", "/predict", "{\"inputs\": ", 400, "malformed JSON"),
                new Case("trailing garbage", "POST", "/predict", "{\"inputs\": \"a\"} x", 400, "malformed JSON"),
                new Case("empty body", "POST", "/predict", "", 400, "empty"),
                new Case("body not an object", "POST", "/predict", "[1]", 400, "JSON object"),
                new Case("inputs missing", "POST", "/predict", "{}", 400, "inputs"),
                new Case("inputs a number", "POST", "/predict", "{\"inputs\": 3}", 400, "the number 3"),
                new Case("three strings", "POST", "/predict", "{\"inputs\": [\"a\", \"b\", \"c\"]}", 400, "ONE input"),
                new Case("batch element not an array", "POST", "/predict", "{\"inputs\": [[\"a\"], \"b\"]}", 400, "inputs[1]"),
                new Case("number in a batch", "POST", "/predict", "{\"inputs\": [[\"a\"], [7]]}", 400, "inputs[1][0]"),
                new Case("empty text", "POST", "/predict", "{\"inputs\": \"  \"}", 400, "empty"),
                new Case("empty pair text", "POST", "/predict", "{\"inputs\": [[\"a\"], [\"b\", \"\"]]}", 400, "inputs[1]"),
                new Case("text over the character limit", "POST", "/predict", Http.json(Map.of("inputs", tooLong)), 400, "characters"),
                new Case("text over the token limit", "POST", "/predict", Http.json(Map.of("inputs", "movie ".repeat(30))), 400, "at most"),
                new Case("truncate not a boolean", "POST", "/predict", "{\"inputs\": \"a\", \"truncate\": \"yes\"}", 400, "truncate"),
                new Case("raw scores", "POST", "/predict", "{\"inputs\": \"a\", \"raw_scores\": true}", 400, "raw_scores"),
                new Case("left truncation", "POST", "/predict", "{\"inputs\": \"a\", \"truncation_direction\": \"Left\"}", 400, "Right"),
                new Case("deadline not a number", "POST", "/predict", "{\"inputs\": \"a\", \"deadline_ms\": \"soon\"}", 400, "deadline_ms"),
                new Case("OIP FP32 input", "POST", infer, "{\"inputs\": [{\"name\": \"text\", \"datatype\": \"FP32\", \"shape\": [1], \"data\": [1.0]}]}", 400, "BYTES"),
                new Case("OIP shape mismatch", "POST", infer, "{\"inputs\": [{\"name\": \"text\", \"datatype\": \"BYTES\", \"shape\": [3], \"data\": [\"a\"]}]}", 400, "shape"),
                new Case("OIP no inputs", "POST", infer, "{\"inputs\": []}", 400, "1 tensor"),
                new Case("OIP number in data", "POST", infer, "{\"inputs\": [{\"name\": \"text\", \"datatype\": \"BYTES\", \"shape\": [2], \"data\": [\"a\", 5]}]}", 400, "data[1]"),
                new Case("OIP pair count mismatch", "POST", infer, "{\"inputs\": [{\"name\": \"text\", \"datatype\": \"BYTES\", \"shape\": [2], \"data\": [\"a\", \"b\"]}, {\"name\": \"text_pair\", \"datatype\": \"BYTES\", \"shape\": [1], \"data\": [\"c\"]}]}", 400, "pair"),
                new Case("OIP empty text", "POST", infer, "{\"inputs\": [{\"name\": \"text\", \"datatype\": \"BYTES\", \"shape\": [2], \"data\": [\"a film\", \"\"]}]}", 400, "inputs[0].data[1]"),
                new Case("OIP unknown output", "POST", infer, "{\"inputs\": [{\"name\": \"text\", \"datatype\": \"BYTES\", \"shape\": [1], \"data\": [\"a\"]}], \"outputs\": [{\"name\": \"logits\"}]}", 400, "logits"),
                new Case("OIP parameters not an object", "POST", infer, "{\"parameters\": 1, \"inputs\": [{\"name\": \"text\", \"datatype\": \"BYTES\", \"shape\": [1], \"data\": [\"a\"]}]}", 400, "parameters"),
                new Case("unknown model", "POST", "/v2/models/nope/infer", oip(List.of("a")), 404, "nope"),
                new Case("unknown model metadata", "GET", "/v2/models/nope", null, 404, "nope"),
                new Case("unknown version", "GET", "/v2/models/" + name + "/versions/7", null, 404, "version"),
                new Case("unknown route", "GET", "/v1/embeddings", null, 404, "/v1/embeddings"),
                new Case("wrong method", "GET", "/predict", null, 405, "GET"),
                new Case("body over the limit", "POST", "/predict", Http.json(Map.of("inputs", "a ".repeat(3000))), 413, "4096"));
        for (Case c : cases) {
            Http.Answer a = c.method.equals("GET") ? http.get(c.path) : http.post(c.path, c.body);
            assertEquals(c.status, a.status(), c.what + ": " + a.body());
            assertTrue(a.headers().firstValue("Content-Type").orElse("").startsWith("application/json"), c.what);
            String err = a.error();
            assertNotNull(err, c.what + ": " + a.body());
            assertTrue(err.contains(c.mentions), c.what + ": the error should mention '" + c.mentions + "': " + err);
        }
        Http.Answer badHeader = http.post("/predict", "{\"inputs\": \"a\"}", RequestBodies.DEADLINE_HEADER, "-3");
        assertEquals(400, badHeader.status());
        assertTrue(badHeader.error().contains(RequestBodies.DEADLINE_HEADER));
        // and the scheduler still answers after all that
        assertEquals(200, http.post("/predict", "{\"inputs\": \"a film\"}").status());
    }

    @Test
    void concurrentClientsGetTheSingleCallAnswers() throws Exception {
        List<String> texts = TinyModelFolder.texts(48, 5);
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<Http.Answer>> answers = new ArrayList<>();
            for (String t : texts) answers.add(pool.submit(() -> http.post("/predict", Http.json(Map.of("inputs", t)))));
            for (int i = 0; i < texts.size(); i++) {
                Http.Answer a = answers.get(i).get(30, TimeUnit.SECONDS);
                assertEquals(200, a.status(), a.body());
                Prediction want = offramp.classify(texts.get(i));
                JsonNode top = a.json().get(0);
                assertEquals(want.label(), top.get("label").asText(), texts.get(i));
                assertEquals(want.score(), top.get("score").floatValue(), 1e-4f, texts.get(i));
                assertEquals(want.exitLayer(), top.get("exit_layer").asInt(), texts.get(i));
            }
        } finally {
            pool.shutdown();
        }
    }

    @Test
    void metricsCarryTheSeries() {
        assertEquals(200, http.post("/predict", "{\"inputs\": \"the best film\"}").status());
        http.get("/nowhere");
        Http.Answer m = http.get("/metrics");
        assertEquals(200, m.status());
        assertTrue(m.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"));
        for (String series : List.of("offramp_requests_total{route=\"/predict\",status=\"200\"}",
                "offramp_requests_total{route=\"unmatched\",status=\"404\"}",
                "offramp_request_duration_seconds_bucket{route=\"/predict\",status=\"200\",le=",
                "offramp_queue_depth ", "offramp_batch_size_bucket{layer=\"3\",le=\"8.0\"}", "offramp_exit_layer_bucket{le=\"6.0\"}",
                "offramp_layers_saved_total ", "offramp_deadline_expired_total ")) {
            assertTrue(m.body().contains(series), "missing " + series);
        }
    }

    @Test
    void openApiDocumentListsTheRoutes() {
        Http.Answer a = http.get("/openapi.json");
        assertEquals(200, a.status());
        JsonNode paths = a.json().get("paths");
        for (String p : List.of("/v2/health/live", "/v2/health/ready", "/v2/models/{name}", "/v2/models/{name}/ready",
                "/v2/models/{name}/infer", "/predict", "/metrics")) {
            assertTrue(paths.has(p), "openapi.json lacks " + p);
        }
        assertTrue(a.json().get("openapi").asText().startsWith("3."));
    }

    @Test
    void asyncRequestsAllComplete() throws Exception {
        List<CompletableFuture<Http.Answer>> fs = new ArrayList<>();
        for (String t : TinyModelFolder.texts(20, 9)) fs.add(http.postAsync("/predict", Http.json(Map.of("inputs", t))));
        for (CompletableFuture<Http.Answer> f : fs) assertEquals(200, f.get(30, TimeUnit.SECONDS).status());
    }
}
