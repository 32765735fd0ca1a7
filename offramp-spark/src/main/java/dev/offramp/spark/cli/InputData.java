package dev.offramp.spark.cli;

import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Locale;

/**
 * Reads the rows to score: TSV (a header row, tab-separated, no quoting: the project's data layout), CSV (a header
 * row, RFC 4180 quoting), JSON lines or Parquet, by {@code --format} or the file name's extension; a folder is read
 * as a whole (Spark's own output folders too). Every column is kept; text columns stay strings.
 */
final class InputData {
    static final List<String> FORMATS = List.of("tsv", "csv", "json", "parquet");

    private InputData() {}

    /**
     * The input in at least {@code partitions} partitions: files are split that finely where they can be (text
     * formats), and a file Spark cannot split that far (a one-row-group Parquet file, a small file) is repartitioned.
     */
    static Dataset<Row> read(SparkSession spark, String path, String format, int partitions) {
        String f = format != null ? format.toLowerCase(Locale.ROOT) : inferFormat(spark, path);
        if (!FORMATS.contains(f)) throw new IllegalArgumentException("unknown --format '" + format + "'; known: " + FORMATS);
        // split files into about `partitions` pieces: Spark's split size is max(openCost, bytes / minPartitionNum)
        spark.conf().set("spark.sql.files.minPartitionNum", Integer.toString(partitions));
        spark.conf().set("spark.sql.files.openCostInBytes", "65536");
        Dataset<Row> df = switch (f) {
            case "tsv" -> spark.read().option("header", "true").option("sep", "\t").option("quote", "")
                    .option("mode", "PERMISSIVE").csv(path);
            case "csv" -> spark.read().option("header", "true").option("escape", "\"").csv(path);  // RFC 4180: "" inside quotes
            case "json" -> spark.read().json(path);
            default -> spark.read().parquet(path);
        };
        return df.rdd().getNumPartitions() < partitions ? df.repartition(partitions) : df;
    }

    /** tsv/csv/json/parquet from the path's extension, or from the first data file's in a folder. */
    static String inferFormat(SparkSession spark, String path) {
        String name = path;
        try {
            Path p = new Path(path);
            FileSystem fs = p.getFileSystem(spark.sparkContext().hadoopConfiguration());
            if (!fs.exists(p)) throw new IllegalArgumentException("input " + path + " does not exist");
            if (fs.getFileStatus(p).isDirectory()) {
                name = null;
                for (FileStatus s : fs.listStatus(p)) {
                    String n = s.getPath().getName();
                    if (s.isFile() && !n.startsWith("_") && !n.startsWith(".") && extension(n) != null) {
                        name = n;
                        break;
                    }
                }
                if (name == null) throw new IllegalArgumentException("input folder " + path + " holds no .tsv, .csv, .json(l) or .parquet file; name the format with --format");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read input " + path + ": " + e.getMessage(), e);
        }
        String f = extension(name);
        if (f == null) throw new IllegalArgumentException("cannot tell the format of " + path + " from its name; give --format " + String.join("|", FORMATS));
        return f;
    }

    private static String extension(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        for (String compressed : List.of(".gz", ".bz2", ".snappy", ".zst")) if (n.endsWith(compressed)) n = n.substring(0, n.length() - compressed.length());
        if (n.endsWith(".tsv") || n.endsWith(".tab")) return "tsv";
        if (n.endsWith(".csv")) return "csv";
        if (n.endsWith(".json") || n.endsWith(".jsonl") || n.endsWith(".ndjson")) return "json";
        if (n.endsWith(".parquet")) return "parquet";
        return null;
    }
}
