package dev.offramp.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/** A tiny real-HTTP client for the tests (java.net.http). */
final class Http {
    static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    /** A response with its body parsed when it is JSON. */
    record Answer(int status, String body, java.net.http.HttpHeaders headers) {
        JsonNode json() {
            try {
                return JSON.readTree(body);
            } catch (IOException e) {
                throw new AssertionError("not JSON (" + status + "): " + body, e);
            }
        }

        String error() {
            return json().path("error").asText(null);
        }
    }

    private final String base;
    private final Duration timeout;

    Http(String base) {
        this(base, Duration.ofSeconds(30));
    }

    Http(String base, Duration timeout) {
        this.base = base;
        this.timeout = timeout;
    }

    Answer get(String path, String... headers) {
        return send(request(path, headers).GET().build());
    }

    Answer post(String path, String body, String... headers) {
        return send(request(path, headers).POST(HttpRequest.BodyPublishers.ofString(body)).build());
    }

    CompletableFuture<Answer> postAsync(String path, String body, String... headers) {
        return CLIENT.sendAsync(request(path, headers).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString()).thenApply(r -> new Answer(r.statusCode(), r.body(), r.headers()));
    }

    Answer send(HttpRequest r) {
        try {
            HttpResponse<String> res = CLIENT.send(r, HttpResponse.BodyHandlers.ofString());
            return new Answer(res.statusCode(), res.body(), res.headers());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    HttpRequest.Builder request(String path, String... headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(timeout)
                .header("Content-Type", "application/json");
        for (int i = 0; i < headers.length; i += 2) b.header(headers[i], headers[i + 1]);
        return b;
    }

    static String json(Object o) {
        try {
            return JSON.writeValueAsString(o);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
