package dev.offramp.spark.cli;

import dev.offramp.spark.EarlyExitClassifier;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.desc;

/**
 * ./offramp spark-score: a corpus through the Spark stage, written as Parquet (the input's columns plus the
 * predictions), with a progress bar; ends with {@code summary: rows=... rows_per_s=... mean_exit_layer=...
 * layer_speedup=... errors=...}.
 */
@Command(name = "spark-score", mixinStandardHelpOptions = true,
        description = "Score a TSV/CSV/JSON-lines/Parquet corpus on Apache Spark with early exit; write Parquet.")
final class SparkScoreCommand implements Callable<Integer> {
    @Mixin
    StageOptions o;

    @Option(names = "--output", required = true, description = "the Parquet folder to write (any Hadoop path)")
    String output;

    @Option(names = "--overwrite", description = "replace --output when it exists")
    boolean overwrite;

    @Option(names = "--engine", defaultValue = "offramp", description = "offramp | onnxruntime (full depth, to compare) (default: ${DEFAULT-VALUE})")
    String engine;

    @Option(names = "--prefix", defaultValue = "offramp", description = "the output columns' prefix: <prefix>_label, ... (default: ${DEFAULT-VALUE})")
    String prefix;

    @Override
    public Integer call() throws Exception {
        ModelFacts facts = ModelFacts.read(o.model);
        try (Sessions.Session s = Sessions.open(o.master, "offramp spark-score")) {
            SparkSession spark = s.spark();
            org.apache.hadoop.fs.Path out = new org.apache.hadoop.fs.Path(output);
            FileSystem fs = out.getFileSystem(spark.sparkContext().hadoopConfiguration());
            if (fs.exists(out) && !overwrite) throw new IllegalArgumentException("output " + output + " exists; give --overwrite to replace it");
            int partitions = o.partitions(spark);
            Dataset<Row> in = InputData.read(spark, o.input, o.format, partitions);
            o.checkColumns(in);
            EarlyExitClassifier stage = o.classifier(spark).setEngine(engine).setOutputCol(prefix);
            System.err.printf(Locale.ROOT, "offramp: scoring %s (%d partitions, master %s) with %s, task %s, %d layers: engine %s,"
                            + " policy %s at max drop %s, batch %d%s%n", o.input, in.rdd().getNumPartitions(), spark.sparkContext().master(),
                    o.model, facts.task(), facts.layers(), stage.getEngine(), stage.getPolicy(), stage.getMaxDrop(), stage.getBatchSize(),
                    stage.getTruncate() ? ", truncating long texts" : "");
            long t0 = System.nanoTime();
            JobProgress.run(spark, "spark-score", () -> {
                stage.transform(in).write().mode(overwrite ? SaveMode.Overwrite : SaveMode.ErrorIfExists).parquet(output);
                return null;
            });
            double seconds = (System.nanoTime() - t0) / 1e9;
            Dataset<Row> written = spark.read().parquet(output);
            ScoreStats st = ScoreStats.of(written, stage, o.labelColumn, facts.labels());
            System.out.printf(Locale.ROOT, "wrote %s: %d rows in %.1f s, %d with an error%n", output, st.rows(), seconds, st.errors());
            if (st.errors() > 0) printErrors(written, stage);
            if (o.labelColumn != null) {
                System.out.printf(Locale.ROOT, "accuracy %.4f on %d labelled rows%n", st.accuracy(), st.labelled());
            }
            System.out.printf(Locale.ROOT, "summary: rows=%d rows_per_s=%.2f mean_exit_layer=%.3f layer_speedup=%.3f errors=%d%n",
                    st.rows(), st.rows() / seconds, st.meanExitLayer(), facts.layers() / st.meanExitLayer(), st.errors());
            return 0;
        }
    }

    /** The most frequent error messages with their counts. */
    static void printErrors(Dataset<Row> scored, EarlyExitClassifier stage) {
        String e = stage.outputColumn("error");
        List<Row> top = scored.where(col(e).isNotNull()).groupBy(e).count().orderBy(desc("count")).limit(5).collectAsList();
        for (Row r : top) System.out.printf(Locale.ROOT, "  %6d x %s%n", r.getLong(1), r.getString(0));
    }
}
