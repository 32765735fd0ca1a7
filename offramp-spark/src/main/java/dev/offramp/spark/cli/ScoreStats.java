package dev.offramp.spark.cli;

import dev.offramp.spark.EarlyExitClassifier;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

import java.util.List;

import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.array_position;
import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

/**
 * What a scoring run produced, in one aggregation over the scored rows.
 *
 * @param rows          every row, errors included
 * @param errors        rows with an error instead of a prediction
 * @param meanExitLayer the mean exit layer of the scored rows (NaN when none was scored)
 * @param labelled      scored rows with a gold label (0 without a label column)
 * @param correct       of those, how many got the gold label
 */
record ScoreStats(long rows, long errors, double meanExitLayer, long labelled, long correct) {

    double accuracy() {
        return labelled == 0 ? Double.NaN : (double) correct / labelled;
    }

    /**
     * Runs the aggregation (a Spark action). A gold value counts as correct when it is the predicted label's name or
     * its index (IMDB's 0/1 against labels negative/positive).
     *
     * @param gold the gold label column, or null
     */
    static ScoreStats of(Dataset<Row> scored, EarlyExitClassifier stage, String gold, List<String> labels) {
        Column error = col(stage.outputColumn("error"));
        Column label = col(stage.outputColumn("label"));
        Column ok = error.isNull();
        Column labelled = lit(0), correct = lit(0);
        if (gold != null) {
            Column g = col(gold).cast("string");
            Column index = array_position(array(labels.stream().map(l -> lit(l)).toArray(Column[]::new)), label).minus(1).cast("string");
            labelled = when(ok.and(g.isNotNull()), 1).otherwise(0);
            correct = when(ok.and(g.equalTo(label).or(g.equalTo(index))), 1).otherwise(0);
        }
        Row r = scored.agg(count(lit(1)), sum(when(ok, 0).otherwise(1)), avg(col(stage.outputColumn("exit_layer"))),
                sum(labelled), sum(correct)).first();
        return new ScoreStats(r.getLong(0), r.isNullAt(1) ? 0 : r.getLong(1), r.isNullAt(2) ? Double.NaN : r.getDouble(2),
                r.isNullAt(3) ? 0 : r.getLong(3), r.isNullAt(4) ? 0 : r.getLong(4));
    }
}
