package dev.offramp.spark.cli;

import dev.offramp.spark.EarlyExitClassifier;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Arrays;

/** The options spark-score and bench spark share: the model, the input's columns, the stage's settings, the session. */
final class StageOptions {
    @Option(names = "--model", required = true, description = "the model folder (./offramp train, then ./offramp eval for its calibration)")
    Path model;

    @Option(names = "--input", required = true, description = "a TSV, CSV, JSON-lines or Parquet file or folder (any Hadoop path)")
    String input;

    @Option(names = "--format", description = "tsv | csv | json | parquet (default: from the file name)")
    String format;

    @Option(names = "--text-column", defaultValue = "text", description = "the text column (default: ${DEFAULT-VALUE})")
    String textColumn;

    @Option(names = "--pair-column", description = "the second text's column, for a sentence-pair model")
    String pairColumn;

    @Option(names = "--label-column", description = "a gold label column (a label name or index): accuracy is reported")
    String labelColumn;

    @Option(names = "--policy", defaultValue = "beem-a", description = "the calibrated exit criterion, or full (default: ${DEFAULT-VALUE})")
    String policy;

    @Option(names = "--max-drop", defaultValue = "0.5", description = "the calibration target it was calibrated for (default: ${DEFAULT-VALUE})")
    double maxDrop;

    @Option(names = "--batch", defaultValue = "32", description = "rows per engine batch (default: ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--truncate", description = "cut texts over the model's token limit (else they are error rows)")
    boolean truncate;

    @Option(names = "--clean", defaultValue = "none", description = "none | html: the text cleaning the model was trained with (default: ${DEFAULT-VALUE})")
    String clean;

    @Option(names = "--partitions", defaultValue = "0", description = "partitions to score in (default: 8 per core of the session)")
    int partitions;

    @Option(names = "--master", description = "Spark master (default: spark-submit's, else " + Sessions.DEFAULT_MASTER + ")")
    String master;

    @Option(names = "--ship-model", description = "send the model folder with the job (SparkContext.addFile) even when"
            + " the master is local (default: only for a cluster master)")
    boolean shipModel;

    int partitions(SparkSession spark) {
        return partitions > 0 ? partitions : 8 * spark.sparkContext().defaultParallelism();
    }

    /** The stage these options describe (engine offramp, output prefix "offramp"); ships the model when asked or needed. */
    EarlyExitClassifier classifier(SparkSession spark) {
        String path = shipModel || !Sessions.local(spark) ? EarlyExitClassifier.shipModel(spark, model)
                : model.toAbsolutePath().normalize().toString();
        EarlyExitClassifier c = new EarlyExitClassifier().setModelPath(path).setInputCol(textColumn).setPolicy(policy)
                .setMaxDrop(maxDrop).setBatchSize(batch).setTruncate(truncate).setTextCleaning(clean);
        if (pairColumn != null) c.setPairCol(pairColumn);
        return c;
    }

    /** Fails naming the column when the input lacks one the options name. */
    void checkColumns(Dataset<Row> in) {
        for (String c : new String[]{textColumn, pairColumn, labelColumn}) {
            if (c != null && !Arrays.asList(in.columns()).contains(c)) {
                throw new IllegalArgumentException("input " + input + " has no column '" + c + "'; its columns: " + Arrays.toString(in.columns()));
            }
        }
    }
}
