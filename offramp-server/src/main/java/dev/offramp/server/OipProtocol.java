package dev.offramp.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.offramp.api.Prediction;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The Open Inference Protocol v2 (KServe, Triton) REST shapes for a text classifier.
 *
 * <p>Request: {@code {"id": "...", "parameters": {"truncate": bool, "deadline_ms": int}, "inputs": [{"name": "text",
 * "datatype": "BYTES", "shape": [n], "data": ["...", ...]}, {"name": "text_pair", ...}], "outputs": [{"name": ...}]}}.
 * The first input holds the texts; a second input (named {@code text_pair}, or simply the second) holds the pairs'
 * second texts. Data may be flat or nested as the shape says; its element count must equal the shape's product.
 *
 * <p>Response outputs, in this order (a request's {@code outputs} list picks a subset): {@code label} (BYTES [n]; absent
 * for regression), {@code probabilities} (FP32 [n, classes]; [n, 1] = the score for regression), {@code score}
 * (FP32 [n]: the predicted class's probability or the regression score), {@code exit_layer} (INT32 [n], 1-based).
 */
final class OipProtocol {
    static final String TEXT = "text", TEXT_PAIR = "text_pair";
    static final String LABEL = "label", PROBABILITIES = "probabilities", SCORE = "score", EXIT_LAYER = "exit_layer";

    /** A parsed infer request. */
    record InferRequest(String id, List<InferenceCall.Input> inputs, boolean truncate, JsonNode deadlineField,
                        Set<String> outputs) {}

    private OipProtocol() {}

    static List<String> outputNames(ServedModel m) {
        return m.regression() ? List.of(PROBABILITIES, SCORE, EXIT_LAYER) : List.of(LABEL, PROBABILITIES, SCORE, EXIT_LAYER);
    }

    static InferRequest parse(JsonNode body, ServedModel model) {
        String id = null;
        JsonNode idNode = body.get("id");
        if (idNode != null && !idNode.isNull()) {
            if (!idNode.isTextual()) throw ApiError.badRequest("id must be a string, got " + RequestBodies.kind(idNode));
            id = idNode.textValue();
        }
        JsonNode params = body.get("parameters");
        if (params != null && !params.isNull() && !params.isObject()) {
            throw ApiError.badRequest("parameters must be an object, got " + RequestBodies.kind(params));
        }
        boolean truncate = RequestBodies.bool(params, "truncate", "parameters.", false);
        JsonNode deadline = params == null ? null : params.get("deadline_ms");

        JsonNode inputs = body.get("inputs");
        if (inputs == null || inputs.isNull()) throw ApiError.badRequest("the request has no \"inputs\": expected an array of 1 or 2 BYTES tensors");
        if (!inputs.isArray()) throw ApiError.badRequest("inputs must be an array of tensors, got " + RequestBodies.kind(inputs));
        if (inputs.isEmpty() || inputs.size() > 2) {
            throw ApiError.badRequest("inputs must hold 1 tensor (texts) or 2 (texts and their pairs' second texts), got " + inputs.size());
        }
        int textAt = 0, pairAt = -1;
        if (inputs.size() == 2) {
            boolean firstIsPair = TEXT_PAIR.equals(inputs.get(0).path("name").asText(null));
            textAt = firstIsPair ? 1 : 0;
            pairAt = firstIsPair ? 0 : 1;
        }
        List<String> texts = tensorTexts(inputs.get(textAt), textAt);
        List<String> pairs = pairAt < 0 ? null : tensorTexts(inputs.get(pairAt), pairAt);
        if (pairs != null && pairs.size() != texts.size()) {
            throw ApiError.badRequest("inputs[" + textAt + "] has " + texts.size() + " texts but inputs[" + pairAt + "] has "
                    + pairs.size() + ": a pair needs one of each");
        }
        List<InferenceCall.Input> list = new ArrayList<>(texts.size());
        for (int i = 0; i < texts.size(); i++) list.add(new InferenceCall.Input(texts.get(i), pairs == null ? null : pairs.get(i)));

        Set<String> outputs = new LinkedHashSet<>(outputNames(model));
        JsonNode wanted = body.get("outputs");
        if (wanted != null && !wanted.isNull()) {
            if (!wanted.isArray()) throw ApiError.badRequest("outputs must be an array of {\"name\": ...}, got " + RequestBodies.kind(wanted));
            Set<String> picked = new LinkedHashSet<>();
            for (int i = 0; i < wanted.size(); i++) {
                JsonNode name = wanted.get(i).get("name");
                if (name == null || !name.isTextual()) throw ApiError.badRequest("outputs[" + i + "].name must be a string");
                if (!outputs.contains(name.textValue())) {
                    throw ApiError.badRequest("outputs[" + i + "]: unknown output '" + name.textValue() + "' (this model has " + outputs + ")");
                }
                picked.add(name.textValue());
            }
            if (!picked.isEmpty()) outputs = picked;
        }
        return new InferRequest(id, list, truncate, deadline, outputs);
    }

    private static List<String> tensorTexts(JsonNode t, int index) {
        String where = "inputs[" + index + "]";
        if (!t.isObject()) throw ApiError.badRequest(where + " must be a tensor object {name, shape, datatype, data}, got " + RequestBodies.kind(t));
        JsonNode name = t.get("name");
        if (name == null || !name.isTextual()) throw ApiError.badRequest(where + ".name must be a string");
        JsonNode dt = t.get("datatype");
        if (dt == null || !dt.isTextual()) throw ApiError.badRequest(where + ".datatype must be a string (BYTES)");
        if (!dt.textValue().equals("BYTES")) {
            throw ApiError.badRequest(where + ".datatype must be BYTES (the tensor holds texts), got " + dt.textValue());
        }
        JsonNode shape = t.get("shape");
        if (shape == null || !shape.isArray() || shape.isEmpty()) throw ApiError.badRequest(where + ".shape must be a non-empty array of sizes");
        long count = 1;
        for (JsonNode d : shape) {
            if (!d.isIntegralNumber() || d.longValue() < 0) throw ApiError.badRequest(where + ".shape must hold sizes >= 0, got " + shape);
            count *= d.longValue();
            if (count > Integer.MAX_VALUE) throw ApiError.badRequest(where + ".shape " + shape + " is too large");
        }
        JsonNode data = t.get("data");
        if (data == null || data.isNull()) throw ApiError.badRequest(where + " has no data");
        List<String> texts = new ArrayList<>();
        flatten(data, texts, where + ".data");
        if (texts.size() != count) {
            throw ApiError.badRequest(where + ".data has " + texts.size() + " elements but shape " + shape + " says " + count);
        }
        if (texts.isEmpty()) throw ApiError.badRequest(where + " holds no texts");
        return texts;
    }

    private static void flatten(JsonNode v, List<String> out, String where) {
        if (v.isTextual()) {
            out.add(v.textValue());
        } else if (v.isArray()) {
            for (int i = 0; i < v.size(); i++) flatten(v.get(i), out, where + "[" + i + "]");
        } else {
            throw ApiError.badRequest(where + " must hold strings (BYTES), got " + RequestBodies.kind(v));
        }
    }

    static ObjectNode response(ServedModel m, InferRequest req, Prediction[] p) {
        ObjectNode root = RequestBodies.JSON.createObjectNode();
        root.put("model_name", m.name());
        root.put("model_version", m.version());
        if (req.id() != null) root.put("id", req.id());
        ArrayNode outs = root.putArray("outputs");
        int n = p.length, k = m.outputs();
        for (String name : req.outputs()) {
            ObjectNode o = outs.addObject();
            o.put("name", name);
            ArrayNode shape = o.putArray("shape");
            shape.add(n);
            ArrayNode data;
            switch (name) {
                case LABEL -> {
                    o.put("datatype", "BYTES");
                    data = o.putArray("data");
                    for (Prediction x : p) data.add(x.label());
                }
                case PROBABILITIES -> {
                    shape.add(k);
                    o.put("datatype", "FP32");
                    data = o.putArray("data");
                    for (Prediction x : p) for (float v : x.probabilities()) data.add(v);
                }
                case SCORE -> {
                    o.put("datatype", "FP32");
                    data = o.putArray("data");
                    for (Prediction x : p) data.add(x.score());
                }
                case EXIT_LAYER -> {
                    o.put("datatype", "INT32");
                    data = o.putArray("data");
                    for (Prediction x : p) data.add(x.exitLayer());
                }
                default -> throw new IllegalStateException("unknown output " + name);
            }
        }
        return root;
    }

    /** {@code GET /v2/models/{name}}: the model metadata response of the spec. */
    static ObjectNode metadata(ServedModel m) {
        ObjectNode root = RequestBodies.JSON.createObjectNode();
        root.put("name", m.name());
        root.putArray("versions").add(m.version());
        root.put("platform", m.platform());
        ArrayNode in = root.putArray("inputs");
        tensor(in, TEXT, "BYTES", -1);
        tensor(in, TEXT_PAIR, "BYTES", -1).put("optional", true);
        ArrayNode out = root.putArray("outputs");
        for (String name : outputNames(m)) {
            switch (name) {
                case LABEL -> tensor(out, name, "BYTES", -1);
                case PROBABILITIES -> tensor(out, name, "FP32", -1, m.outputs());
                case SCORE -> tensor(out, name, "FP32", -1);
                case EXIT_LAYER -> tensor(out, name, "INT32", -1);
                default -> throw new IllegalStateException(name);
            }
        }
        ObjectNode params = root.putObject("parameters");
        ArrayNode labels = params.putArray("labels");
        m.labels().forEach(labels::add);
        params.put("layers", m.layers());
        params.put("max_tokens", m.maxTokens());
        if (m.note() != null) params.put("note", m.note());
        return root;
    }

    private static ObjectNode tensor(ArrayNode list, String name, String datatype, int... shape) {
        ObjectNode t = list.addObject();
        t.put("name", name);
        t.put("datatype", datatype);
        ArrayNode s = t.putArray("shape");
        for (int d : shape) s.add(d);
        return t;
    }
}
