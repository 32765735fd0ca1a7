package dev.offramp.serving;

/** An input was not answered before its deadline and was dropped (HTTP 504). */
public final class DeadlineExceededException extends RuntimeException {
    public DeadlineExceededException(String message) {
        super(message);
    }
}
