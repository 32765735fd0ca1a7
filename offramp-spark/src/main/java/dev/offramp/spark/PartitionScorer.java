package dev.offramp.spark;

import dev.offramp.api.Prediction;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * What one task runs over its partition: rows are pulled a window at a time (so a partition streams, whatever its
 * size), scored by the executor's shared model, and given back in order with the five output columns appended.
 */
final class PartitionScorer implements MapPartitionsFunction<Row, Row> {
    private final ScoringConfig config;
    private final int textColumn, pairColumn;  // pairColumn -1: single texts

    PartitionScorer(ScoringConfig config, int textColumn, int pairColumn) {
        this.config = config;
        this.textColumn = textColumn;
        this.pairColumn = pairColumn;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> input) {
        return new Iterator<>() {
            private BatchScorer scorer;  // on the first row: an empty partition loads nothing
            private final List<Row> window = new ArrayList<>();
            private BatchScorer.Scored[] scored = new BatchScorer.Scored[0];
            private int next;

            @Override
            public boolean hasNext() {
                if (next < window.size()) return true;
                fill();
                return !window.isEmpty();
            }

            @Override
            public Row next() {
                if (!hasNext()) throw new NoSuchElementException();
                Row row = window.get(next);
                return withOutputs(row, scored[next++]);
            }

            private void fill() {
                window.clear();
                next = 0;
                if (!input.hasNext()) return;
                if (scorer == null) scorer = BatchScorer.forConfig(config);
                List<String> texts = new ArrayList<>(), pairs = pairColumn < 0 ? null : new ArrayList<>();
                while (window.size() < scorer.windowRows() && input.hasNext()) {
                    Row r = input.next();
                    window.add(r);
                    texts.add(r.isNullAt(textColumn) ? null : r.getString(textColumn));
                    if (pairs != null) pairs.add(r.isNullAt(pairColumn) ? null : r.getString(pairColumn));
                }
                scored = scorer.score(texts, pairs);
            }
        };
    }

    /** The row's own values, then label, probability, exit layer, confidence, error. */
    static Row withOutputs(Row row, BatchScorer.Scored s) {
        int w = row.length();
        Object[] v = new Object[w + EarlyExitClassifier.OUTPUTS.size()];
        for (int i = 0; i < w; i++) v[i] = row.get(i);
        Prediction p = s.prediction();
        if (p != null) {
            double[] probs = new double[p.probabilities().length];
            for (int k = 0; k < probs.length; k++) probs[k] = p.probabilities()[k];
            v[w] = p.label();
            v[w + 1] = Vectors.dense(probs);
            v[w + 2] = p.exitLayer();
            v[w + 3] = (double) p.confidence();
        }
        v[w + 4] = s.error();
        return RowFactory.create(v);
    }
}
