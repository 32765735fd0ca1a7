package dev.offramp.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.offramp.api.Prediction;

import java.util.ArrayList;
import java.util.List;

/**
 * Hugging Face text-embeddings-inference's {@code POST /predict}, as TEI reads it:
 * {@code "inputs": "text"} is one text; {@code ["a", "b"]} is ONE pair; {@code [["a"], ["b", "c"], ...]} is a batch
 * of single texts and pairs. Optional fields: {@code truncate} (bool), {@code raw_scores} (only false: the exits
 * answer probabilities, not logits), {@code truncation_direction} (only "Right"), and Offramp's
 * {@code deadline_ms}.
 *
 * <p>Answer, as TEI: for one input a list of {@code {"label", "score"}} over every class, highest score first;
 * for a batch a list of such lists. Offramp adds {@code "exit_layer"} to every entry. A regression model answers
 * one entry whose score is the predicted value.
 */
final class TeiProtocol {
    /** A parsed predict request. */
    record PredictRequest(List<InferenceCall.Input> inputs, boolean batch, boolean truncate, JsonNode deadlineField) {}

    private TeiProtocol() {}

    static PredictRequest parse(JsonNode body) {
        boolean truncate = RequestBodies.bool(body, "truncate", "", false);
        if (RequestBodies.bool(body, "raw_scores", "", false)) {
            throw ApiError.badRequest("raw_scores=true is not supported: the exits answer probabilities, not raw logits");
        }
        JsonNode dir = body.get("truncation_direction");
        if (dir != null && !dir.isNull() && !(dir.isTextual() && dir.textValue().equalsIgnoreCase("right"))) {
            throw ApiError.badRequest("truncation_direction must be \"Right\" (the only direction supported), got "
                    + (dir.isTextual() ? "'" + dir.textValue() + "'" : RequestBodies.kind(dir)));
        }
        JsonNode in = body.get("inputs");
        if (in == null || in.isNull()) {
            throw ApiError.badRequest("the request has no \"inputs\": expected a string, a pair [\"a\", \"b\"] or a batch [[\"a\"], [\"b\", \"c\"]]");
        }
        List<InferenceCall.Input> list = new ArrayList<>();
        if (in.isTextual()) return new PredictRequest(List.of(new InferenceCall.Input(in.textValue(), null)), false, truncate, body.get("deadline_ms"));
        if (!in.isArray()) throw ApiError.badRequest("inputs must be a string, a pair of strings or a batch of arrays, got " + RequestBodies.kind(in));
        if (in.isEmpty()) throw ApiError.badRequest("inputs is an empty array: expected a string, a pair or a batch");
        if (in.get(0).isTextual()) {
            // TEI: an array of strings is one input, a single text or a pair
            if (in.size() > 2) {
                throw ApiError.badRequest("inputs holds " + in.size() + " strings: a flat array is ONE input (a text or a pair);"
                        + " send a batch as [[\"a\"], [\"b\"], ...]");
            }
            list.add(sequence(in, "inputs"));
            return new PredictRequest(list, false, truncate, body.get("deadline_ms"));
        }
        for (int i = 0; i < in.size(); i++) {
            JsonNode s = in.get(i);
            if (!s.isArray()) throw ApiError.badRequest("inputs[" + i + "] must be an array of 1 or 2 strings, got " + RequestBodies.kind(s));
            list.add(sequence(s, "inputs[" + i + "]"));
        }
        return new PredictRequest(list, true, truncate, body.get("deadline_ms"));
    }

    private static InferenceCall.Input sequence(JsonNode a, String where) {
        if (a.isEmpty() || a.size() > 2) throw ApiError.badRequest(where + " must hold 1 string (a text) or 2 (a pair), got " + a.size() + " elements");
        for (int j = 0; j < a.size(); j++) {
            if (!a.get(j).isTextual()) throw ApiError.badRequest(where + "[" + j + "] must be a string, got " + RequestBodies.kind(a.get(j)));
        }
        return new InferenceCall.Input(a.get(0).textValue(), a.size() == 2 ? a.get(1).textValue() : null);
    }

    static JsonNode response(ServedModel m, PredictRequest req, Prediction[] p) {
        if (!req.batch()) return scores(m, p[0]);
        ArrayNode all = RequestBodies.JSON.createArrayNode();
        for (Prediction x : p) all.add(scores(m, x));
        return all;
    }

    private static ArrayNode scores(ServedModel m, Prediction x) {
        ArrayNode list = RequestBodies.JSON.createArrayNode();
        if (m.regression()) {
            entry(list, "LABEL_0", x.score(), x.exitLayer());
            return list;
        }
        float[] prob = x.probabilities();
        Integer[] order = new Integer[prob.length];
        for (int c = 0; c < order.length; c++) order[c] = c;
        java.util.Arrays.sort(order, (a, b) -> Float.compare(prob[b], prob[a]));
        for (int c : order) entry(list, m.labels().get(c), prob[c], x.exitLayer());
        return list;
    }

    private static void entry(ArrayNode list, String label, float score, int exitLayer) {
        ObjectNode e = list.addObject();
        e.put("label", label);
        e.put("score", score);
        e.put("exit_layer", exitLayer);
    }
}
