package dev.offramp.server;

import dev.offramp.api.Prediction;
import dev.offramp.serving.DeadlineExceededException;
import dev.offramp.serving.QueueFullException;
import dev.offramp.tokenizer.Encoding;
import dev.offramp.tokenizer.InputTooLongException;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.IntFunction;

/**
 * One request's trip through the scheduler, the same for both protocols: check and encode every input (400 naming
 * the input), submit them all (429 at once when the queue is full, 503 when the server is shutting down), and
 * join the answers (504 when the deadline passed).
 */
final class InferenceCall {
    /** One input of a request: a text, or a pair when {@code pair} is set. */
    record Input(String text, String pair) {}

    /**
     * A broken scheduler (one that forgets a deadline) must not hold a connection forever: the request is
     * answered 504 this long after its deadline whatever the scheduler does.
     */
    static final long DEADLINE_GRACE_MS = 1_000;

    private InferenceCall() {}

    /**
     * Encodes and submits the inputs; the future holds one prediction per input, in order, or fails with an
     * {@link ApiError}.
     *
     * @param where names input i in error messages, e.g. "inputs[2]"
     */
    static CompletableFuture<Prediction[]> submit(ServedModel model, List<Input> inputs, boolean truncate,
                                                  long deadlineNanos, int maxTextChars, int capacity,
                                                  IntFunction<String> where) {
        if (inputs.isEmpty()) throw ApiError.badRequest("the request holds no inputs");
        if (inputs.size() > capacity) {
            throw new ApiError(413, "the request holds " + inputs.size() + " inputs; the server's queue holds at most "
                    + capacity + " (server option --queue-capacity): split it");
        }
        List<Encoding> encodings = new ArrayList<>(inputs.size());
        for (int i = 0; i < inputs.size(); i++) {
            Input in = inputs.get(i);
            String a = checkLength(in.text(), maxTextChars, truncate, where.apply(i));
            String b = in.pair() == null ? null : checkLength(in.pair(), maxTextChars, truncate, where.apply(i) + " (second text)");
            try {
                encodings.add(model.encoder().encode(a, b, truncate));
            } catch (IllegalArgumentException e) {
                String hint = InputTooLongException.isCauseOf(e) ? " (ask for \"truncate\": true to cut it)" : "";
                throw ApiError.badRequest(where.apply(i) + ": " + e.getMessage() + hint);
            }
        }
        // refuse a request that cannot fit before queueing any of it (a race can still fill the queue mid-request;
        // then the inputs already queued are answered and their answers dropped: rare, and cheaper than a cancel path)
        int pending = model.scheduler().pending();
        if (pending + encodings.size() > capacity) {
            throw new ApiError(429, "the queue is full (" + pending + " of " + capacity + " inputs waiting, this request has "
                    + encodings.size() + "); retry later", "1");
        }
        @SuppressWarnings("unchecked")
        CompletableFuture<Prediction>[] futures = new CompletableFuture[encodings.size()];
        for (int i = 0; i < futures.length; i++) {
            try {
                futures[i] = model.scheduler().submit(encodings.get(i), deadlineNanos);
            } catch (QueueFullException e) {
                throw new ApiError(429, e.getMessage(), "1");
            } catch (IllegalStateException e) {
                throw new ApiError(503, "the server is shutting down: " + e.getMessage(), "1");
            }
        }
        long budgetNanos = Math.max(0, deadlineNanos - System.nanoTime()) + TimeUnit.MILLISECONDS.toNanos(DEADLINE_GRACE_MS);
        return CompletableFuture.allOf(futures)
                .orTimeout(budgetNanos, TimeUnit.NANOSECONDS)
                .handle((ignored, err) -> {
                    if (err != null) throw translate(err);
                    Prediction[] out = new Prediction[futures.length];
                    for (int i = 0; i < out.length; i++) out[i] = futures[i].join();
                    return out;
                });
    }

    private static String checkLength(String text, int maxChars, boolean truncate, String where) {
        int chars = text.codePointCount(0, text.length());
        if (chars <= maxChars) return text;
        if (!truncate) {
            throw ApiError.badRequest(where + ": the text has " + chars + " characters; at most " + maxChars
                    + " are accepted (ask for \"truncate\": true to cut it)");
        }
        // the tokenizer truncates to the model's token limit anyway; cutting characters first bounds its work
        return text.substring(0, text.offsetByCodePoints(0, maxChars));
    }

    /** The scheduler's failure as the HTTP error the client gets. */
    static ApiError translate(Throwable err) {
        Throwable t = err;
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) t = t.getCause();
        if (t instanceof ApiError a) return a;
        if (t instanceof DeadlineExceededException || t instanceof TimeoutException) {
            return new ApiError(504, "the request passed its deadline before it was answered"
                    + (t.getMessage() != null ? ": " + t.getMessage() : "") + " (set a longer one with the "
                    + RequestBodies.DEADLINE_HEADER + " header)");
        }
        if (t instanceof QueueFullException q) return new ApiError(429, q.getMessage(), "1");
        return new ApiError(500, "inference failed: " + t);
    }
}
