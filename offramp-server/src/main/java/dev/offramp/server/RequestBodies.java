package dev.offramp.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.javalin.http.Context;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * Reading and checking request bodies and the fields both protocols share. Every failure is an {@link ApiError}
 * whose message names the field and what was expected.
 */
final class RequestBodies {
    static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    /** The header a client may name its deadline in, in milliseconds from arrival. */
    static final String DEADLINE_HEADER = "X-Deadline-Ms";

    private RequestBodies() {}

    /** The body as a JSON object; 413 above maxBytes (checked on Content-Length first, then while reading). */
    static JsonNode readObject(Context ctx, int maxBytes) {
        long declared = ctx.req().getContentLengthLong();
        if (declared > maxBytes) throw tooLarge(declared, maxBytes);
        byte[] body;
        try (InputStream in = ctx.req().getInputStream()) {
            body = readAtMost(in, maxBytes);
        } catch (IOException e) {
            throw badRequest("could not read the request body: " + e.getMessage());
        }
        if (body == null) throw tooLarge(-1, maxBytes);
        if (body.length == 0) throw badRequest("the request body is empty: expected a JSON object");
        JsonNode node;
        try {
            node = JSON.readTree(body);
        } catch (JsonProcessingException e) {
            throw badRequest("malformed JSON: " + e.getOriginalMessage() + location(e));
        } catch (IOException e) {
            throw badRequest("could not read the request body: " + e.getMessage());
        }
        if (node == null || node.isMissingNode()) throw badRequest("the request body is empty: expected a JSON object");
        if (!node.isObject()) throw badRequest("the request body must be a JSON object, got " + kind(node));
        return node;
    }

    /** Up to max bytes, or null when the stream holds more. */
    private static byte[] readAtMost(InputStream in, int max) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(Math.min(max, 8192));
        byte[] chunk = new byte[8192];
        long total = 0;
        for (int n; (n = in.read(chunk)) != -1; ) {
            total += n;
            if (total > max) return null;
            out.write(chunk, 0, n);
        }
        return out.toByteArray();
    }

    private static ApiError tooLarge(long size, int max) {
        return new ApiError(413, "the request body " + (size >= 0 ? "has " + size + " bytes" : "is larger than the limit")
                + "; at most " + max + " bytes are accepted (server option --max-body-bytes)");
    }

    private static String location(JsonProcessingException e) {
        var loc = e.getLocation();
        return loc == null ? "" : " (line " + loc.getLineNr() + ", column " + loc.getColumnNr() + ")";
    }

    /** A boolean field, or def when absent or null. */
    static boolean bool(JsonNode obj, String field, String where, boolean def) {
        JsonNode v = obj == null ? null : obj.get(field);
        if (v == null || v.isNull()) return def;
        if (!v.isBoolean()) throw badRequest(where + field + " must be true or false, got " + kind(v));
        return v.booleanValue();
    }

    /**
     * The request's deadline as a System.nanoTime() instant: the X-Deadline-Ms header, else the body field
     * (when given), else the server default; milliseconds counted from arrival.
     */
    static long deadlineNanos(Context ctx, long arrivalNanos, JsonNode field, String fieldName, int defaultMs) {
        long ms = defaultMs;
        String header = ctx.header(DEADLINE_HEADER);
        if (header != null) {
            try {
                ms = Long.parseLong(header.strip());
            } catch (NumberFormatException e) {
                throw badRequest("header " + DEADLINE_HEADER + " must be a whole number of milliseconds, got '" + header + "'");
            }
            if (ms <= 0) throw badRequest("header " + DEADLINE_HEADER + " must be > 0 milliseconds, got " + ms);
        } else if (field != null && !field.isNull()) {
            if (!field.isIntegralNumber() || !field.canConvertToLong()) {
                throw badRequest(fieldName + " must be a whole number of milliseconds, got " + kind(field));
            }
            ms = field.longValue();
            if (ms <= 0) throw badRequest(fieldName + " must be > 0 milliseconds, got " + ms);
        }
        return arrivalNanos + Math.min(ms, Long.MAX_VALUE / 2_000_000L) * 1_000_000L;
    }

    /** A JSON value's kind for messages: "a string", "an array", "the number 3", ... */
    static String kind(JsonNode v) {
        if (v == null || v.isMissingNode()) return "nothing";
        if (v.isNull()) return "null";
        if (v.isTextual()) return "a string";
        if (v.isBoolean()) return v.booleanValue() ? "true" : "false";
        if (v.isNumber()) return "the number " + v;
        if (v.isArray()) return "an array";
        if (v.isObject()) return "an object";
        return v.getNodeType().toString().toLowerCase(java.util.Locale.ROOT);
    }

    static ApiError badRequest(String message) {
        return ApiError.badRequest(message);
    }
}
