package dev.offramp.tokenizer;

/**
 * An input has more tokens than the model accepts and truncation was not asked for. A type of its own so callers
 * can tell "too long" (which truncation would fix) from other bad input without reading the message.
 */
public final class InputTooLongException extends IllegalArgumentException {
    private final int tokens, limit;

    public InputTooLongException(int tokens, int limit) {
        super("input has " + tokens + " tokens, the model accepts at most " + limit);
        this.tokens = tokens;
        this.limit = limit;
    }

    public int tokens() { return tokens; }

    public int limit() { return limit; }

    /** True when {@code t} or one of its causes is an InputTooLongException. */
    public static boolean isCauseOf(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) if (c instanceof InputTooLongException) return true;
        return false;
    }
}
