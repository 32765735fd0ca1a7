package dev.offramp.spark.cli;

import dev.offramp.api.Offramp;
import dev.offramp.api.Prediction;
import dev.offramp.spark.BatchScorer;
import dev.offramp.spark.EarlyExitClassifier;
import dev.offramp.spark.Engine;
import dev.offramp.spark.ScoringConfig;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * ./offramp bench spark: the same corpus, in one run, through the Spark stage with early exit, the same job at full
 * depth, the same job with ONNX Runtime at full depth as the stage's engine, and the library in this JVM without
 * Spark (the same batching code, {@link BatchScorer}, on one thread). The input is read and cached first, so every
 * Spark run is the stage's work and Spark's own (tasks, rows in and out, the aggregation that counts them); the
 * single-JVM run scores the same rows from a list. Each engine is warmed up on the first rows before anything is timed.
 */
@Command(name = "spark", mixinStandardHelpOptions = true,
        description = "Spark early exit vs the same job at full depth, with ONNX Runtime, and without Spark; rows/s.")
final class BenchSparkCommand implements Callable<Integer> {
    @Mixin
    StageOptions o;

    @Option(names = "--limit", defaultValue = "0", description = "score the first N rows only (0 = all)")
    int limit;

    @Option(names = "--warmup-rows", defaultValue = "256", description = "rows each engine runs before the timed runs (default: ${DEFAULT-VALUE})")
    int warmupRows;

    @Option(names = "--no-onnxruntime", description = "skip the ONNX Runtime run (a backbone without an ONNX file)")
    boolean noOrt;

    /** One timed run. */
    record Run(String name, ScoreStats stats, double seconds) {
        double rowsPerSecond() {
            return stats == null ? Double.NaN : stats.rows() / seconds;
        }
    }

    @Override
    public Integer call() throws Exception {
        ModelFacts facts = ModelFacts.read(o.model);
        try (Sessions.Session s = Sessions.open(o.master, "offramp bench spark")) {
            SparkSession spark = s.spark();
            int partitions = o.partitions(spark);
            Dataset<Row> read = InputData.read(spark, o.input, o.format, partitions);
            o.checkColumns(read);
            if (limit > 0) read = read.limit(limit).repartition(partitions);
            Dataset<Row> in = read.cache();
            long n = in.count();
            System.err.printf(Locale.ROOT, "offramp: %d rows of %s cached in %d partitions (master %s); model %s, task %s, %d layers%n",
                    n, o.input, in.rdd().getNumPartitions(), spark.sparkContext().master(), o.model, facts.task(), facts.layers());

            EarlyExitClassifier early = o.classifier(spark);
            EarlyExitClassifier full = early.copy(new org.apache.spark.ml.param.ParamMap()).setPolicy(Offramp.FULL_DEPTH);
            EarlyExitClassifier ort = noOrt ? null : full.copy(new org.apache.spark.ml.param.ParamMap()).setEngine(Engine.ONNXRUNTIME.optionName);
            List<EarlyExitClassifier> stages = new ArrayList<>(List.of(early, full));
            if (ort != null) stages.add(ort);

            Dataset<Row> warm = in.limit(Math.max(1, warmupRows));
            for (EarlyExitClassifier c : stages) ScoreStats.of(c.transform(warm), c, o.labelColumn, facts.labels());
            List<Row> rows = in.select(columns()).collectAsList();
            ScoringConfig single = new ScoringConfig(o.model.toAbsolutePath().normalize().toString(), o.policy, o.maxDrop,
                    Engine.OFFRAMP, o.truncate, o.batch, o.clean);
            singleJvm(single, rows.subList(0, Math.min(rows.size(), Math.max(1, warmupRows))), facts);

            List<Run> runs = new ArrayList<>();
            runs.add(spark(spark, "spark early exit", early, in, facts));
            runs.add(spark(spark, "spark full depth", full, in, facts));
            runs.add(ort == null ? new Run("spark onnxruntime", null, Double.NaN) : spark(spark, "spark onnxruntime", ort, in, facts));
            long t0 = System.nanoTime();
            ScoreStats one = singleJvm(single, rows, facts);
            runs.add(new Run("single JVM early exit", one, (System.nanoTime() - t0) / 1e9));

            System.out.printf(Locale.ROOT, "%-24s %8s %9s %9s %10s %9s %7s%n", "run", "rows", "seconds", "rows/s", "mean exit", "accuracy", "errors");
            for (Run r : runs) {
                if (r.stats() == null) {
                    System.out.printf(Locale.ROOT, "%-24s (skipped)%n", r.name());
                    continue;
                }
                System.out.printf(Locale.ROOT, "%-24s %8d %9.1f %9.2f %10.3f %9s %7d%n", r.name(), r.stats().rows(), r.seconds(),
                        r.rowsPerSecond(), r.stats().meanExitLayer(),
                        o.labelColumn == null ? "-" : String.format(Locale.ROOT, "%.4f", r.stats().accuracy()), r.stats().errors());
            }
            Run e = runs.get(0), f = runs.get(1), x = runs.get(2), j = runs.get(3);
            System.out.printf(Locale.ROOT, "layer speed-up %.3fx (mean exit layer %.3f of %d)%n", facts.layers() / e.stats().meanExitLayer(),
                    e.stats().meanExitLayer(), facts.layers());
            System.out.printf(Locale.ROOT, "early exit vs full depth in Spark: %.2fx rows/s%n", e.rowsPerSecond() / f.rowsPerSecond());
            if (x.stats() != null) {
                System.out.printf(Locale.ROOT, "early exit vs ONNX Runtime in Spark: %.2fx rows/s (issue 9 target: >= 1.5x)%n",
                        e.rowsPerSecond() / x.rowsPerSecond());
            }
            if (o.labelColumn != null) {
                System.out.printf(Locale.ROOT, "accuracy: early exit %.2f %%, full depth %.2f %%, drop %.2f points (target: <= 0.5)%n",
                        100 * e.stats().accuracy(), 100 * f.stats().accuracy(), 100 * (f.stats().accuracy() - e.stats().accuracy()));
            }
            System.out.printf(Locale.ROOT, "Spark's overhead over the single JVM: %.1f %% (target: <= 15 %%)%n",
                    100 * (j.rowsPerSecond() / e.rowsPerSecond() - 1));
            System.out.printf(Locale.ROOT, "summary: rows=%d rows_per_s=%.2f full_depth_rows_per_s=%.2f onnxruntime_rows_per_s=%.2f"
                            + " single_jvm_rows_per_s=%.2f errors=%d%n", e.stats().rows(), e.rowsPerSecond(), f.rowsPerSecond(),
                    x.rowsPerSecond(), j.rowsPerSecond(), e.stats().errors());
            in.unpersist();
            return 0;
        }
    }

