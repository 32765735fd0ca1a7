package dev.offramp.serving;

/** The scheduler holds its capacity of inputs; the caller should retry later (HTTP 429). */
public final class QueueFullException extends RuntimeException {
    public QueueFullException(int capacity) {
        super("the queue is full (" + capacity + " inputs waiting); retry later");
    }
}
