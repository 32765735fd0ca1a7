package dev.offramp.spark;

import dev.offramp.api.BatchRunner;
import dev.offramp.api.InvalidInputException;
import dev.offramp.api.Offramp;
import dev.offramp.api.Prediction;
import dev.offramp.data.TsvTaskSpec;
import dev.offramp.kernels.Parallel;
import dev.offramp.tokenizer.Encoding;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * Scores a window of rows as one Spark partition scores them: each text is cleaned and encoded, and a text that
 * cannot be (null, empty, over the token limit without truncation) becomes an error for its row instead of an
 * exception; the good ones are sorted by token count (so a batch holds inputs of similar length: less padding for
 * ONNX Runtime, less ragged work for Offramp), run {@code batchSize} at a time through a runner of the executor's
 * model, and put back in row order. No Spark in here, so the single-JVM benchmark runs exactly this code.
 */
public final class BatchScorer {
    /** How many engine batches one window holds: enough rows to sort by length, few enough to stream a partition. */
    public static final int WINDOW_BATCHES = 8;

    /** What one row got: a prediction, or (prediction null) the reason it has none. */
    public record Scored(Prediction prediction, String error) {
        static Scored error(String message) {
            return new Scored(null, message);
        }
    }

    private final LoadedModel model;
    private final UnaryOperator<String> cleaner;
    private final boolean truncate;
    private final int batchSize;

    BatchScorer(LoadedModel model, ScoringConfig c) {
        this.model = model;
        this.cleaner = TsvTaskSpec.cleaner(c.textCleaning());
        this.truncate = c.truncate();
        this.batchSize = c.batchSize();
    }

    /** A scorer on this JVM's copy of the configuration's model (loaded on first use). */
    public static BatchScorer forConfig(ScoringConfig c) {
        return new BatchScorer(ExecutorModels.get(c), c);
    }

    /** Rows per window: {@link #WINDOW_BATCHES} batches. */
    public int windowRows() {
        return batchSize * WINDOW_BATCHES;
    }

    public Offramp model() {
        return model.offramp;
    }

    /**
     * One result per row, in row order.
     *
     * @param texts the rows' texts (null allowed: an error for that row)
     * @param pairs the rows' second texts for a pair task, or null for single texts
     */
    public Scored[] score(List<String> texts, List<String> pairs) {
        int n = texts.size();
        if (pairs != null && pairs.size() != n) throw new IllegalArgumentException(n + " texts but " + pairs.size() + " second texts");
        Scored[] out = new Scored[n];
        Encoding[] enc = new Encoding[n];
        List<Integer> good = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            String error = encode(texts.get(i), pairs == null ? null : pairs.get(i), enc, i, pairs != null);
            if (error == null) good.add(i);
            else out[i] = Scored.error(error);
        }
        good.sort(Comparator.comparingInt(i -> enc[i].length()));  // stable: equal lengths keep row order
        BatchRunner runner = model.borrow();
        try {
            for (int s = 0; s < good.size(); s += batchSize) {
                List<Integer> idx = good.subList(s, Math.min(good.size(), s + batchSize));
                List<Encoding> batch = new ArrayList<>(idx.size());
                for (int i : idx) batch.add(enc[i]);
                Prediction[] p = run(runner, batch);
                for (int j = 0; j < p.length; j++) out[idx.get(j)] = new Scored(p[j], null);
            }
        } finally {
            model.release(runner);  // a runner that failed mid-batch is reset by its next run
        }
        return out;
    }

    /**
     * One batch. While as many tasks score at once as the engine has threads (an executor's task slots full: each
     * task has a core), the batch runs on this thread alone: the engine's pool would add its worker to threads that
     * already fill the cores, and the oversubscribed cores cost more than the pool gains. A task scoring alone (the
     * single JVM run, the last partitions of a job) uses the pool.
     */
    private Prediction[] run(BatchRunner runner, List<Encoding> batch) {
        if (model.runnersInUse() < Parallel.threads()) return runner.run(batch);
        return Parallel.onThisThread(() -> runner.run(batch));
    }

    /** Encodes row i into enc[i]; returns null, or the reason the row cannot be scored. */
    private String encode(String text, String pair, Encoding[] enc, int i, boolean pairTask) {
        // a CSV/TSV reader gives null for an empty field too
        if (text == null) return pairTask ? "no first text (null or an empty field)" : "no text (null or an empty field)";
        if (pairTask && pair == null) return "no second text (null or an empty field)";
        try {
            enc[i] = model.offramp.encode(cleaner.apply(text), pair == null ? null : cleaner.apply(pair), truncate);
            return null;
        } catch (InvalidInputException e) {
            return e.reason() == InvalidInputException.Reason.TOO_LONG
                    ? e.getMessage() + " (not truncated: set truncate to cut long texts)" : e.getMessage();
        } catch (RuntimeException e) {
            // whatever else a text can trip in the tokenizer stays that row's problem, not the job's
            return "could not encode the text: " + e;
        }
    }
}
