package dev.offramp.api;

/**
 * A text the model cannot take as given: empty or whitespace only, or longer than the model's token limit when
 * truncation is off. The message names the problem (and, for a long text, its token count against the limit),
 * so a server can pass it to its client as is (HTTP 400); {@link #reason()} tells the two apart for a hint.
 */
public final class InvalidInputException extends IllegalArgumentException {
    /** What is wrong with the text. */
    public enum Reason { EMPTY, TOO_LONG }

    private final Reason reason;

    public InvalidInputException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
