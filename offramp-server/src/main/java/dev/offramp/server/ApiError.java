package dev.offramp.server;

/**
 * A request the server answers with an error status and {@code {"error": message}}. The message names the problem
 * (which field, which input, what was expected), so a client can fix its request without reading server logs.
 */
final class ApiError extends RuntimeException {
    final int status;
    final String retryAfterSeconds; // Retry-After header for 429/503, or null

    ApiError(int status, String message) {
        this(status, message, null);
    }

    ApiError(int status, String message, String retryAfterSeconds) {
        super(message, null, false, false); // no stack trace: these are expected answers, not bugs
        this.status = status;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    static ApiError badRequest(String message) {
        return new ApiError(400, message);
    }
}