    private org.apache.spark.sql.Column[] columns() {
        List<org.apache.spark.sql.Column> c = new ArrayList<>();
        c.add(org.apache.spark.sql.functions.col(o.textColumn));
        c.add(o.pairColumn == null ? org.apache.spark.sql.functions.lit(null).cast("string")
                : org.apache.spark.sql.functions.col(o.pairColumn));
        c.add(o.labelColumn == null ? org.apache.spark.sql.functions.lit(null).cast("string")
                : org.apache.spark.sql.functions.col(o.labelColumn).cast("string"));
        return c.toArray(org.apache.spark.sql.Column[]::new);
    }

    private Run spark(SparkSession spark, String name, EarlyExitClassifier stage, Dataset<Row> in, ModelFacts facts) throws Exception {
        long t0 = System.nanoTime();
        ScoreStats st = JobProgress.run(spark, name,
                () -> ScoreStats.of(stage.transform(in), stage, o.labelColumn, facts.labels()));
        return new Run(name, st, (System.nanoTime() - t0) / 1e9);
    }

    /** The library without Spark: rows (text, pair, gold) through the same window-and-batch code, on this thread. */
    private ScoreStats singleJvm(ScoringConfig config, List<Row> rows, ModelFacts facts) {
        BatchScorer scorer = BatchScorer.forConfig(config);
        long errors = 0, labelled = 0, correct = 0, exitSum = 0;
        for (int s = 0; s < rows.size(); s += scorer.windowRows()) {
            List<Row> window = rows.subList(s, Math.min(rows.size(), s + scorer.windowRows()));
            List<String> texts = new ArrayList<>(window.size()), pairs = o.pairColumn == null ? null : new ArrayList<>(window.size());
            for (Row r : window) {
                texts.add(r.getString(0));
                if (pairs != null) pairs.add(r.getString(1));
            }
            BatchScorer.Scored[] scored = scorer.score(texts, pairs);
            for (int i = 0; i < scored.length; i++) {
                Prediction p = scored[i].prediction();
                if (p == null) {
                    errors++;
                    continue;
                }
                exitSum += p.exitLayer();
                String gold = window.get(i).getString(2);
                if (gold != null) {
                    labelled++;
                    if (gold.equals(p.label()) || gold.equals(Integer.toString(p.labelIndex()))) correct++;
                }
            }
        }
        long scoredRows = rows.size() - errors;
        return new ScoreStats(rows.size(), errors, scoredRows == 0 ? Double.NaN : (double) exitSum / scoredRows, labelled, correct);
    }
}
