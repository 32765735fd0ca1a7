package dev.offramp.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.offramp.api.Prediction;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The two protocols' answer shapes for a regression model, which the tiny classifier cannot show. */
class ProtocolShapesTest {
    static final ServedModel REGRESSION = new ServedModel("stsb", "1", "offramp", List.of(), 12, 128, null,
            (a, b, t) -> { throw new AssertionError("not used"); }, null);
    static final Prediction[] P = {
            new Prediction(null, -1, new float[]{3.25f}, 3.25f, 5, 12, Float.NaN),
            new Prediction(null, -1, new float[]{0.5f}, 0.5f, 12, 12, Float.NaN)};

    @Test
    void oipRegressionHasNoLabelAndOneProbabilityColumn() throws Exception {
        JsonNode body = Http.JSON.readTree("{\"inputs\": [{\"name\": \"text\", \"datatype\": \"BYTES\", \"shape\": [2], \"data\": [\"a\", \"b\"]}]}");
        OipProtocol.InferRequest req = OipProtocol.parse(body, REGRESSION);
        assertEquals(List.of("probabilities", "score", "exit_layer"), List.copyOf(req.outputs()));
        JsonNode r = OipProtocol.response(REGRESSION, req, P);
        JsonNode prob = r.get("outputs").get(0);
        assertEquals("[2,1]", prob.get("shape").toString());
        assertEquals(3.25f, r.get("outputs").get(1).get("data").get(0).floatValue());
        assertEquals(12, r.get("outputs").get(2).get("data").get(1).asInt());
        ApiError e = assertThrows(ApiError.class, () -> OipProtocol.parse(Http.JSON.readTree(
                "{\"inputs\": [{\"name\": \"text\", \"datatype\": \"BYTES\", \"shape\": [1], \"data\": [\"a\"]}], \"outputs\": [{\"name\": \"label\"}]}"),
                REGRESSION));
        assertTrue(e.getMessage().contains("unknown output 'label'"), e.getMessage());
        JsonNode meta = OipProtocol.metadata(REGRESSION);
        assertEquals(3, meta.get("outputs").size());
        assertEquals("[-1,1]", meta.get("outputs").get(0).get("shape").toString());
    }

    @Test
    void teiRegressionAnswersOneScorePerInput() throws Exception {
        TeiProtocol.PredictRequest one = TeiProtocol.parse(Http.JSON.readTree("{\"inputs\": \"a\"}"));
        JsonNode r = TeiProtocol.response(REGRESSION, one, new Prediction[]{P[0]});
        assertEquals(1, r.size());
        assertEquals("LABEL_0", r.get(0).get("label").asText());
        assertEquals(3.25f, r.get(0).get("score").floatValue());
        assertEquals(5, r.get(0).get("exit_layer").asInt());
        TeiProtocol.PredictRequest batch = TeiProtocol.parse(Http.JSON.readTree("{\"inputs\": [[\"a\"], [\"b\", \"c\"]]}"));
        assertTrue(batch.batch());
        assertNull(batch.inputs().get(0).pair());
        assertEquals("c", batch.inputs().get(1).pair());
        JsonNode rb = TeiProtocol.response(REGRESSION, batch, P);
        assertEquals(0.5f, rb.get(1).get(0).get("score").floatValue());
    }

    @Test
    void oipTextPairMayComeFirst() throws Exception {
        ServedModel m = new ServedModel("m", "1", "offramp", List.of("no", "yes"), 12, 128, null, null, null);
        OipProtocol.InferRequest req = OipProtocol.parse(Http.JSON.readTree("{\"inputs\": ["
                + "{\"name\": \"text_pair\", \"datatype\": \"BYTES\", \"shape\": [1], \"data\": [\"second\"]},"
                + "{\"name\": \"text\", \"datatype\": \"BYTES\", \"shape\": [1], \"data\": [\"first\"]}]}"), m);
        assertEquals(new InferenceCall.Input("first", "second"), req.inputs().getFirst());
    }
}
